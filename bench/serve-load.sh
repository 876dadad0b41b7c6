#!/usr/bin/env bash
# Load on POST /api/digit_recognize: wrk posting 200 different 1000x300 PNGs of 5 MNIST test digits in
# turn, on loopback.
# Prints requests/s, latency percentiles, errors, and the server's RSS before, every minute, and after.
# Usage: bench/serve-load.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
set -euo pipefail
build=${1:-build}
seconds=${2:-60}
connections=${3:-32}
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
"$build/bin/digits-gen-images" --mnist data/mnist --out "$dir" --class clean --count 200 --seed 4 \
  --width 1000 --height 300 --digits 5 > /dev/null
ls "$dir"/*.png > "$dir/images.txt"
"$build/bin/digits-serve" --port "$port" --quiet &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$server/status"; }
echo "images: $(wc -l < "$dir/images.txt") different PNGs, server RSS before: $(rss)"
# RSS once a minute while wrk runs, so growth over a long run shows as a series, not two points.
( for ((minute = 1; minute * 60 < seconds; ++minute)); do sleep 60; echo "server RSS after ${minute} min: $(rss)"; done ) &
sampler=$!
trap 'kill $server $sampler 2>/dev/null; rm -rf "$dir"' EXIT
DIGITS_BENCH_IMAGES="$dir/images.txt" wrk -t 2 -c "$connections" -d "${seconds}s" --latency \
  -s "$(dirname "$0")/post-image.lua" "http://127.0.0.1:$port/api/digit_recognize"
echo "server RSS after: $(rss)"
