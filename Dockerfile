# shipcrate image: the binary, cargo and a C toolchain (for the verify build), git, certificates.
# Base images are build arguments so they can be swapped (for example for a newer Rust).
ARG RUST_IMAGE=rust:1.95-slim-bookworm

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# Dependencies first, in their own cached layer. The manifest names a bench target, which
# cargo wants to see even to build the binary: benches/ comes along.
COPY Cargo.toml Cargo.lock ./
COPY benches ./benches
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin shipcrate

FROM ${RUST_IMAGE}
LABEL org.opencontainers.image.title="shipcrate" \
      org.opencontainers.image.description="Publish Rust crates from CI, from a pristine copy of the built commit" \
      org.opencontainers.image.source="https://github.com/shipcrate/shipcrate" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
# Unpinned on purpose: git and the CA bundle should carry the base release's security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/shipcrate /usr/local/bin/shipcrate
COPY entrypoint.sh /usr/local/bin/entrypoint.sh
# Runs as root only because CI runners mount the workspace that way; no secret is baked in.
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
