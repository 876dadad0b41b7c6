#!/usr/bin/env bash
# Makes the sample pictures of examples/ and their truth (examples/truth.jsonl) with
# digits-gen-images, from MNIST's test digits (data/mnist, as `make data` installs it).
# Seeded: the same generator and the same MNIST give the same pictures; the test
# tests/e2e/test_examples.cpp remakes them and compares.
#
#   examples/make-examples.sh [OUT]     # OUT defaults to examples/
#
# The generator is build/bin/digits-gen-images, else the one on PATH; $DIGITS_GEN_IMAGES and
# $DIGITS_MNIST name others. Each seed was picked, among the first few, for a picture the shipped
# model reads right (examples/README.md says what it reads).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/examples}
gen=${DIGITS_GEN_IMAGES:-$root/build/bin/digits-gen-images}
[[ -x $gen ]] || gen=$(command -v digits-gen-images) || { echo "make-examples: no digits-gen-images" >&2; exit 1; }
mnist=${DIGITS_MNIST:-$root/data/mnist}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
: > "$work/truth.jsonl"

# example NAME CLASS SEED [OPTIONS...]: the first picture of CLASS at SEED, saved as NAME.png or
# NAME.jpg (the generator's own format for the class), its truth line renamed to match.
example() {
  local name=$1 class=$2 seed=$3
  shift 3
  "$gen" --mnist "$mnist" --out "$work/$name" --class "$class" --count 1 --seed "$seed" "$@"
  local picture
  picture=$(cd "$work/$name" && ls "$class"-00000.*)
  local file=$name.${picture##*.}
  cp "$work/$name/$picture" "$out/$file"
  sed "s/\"image\":\"$picture\"/\"image\":\"$file\"/" "$work/$name/truth.jsonl" >> "$work/truth.jsonl"
}

example one-line clean     1 --digits 7                 # one line of seven digits, black on white
example lines    multiline 2                            # four lines
example photo    desk      2                            # a phone photo of a sheet on a desk, in a shadow
example touching touching  1                            # digits that touch
example chalk    inverted  5                            # chalk on a board: light on dark
example pad      pad       3 --width 640 --height 320   # drawn on the page's pad: a round pen on white

cp "$work/truth.jsonl" "$out/truth.jsonl"
