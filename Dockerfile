# digits in a container: the page and the API on port 5000 with the shipped model.
# Not built in CI (no Docker engine runs there); see README's Docker section.

# --- build: the same packages as scripts/install-deps.sh, then the same CMake build --------------
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
COPY tests/browser/package.json tests/browser/package-lock.json tests/browser/
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# -march=native would tie the image to the CPU it was built on.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDIGITS_NATIVE=OFF -DDIGITS_BUILD_TESTS=OFF \
 && cmake --build build -j "$(nproc)" \
 && cmake --install build --prefix /opt/digits

# --- runtime: the binaries, man pages and shipped model, and the shared libraries they load ------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libopencv-dnn406 \
      libfmt9 libmicrohttpd12 libssl3 zlib1g libarchive13 libdeflate0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/digits /usr/local
RUN useradd --system --no-create-home digits
USER digits
EXPOSE 5000
CMD ["digits-serve", "--host", "0.0.0.0"]
