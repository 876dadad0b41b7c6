#!/usr/bin/env bash
# Whole-image throughput of digits-classify: 1000 generated 1000x300 images of 5 MNIST test digits,
# decoded, segmented and classified, as a user would run it. Prints images/s and peak RSS.
# Usage: bench/classify-images.sh [BUILD_DIR] [COUNT]
set -euo pipefail
build=${1:-build}
count=${2:-1000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$build/bin/digits-gen-images" --mnist data/mnist --out "$dir" --class clean --count "$count" --seed 1 \
  --width 1000 --height 300 --digits 5 > /dev/null
for jobs in 1 "$(nproc)"; do
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$dir/rss" "$build/bin/digits-classify" --jobs "$jobs" --format text "$dir" > "$dir/out.txt"
  end=$(date +%s.%N)
  right=$(paste <(cut -f2 "$dir/out.txt") <(grep -o '"text":"[0-9]*"' "$dir/truth.jsonl" | cut -d'"' -f4) | awk '$1==$2' | wc -l)
  awk -v n="$count" -v s="$start" -v e="$end" -v j="$jobs" -v r="$right" -v rss="$(cat "$dir/rss")" \
    'BEGIN { printf "digits-classify --jobs %s: %d images in %.2f s = %.0f images/s, %d/%d texts exactly right, peak RSS %.1f MB\n", j, n, e-s, n/(e-s), r, n, rss/1024 }'
done
