// Reads the digits in each picture given, with the model given, and prints each record as
// digits-classify does. Build: see CMakeLists.txt here, or
//   c++ read-digits.cpp $(pkg-config --cflags --libs digits) -o read-digits
#include <digits/digits.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: read-digits MODEL IMAGE...\n";
    return 2;
  }
  try {
    digits::Reader reader(argv[1]);
    for (int i = 2; i < argc; ++i) std::cout << digits::to_json_line(reader.read_file(argv[i]), digits::Pixels::drop) << '\n';
  } catch (const digits::Error& e) {
    std::cerr << "read-digits: " << e.what() << '\n';
    return 1;
  }
}
