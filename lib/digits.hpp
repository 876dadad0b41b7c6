#pragma once
// digits as a library: the one header a program includes (installed as <digits/digits.hpp>).
//
//   digits::Reader reader;                          // the shipped model, or Reader("my.model")
//   const digits::ImageRecord r = reader.read_file("scan.png");
//   std::cout << r.text.value_or("") << '\n';       // "12 345" lines joined by "\n"
//   for (const digits::DigitRecord& d : r.digits)   // reading order, with boxes and probabilities
//     std::cout << *d.digit << ' ' << *d.probability << '\n';
//   std::cout << digits::to_json_line(r, digits::Pixels::drop) << '\n';  // as digits-classify prints it
//
// Errors are digits::Error exceptions with a message (a file that is no picture, a bad model).
// Link with `find_package(digits)` and `target_link_libraries(app PRIVATE digits::digits)`, or
// with `pkg-config --cflags --libs digits`.

#include "base/error.hpp"         // Error, TooLarge
#include "io/records.hpp"         // ImageRecord, DigitRecord, to_json_line, parse_image_record
#include "recognise/model.hpp"    // default_model_path
#include "recognise/reader.hpp"   // Reader, ReaderOptions
#include "segment/options.hpp"    // SegmentOptions, Polarity
