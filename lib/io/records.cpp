#include "io/records.hpp"

#include "base/codec.hpp"
#include "base/error.hpp"
#include "base/numbers.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>

namespace digits {

using json = nlohmann::ordered_json;

std::string record_text(const std::vector<DigitRecord>& digits) {
  std::string text;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const DigitRecord& d = digits[i];
    if (i > 0 && d.line != digits[i - 1].line) text += '\n';
    text += d.uncertain || !d.digit ? '?' : static_cast<char>('0' + *d.digit);
  }
  return text;
}

double round_probability(double p) { return rounded(p, 1e4); }

json alternatives_json(const std::vector<Alternative>& alternatives, std::size_t most) {
  json out = json::array();
  for (std::size_t i = 0; i < alternatives.size() && i < most; ++i)
    out.push_back({{"digit", alternatives[i].digit}, {"probability", round_probability(alternatives[i].probability)}});
  return out;
}

json box_json(const Box& b) { return json::array({b.x, b.y, b.w, b.h}); }

namespace {

// Field access that says what is wrong and where, rather than nlohmann's generic type_error.
template <typename T>
T field(const json& object, const char* key, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end()) throw Error(fmt::format("{}: missing field \"{}\"", where, key));
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // nlohmann converts any number to an int with a plain cast: 1e300 would be undefined
    // behaviour, 2.5 silently 2. Only a whole number that fits is taken.
    std::optional<T> value;
    if (it->is_number_unsigned()) {
      if (const auto u = it->template get<std::uint64_t>(); u <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        value = static_cast<T>(u);
    } else if (it->is_number_integer()) {
      const auto i = it->template get<std::int64_t>();
      if (i >= std::numeric_limits<T>::min() && i <= std::numeric_limits<T>::max()) value = static_cast<T>(i);
    }
    if (!value) throw Error(fmt::format("{}: field \"{}\" must be a whole number in range, not {}", where, key, it->dump()));
    return *value;
  } else {
    try {
      return it->template get<T>();
    } catch (const json::exception&) {
      throw Error(fmt::format("{}: field \"{}\" has the wrong type ({})", where, key, it->type_name()));
    }
  }
}

Box box_from_json(const json& j, std::string_view where) {
  if (!j.is_array() || j.size() != 4 || !std::ranges::all_of(j, [](const json& v) { return v.is_number_integer(); }))
    throw Error(fmt::format("{}: \"box\" must be [x, y, w, h] in whole pixels", where));
  return {j[0].get<int>(), j[1].get<int>(), j[2].get<int>(), j[3].get<int>()};
}

Crop pixels_from_base64(const std::string& text, std::string_view where) {
  std::string bytes;
  try {
    bytes = base64_decode(text);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: \"pixels\": {}", where, e.what()));
  }
  if (bytes.size() != crop_pixels)
    throw Error(fmt::format("{}: \"pixels\" holds {} bytes; a 28x28 crop has {}", where, bytes.size(), crop_pixels));
  Crop crop{};
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(crop.data()));
  return crop;
}

// Probabilities are in [0, 1] (docs/FORMATS.md). Anything else could not be written back: 1e305
// rounds to infinity, which JSON writes as null (found by fuzzing the round trip).
double probability_field(const json& object, std::string_view where) {
  const auto p = field<double>(object, "probability", where);
  if (!(p >= 0 && p <= 1)) throw Error(fmt::format("{}: \"probability\" {} is not between 0 and 1", where, p));
  return p;
}

DigitRecord digit_from_json(const json& j, std::string_view where) {
  if (!j.is_object()) throw Error(fmt::format("{}: each digit must be an object", where));
  DigitRecord d;
  d.box = box_from_json(j.contains("box") ? j["box"] : json(), where);
  d.line = field<int>(j, "line", where);
  // Reading a digit needs its crop; a classified record printed without one cannot be read again.
  if (!j.contains("pixels"))
    throw Error(fmt::format("{}: missing field \"pixels\" (the 28x28 crop; digits-classify keeps it only with --pixels)", where));
  d.pixels = pixels_from_base64(field<std::string>(j, "pixels", where), where);
  if (j.contains("digit")) {
    d.digit = field<int>(j, "digit", where);
    if (*d.digit < 0 || *d.digit > 9) throw Error(fmt::format("{}: \"digit\" {} is not 0-9", where, *d.digit));
  }
  if (j.contains("probability")) d.probability = probability_field(j, where);
  if (j.contains("alternatives")) {
    for (const auto& a : j["alternatives"]) d.alternatives.push_back({field<int>(a, "digit", where), probability_field(a, where)});
  }
  if (j.contains("uncertain")) d.uncertain = field<bool>(j, "uncertain", where);
  return d;
}

}  // namespace

json to_json(const ImageRecord& r, Pixels pixels) {
  json j{{"image", r.image}};
  if (r.error) {
    j["error"] = *r.error;
    return j;
  }
  j["width"] = r.width;
  j["height"] = r.height;
  json digits = json::array();
  for (const auto& d : r.digits) {
    json dj{{"box", box_json(d.box)}, {"line", d.line}};
    if (pixels == Pixels::keep)
      dj["pixels"] = base64_encode({reinterpret_cast<const char*>(d.pixels.data()), d.pixels.size()});
    if (d.digit) dj["digit"] = *d.digit;
    if (d.probability) dj["probability"] = round_probability(*d.probability);
    if (!d.alternatives.empty()) dj["alternatives"] = alternatives_json(d.alternatives, d.alternatives.size());
    if (d.uncertain) dj["uncertain"] = true;
    digits.push_back(std::move(dj));
  }
  j["digits"] = std::move(digits);
  if (r.text) j["text"] = *r.text;
  return j;
}

ImageRecord image_record_from_json(const json& j) {
  if (!j.is_object()) throw Error("a record must be a JSON object");
  ImageRecord r;
  r.image = field<std::string>(j, "image", "record");
  const std::string where = fmt::format("record for {}", r.image);
  if (j.contains("error")) {
    r.error = field<std::string>(j, "error", where);
    return r;
  }
  r.width = field<int>(j, "width", where);
  r.height = field<int>(j, "height", where);
  const auto it = j.find("digits");
  if (it == j.end() || !it->is_array()) throw Error(fmt::format("{}: \"digits\" must be an array", where));
  for (std::size_t i = 0; i < it->size(); ++i)
    r.digits.push_back(digit_from_json((*it)[i], fmt::format("{}, digit {}", where, i)));
  if (j.contains("text")) r.text = field<std::string>(j, "text", where);
  return r;
}

std::string to_json_line(const ImageRecord& record, Pixels pixels) {
  return to_json(record, pixels).dump(-1, ' ', false, json::error_handler_t::replace);
}

ImageRecord parse_image_record(std::string_view line) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    // A syntax error, or a number past what a double holds (1e600): either way one bad record.
    throw Error(fmt::format("not a JSON record: {}", e.what()));
  }
  return image_record_from_json(j);
}

}  // namespace digits
