#include "output.hpp"

#include "error.hpp"

#include <fmt/format.h>

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

std::string format_record(const ImageRecord& r, OutputFormat format) {
  switch (format) {
    case OutputFormat::json: return to_json_line(r) + "\n";
    case OutputFormat::text: return r.error ? std::string() : fmt::format("{}\t{}\n", r.image, r.text.value_or(""));
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
