// The record reader (lib/records.hpp): each line of the input is one record, as digits-classify
// reads its standard input. A record that parses is written again and read again: the second
// reading must succeed, and writing it must give the same line (the round trip is stable).

#include "fuzz.hpp"

#include "base/error.hpp"
#include "io/records.hpp"

#include <string>

using namespace digits;

namespace {

void round_trip(std::string_view line) {
  ImageRecord first;
  try {
    first = parse_image_record(line);
  } catch (const Error&) {
    return;  // one bad record
  }
  for (const Pixels pixels : {Pixels::keep, Pixels::drop}) {
    const std::string written = to_json_line(first, pixels);
    ImageRecord second;
    try {
      second = parse_image_record(written);
    } catch (const Error& e) {
      // Without its crops a record with digits cannot be read again (by design); anything else
      // we wrote must be.
      if (pixels == Pixels::drop && !first.digits.empty()) continue;
      std::fprintf(stderr, "our own line does not read back: %s\n%s\n", e.what(), written.c_str());
      std::abort();
    }
    FUZZ_CHECK(to_json_line(second, pixels) == written);
    FUZZ_CHECK(second.image == first.image && second.error == first.error && second.text == first.text);
    if (pixels == Pixels::keep) {
      // Probabilities are written to 4 decimals; everything else comes back as it was.
      FUZZ_CHECK(second.digits.size() == first.digits.size());
      for (std::size_t i = 0; i < first.digits.size(); ++i) {
        FUZZ_CHECK(second.digits[i].box == first.digits[i].box && second.digits[i].line == first.digits[i].line);
        FUZZ_CHECK(second.digits[i].pixels == first.digits[i].pixels && second.digits[i].digit == first.digits[i].digit);
      }
      FUZZ_CHECK(parse_image_record(to_json_line(second)) == second);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest = fuzz::bytes_of(data, size);
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    round_trip(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return 0;
}
