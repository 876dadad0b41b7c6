#pragma once
// Command-line inputs to a batch: files as given, directories expanded to the images inside.

#include "io/records.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace digits {

// File arguments are kept as given (any extension: a bad one is reported when it is read);
// a directory becomes the image files in it (by extension, sorted by name), and with
// `recursive` those of its subdirectories too. A missing path is kept, to fail in its turn.
std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments, bool recursive);

// The bytes of one input image: a file, or standard input for "-". Refuses files larger than
// any image within `max_pixels` could be, before reading them. Errors do not repeat the path.
std::string read_input(const std::string& path, std::int64_t max_pixels);

// `message` without a leading "PATH: " (library messages about a file may name it; callers name it once).
std::string without_path(const std::string& message, const std::string& path);

// Runs `work` for one input of a batch. An Error or an OpenCV failure becomes the error record
// {"image": input, "error": message} instead of ending the batch; a success is returned as it is.
ImageRecord record_for_input(const std::string& input, const std::function<ImageRecord()>& work);

// Whether a file name has an extension of an image format OpenCV decodes here.
bool has_image_extension(const std::string& name);

}  // namespace digits
