#!/usr/bin/env bash
# Everything the binaries answer, written to files, so two builds can be compared byte for byte
# after a change that must not change behaviour (a refactor, a faster algorithm, another decoder):
#   bench/same-output.sh build /tmp/before        # at the old commit
#   bench/same-output.sh build /tmp/after         # at the new one
#   diff -r /tmp/before/out /tmp/after/out && echo identical
# What it writes under OUT/out: digits-classify (with crops) and digits-segment on every generated
# class, COUNT pictures each, at two seeds; bench-writers' misreadings; MNIST's test set through
# --idx; the server's answers to the examples and to a few generated pictures.
# The pictures themselves go to OUT/images (made once; reused if there, so both builds read the
# same files even if the generator changed).
# Usage: bench/same-output.sh BUILD_DIR OUT [COUNT] [SEEDS...]
set -euo pipefail
build=${1:?usage: bench/same-output.sh BUILD_DIR OUT [COUNT] [SEEDS...]}
out=${2:?usage: bench/same-output.sh BUILD_DIR OUT [COUNT] [SEEDS...]}
count=${3:-300}
shift $(($# < 3 ? $# : 3))
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(1 2)
bin=$build/bin
mkdir -p "$out/images" "$out/out"
classes=$("$bin/digits-gen-images" --list-classes)
for seed in "${seeds[@]}"; do
  for class in $classes; do
    dir=$out/images/$seed/$class
    if [[ ! -f $dir/truth.jsonl ]]; then
      "$bin/digits-gen-images" --mnist data/mnist --out "$dir" --class "$class" --count "$count" --seed "$seed" > /dev/null
    fi
    "$bin/digits-classify" --quiet --pixels "$dir" > "$out/out/classify-$seed-$class.jsonl"
    # sed, not head: head leaves when it has 50, sort may then die of SIGPIPE, and pipefail with
    # set -e ended the whole script there (exit 141), now and then.
    find "$dir" -name '*.png' | sort | sed -n 1,50p | while read -r image; do
      "$bin/digits-segment" "$image"
    done > "$out/out/segment-$seed-$class.jsonl"
  done
done
"$bin/bench-writers" --show-failures 1000 > "$out/out/writers.txt" 2>&1
"$bin/digits-classify" --quiet --idx data/mnist/t10k-images-idx3-ubyte > "$out/out/mnist-idx.jsonl"

port=$((20000 + RANDOM % 20000))
"$bin/digits-serve" --port "$port" --quiet &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
for image in examples/*.png examples/*.jpg "$out/images/${seeds[0]}"/*/*-0000[0-2].png; do
  [[ -f $image ]] || continue
  echo "== $image"
  curl -s -F "file=@$image" "http://127.0.0.1:$port/api/digit_recognize?alternatives=3"
  echo
done > "$out/out/serve.txt"
echo "wrote $(find "$out/out" -type f | wc -l) files under $out/out"
