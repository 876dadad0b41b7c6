#pragma once
// The web page's files (web/), compiled into the binary at build time.

#include <span>
#include <string_view>

namespace digits {

struct WebAsset {
  std::string_view path;          // "/index.html", "/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

std::span<const WebAsset> web_assets();

}  // namespace digits
