# The README's two commands: `make run` (the main job) and `make test` (every test).
# Both install missing Debian packages first, then build with CMake.

BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=
BIN   := $(BUILD)/bin

.PHONY: all deps build run test data model install clean

all: build

deps:
	scripts/install-deps.sh

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

test: data
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD)
