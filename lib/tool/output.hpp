#pragma once
// How classified records are printed: JSON Lines (the contract), text (path TAB digits), CSV.

#include "io/records.hpp"

#include <string>
#include <string_view>

namespace digits {

enum class OutputFormat { json, text, csv };

// Throws UsageError for anything but "json", "text" or "csv".
OutputFormat parse_output_format(std::string_view name);

// The header row of the CSV format, with its newline.
std::string csv_header();

// Everything one record prints, newline-terminated; empty for an error record in text and CSV
// (errors go to stderr there, so the columns stay clean). `pixels` says whether JSON keeps the
// crops; text is one row per image, `path<TAB>digits` with the text's lines separated by a space.
std::string format_record(const ImageRecord& record, OutputFormat format, Pixels pixels);

// The path column of the text format: backslash, tab, newline, carriage return and other control
// characters written as C escapes (\\, \t, \n, \r, \xHH), so every image stays one row.
std::string text_field(std::string_view value);

// A CSV field, quoted when it has to be (RFC 4180).
std::string csv_field(std::string_view value);

}  // namespace digits
