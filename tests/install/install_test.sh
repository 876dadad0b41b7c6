#!/usr/bin/env bash
# The installed library, as another project uses it: `cmake --install` into a fresh prefix, then
# examples/library built against that tree with find_package(digits) and with pkg-config, each run
# on the examples and required to print what digits-classify prints for them, byte for byte.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
source=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
model=$prefix/share/digits/models/digits-cnn.model
images=("$source/examples/one-line.png" "$source/examples/lines.png" "$source/examples/photo.jpg")
"$build/bin/digits-classify" --quiet --model "$model" "${images[@]}" > "$work/expected.jsonl"

echo "find_package(digits):"
cmake -S "$source/examples/library" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/cmake" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/cmake/read-digits" "$model" "${images[@]}" > "$work/cmake.jsonl"
cmp -s "$work/expected.jsonl" "$work/cmake.jsonl" || { diff "$work/expected.jsonl" "$work/cmake.jsonl" | cut -c1-300; exit 1; }
echo "  the same records as digits-classify"

echo "pkg-config:"
flags=$(PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name digits.pc)") pkg-config --cflags --libs digits)
c++ -O2 "$source/examples/library/read-digits.cpp" $flags -o "$work/read-digits-pc"
"$work/read-digits-pc" "$model" "${images[@]}" > "$work/pkg-config.jsonl"
cmp -s "$work/expected.jsonl" "$work/pkg-config.jsonl" || { diff "$work/expected.jsonl" "$work/pkg-config.jsonl" | cut -c1-300; exit 1; }
echo "  the same records as digits-classify"

# A bad picture is an Error the program can catch, not a crash.
if "$work/read-digits-pc" "$model" "$source/README.md" 2> "$work/stderr.txt"; then
  echo "a text file was read as a picture"; exit 1
fi
grep -q "^read-digits: " "$work/stderr.txt"
echo "  a bad picture: $(cat "$work/stderr.txt")"
