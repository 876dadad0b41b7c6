#include "tool/output.hpp"

#include "base/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace digits {

OutputFormat parse_output_format(std::string_view name) {
  if (name == "json") return OutputFormat::json;
  if (name == "text") return OutputFormat::text;
  if (name == "csv") return OutputFormat::csv;
  throw UsageError(fmt::format("--format must be json, text or csv, not '{}'", name));
}

std::string csv_header() { return "file,index,line,digit,probability,x,y,w,h\n"; }

std::string csv_field(std::string_view value) {
  if (value.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (const char c : value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string text_field(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (u < 0x20 || u == 0x7F) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out;
}

std::string format_record(const ImageRecord& r, OutputFormat format, Pixels pixels) {
  switch (format) {
    case OutputFormat::json: return to_json_line(r, pixels) + "\n";
    case OutputFormat::text: {
      if (r.error) return {};
      // One row per image keeps `cut`, `paste` and `while read` working: the lines the text
      // separates with "\n" are separated by a space here.
      std::string digits = r.text.value_or("");
      std::ranges::replace(digits, '\n', ' ');
      return fmt::format("{}\t{}\n", text_field(r.image), digits);
    }
    case OutputFormat::csv: {
      if (r.error) return {};
      std::string rows;
      for (std::size_t i = 0; i < r.digits.size(); ++i) {
        const DigitRecord& d = r.digits[i];
        const std::string digit = d.uncertain ? "?" : (d.digit ? std::to_string(*d.digit) : std::string());
        rows += fmt::format("{},{},{},{},{:.4f},{},{},{},{}\n", csv_field(r.image), i, d.line, digit,
                            round_probability(d.probability.value_or(0.0)), d.box.x, d.box.y, d.box.w, d.box.h);
      }
      return rows;
    }
  }
  return {};
}

}  // namespace digits
