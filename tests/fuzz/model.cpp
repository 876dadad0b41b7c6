// The model loader (lib/model.hpp). A file's last 32 bytes are its SHA-256, which no mutation
// keeps right: the fuzzer writes the right one over them, so that mutations reach the header and
// the weights. A model that decodes must build a Recogniser and read a blank crop without a crash
// or an absurd allocation (the test runs with -malloc_limit_mb and -rss_limit_mb).

#include "fuzz.hpp"

#include "base/codec.hpp"
#include "base/error.hpp"
#include "recognise/inference.hpp"
#include "recognise/model.hpp"

#include <string>

using namespace digits;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_opencv();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(fuzz::bytes_of(data, size));
  if (bytes.size() >= 32) {
    const std::string digest = sha256_hex(std::string_view(bytes).substr(0, bytes.size() - 32));
    for (std::size_t i = 0; i < 32; ++i)
      bytes[bytes.size() - 32 + i] = static_cast<char>(std::stoi(digest.substr(2 * i, 2), nullptr, 16));
  }
  Model model;
  try {
    model = decode_model(bytes, "fuzz");
  } catch (const Error&) {
    return 0;
  }
  (void)model.shapes();  // decode_model checked them: must not throw now
  FUZZ_CHECK(model.outputs() == 10 || model.outputs() == 11);
  // What we write of it reads back, and writes the same again.
  const std::string written = encode_model(model);
  FUZZ_CHECK(encode_model(decode_model(written, "written")) == written);
  Recogniser recogniser(model, Recall::none);
  const Crop blank{};
  const Probabilities p = recogniser.probabilities(blank);
  (void)p;
  return 0;
}
