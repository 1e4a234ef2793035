#!/usr/bin/env bash
# Builds the shipcrate image from the real Dockerfile on this machine, where no image can be
# pulled: the Rust base image the Dockerfile names is made locally (Debian rootfs by
# mmdebstrap, plus gcc, libc6-dev and this machine's Rust toolchain) and tagged with the
# public name. Caches live in the engine's storage, outside the repository.
#
# ENGINE=docker (the default) or ENGINE=podman picks the engine; podman needs no daemon and
# builds the same Dockerfile (buildah underneath). DOCKER names the docker client.
#
#   scripts/image.sh engine   start dockerd if no engine answers (podman: check it runs)
#   scripts/image.sh base     make the Rust base image if it is missing
#   scripts/image.sh build    build ghcr.io/shipcrate/shipcrate:<version> from ./Dockerfile
#   scripts/image.sh prune    remove this script's superseded images (and no one else's)
#   scripts/image.sh all      engine, base and build
#   scripts/image.sh rootless [USER]
#                             ENGINE=podman: hand the image built here to USER's rootless
#                             podman (default shipcrate-rootless, which must exist with
#                             /etc/subuid and /etc/subgid ranges), on native overlay storage
#
# Every image this script makes carries the label $MADE_BY; prune removes only untagged
# images with it, so other images in the same engine are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${ENGINE:-docker}
case "$ENGINE" in
  docker) DOCKER=${DOCKER:-/usr/bin/docker} ;;
  podman) DOCKER=$(command -v podman || echo /usr/bin/podman) ;;
  *) echo "ENGINE must be docker or podman, not $ENGINE" >&2 && exit 2 ;;
esac
export DOCKER_BUILDKIT=0 # no buildx plugin here; the classic builder reads the same Dockerfile
RUST_IMAGE=$(sed -n 's/^ARG RUST_IMAGE=//p' Dockerfile)
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
IMAGE=ghcr.io/shipcrate/shipcrate:v$VERSION
# The build stage, tagged so its dependency layers stay cached between builds.
BUILD_STAGE=shipcrate-build-stage:v$VERSION
DATA_ROOT=${SHIPCRATE_DOCKER_ROOT:-/var/lib/shipcrate-docker}
MADE_BY=org.shipcrate.made-by=scripts/image.sh

engine() {
  if "$DOCKER" info >/dev/null 2>&1; then return; fi
  if [ "$ENGINE" = podman ]; then
    echo "podman does not run here: $DOCKER info says" >&2
    "$DOCKER" info 2>&1 | tail -5 >&2
    exit 1
  fi
  echo "starting dockerd (data root $DATA_ROOT)"
  mkdir -p "$DATA_ROOT"
  # A dockerd ended by force (as at the end of a session) leaves pid files that stop the next.
  local pidfile
  for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      rm -f "$pidfile"
    fi
  done
  nohup dockerd --data-root "$DATA_ROOT" >/tmp/shipcrate-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    if "$DOCKER" info >/dev/null 2>&1; then return; fi
    sleep 1
  done
  echo "dockerd did not start; its log:" >&2
  tail -20 /tmp/shipcrate-dockerd.log >&2
  exit 1
}

base() {
  if "$DOCKER" image inspect "$RUST_IMAGE" >/dev/null 2>&1; then
    echo "base image $RUST_IMAGE exists"
    return
  fi
  local sysroot toolchain tmp
  sysroot=$(rustc --print sysroot)
  toolchain=$(basename "$sysroot")
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  echo "making $RUST_IMAGE from a Debian rootfs and the toolchain at $sysroot"
  # Package downloads here pass a TLS proxy whose CA only the host trusts: the locally made
  # base trusts it too. None of this is in the Dockerfile.
  # shellcheck disable=SC2016 # "$1" in the hooks is mmdebstrap's rootfs, expanded by it.
  mmdebstrap --quiet --variant=minbase --include=ca-certificates,gcc,libc6-dev \
    --customize-hook='cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/" 2>/dev/null || true' \
    --customize-hook='chroot "$1" update-ca-certificates >/dev/null' \
    --customize-hook="mkdir -p \"\$1/usr/local/rustup/toolchains\" \"\$1/usr/local/cargo/bin\"" \
    --customize-hook="cp -a '$sysroot' \"\$1/usr/local/rustup/toolchains/$toolchain\" && rm -rf \"\$1/usr/local/rustup/toolchains/$toolchain/share/doc\"" \
    --customize-hook="cp '$(command -v rustup)' \"\$1/usr/local/cargo/bin/rustup\" && for t in cargo rustc rustdoc cargo-clippy clippy-driver rustfmt cargo-fmt; do ln -s rustup \"\$1/usr/local/cargo/bin/\$t\"; done" \
    --customize-hook="printf 'default_toolchain = \"$toolchain\"\nprofile = \"minimal\"\nversion = \"12\"\n' > \"\$1/usr/local/rustup/settings.toml\"" \
    --customize-hook='rm -rf "$1/var/lib/apt/lists/"* "$1/var/cache/apt/"*' \
    bookworm "$tmp/rootfs.tar"
  "$DOCKER" import \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL $MADE_BY" \
    "$tmp/rootfs.tar" "$RUST_IMAGE" >/dev/null
  echo "made $RUST_IMAGE"
}

build() {
  echo "building $IMAGE from ./Dockerfile"
  local stage
  for stage in build final; do
    local args=(--label "$MADE_BY" -t "$IMAGE")
    [ "$stage" = build ] && args=(--label "$MADE_BY" --target build -t "$BUILD_STAGE")
    # Nothing is pulled: the base is made by `base`. (podman's --pull takes a policy.)
    local pull=--pull=false
    [ "$ENGINE" = podman ] && pull=--pull=never
    "$DOCKER" build --network host "$pull" "${args[@]}" . >"/tmp/shipcrate-image-build-$ENGINE.log" 2>&1 || {
      tail -40 "/tmp/shipcrate-image-build-$ENGINE.log" >&2
      exit 1
    }
  done
  prune
  "$DOCKER" image ls "$IMAGE"
}

# Images a rebuild left untagged, if this script made them: nothing else in the engine.
prune() {
  "$DOCKER" image prune --force --filter "label=$MADE_BY" >/dev/null
}

# The image, copied from this (rootful) podman's storage into USER's rootless one. podman 4.3
# picks the slow, copying vfs driver for rootless storage unless told: the kernel's own
# overlay works unprivileged since Linux 5.13, so the user's storage.conf asks for it.
rootless() {
  local user=${1:-shipcrate-rootless}
  [ "$ENGINE" = podman ] || { echo "rootless needs ENGINE=podman" >&2 && exit 2; }
  id "$user" >/dev/null 2>&1 || { echo "no user $user: useradd --create-home $user" >&2 && exit 1; }
  # In the user's home, as the user (runuser sets HOME; podman keeps its storage there).
  as_user() { runuser -u "$user" -- sh -c "cd ~ && $1"; }
  as_user "mkdir -p .config/containers && { [ -f .config/containers/storage.conf ] ||
    printf '[storage]\\ndriver = \"overlay\"\\n' > .config/containers/storage.conf; }"
  echo "copying $IMAGE to $user's rootless podman"
  "$DOCKER" save "$IMAGE" | as_user "podman load -q" >/dev/null
  as_user "podman image prune --force >/dev/null && podman image ls"
}

case "${1:-all}" in
  engine) engine ;;
  base) engine && base ;;
  build) engine && build ;;
  prune) prune ;;
  all) engine && base && build ;;
  rootless) rootless "${2:-}" ;;
  *) echo "usage: $0 [engine|base|build|prune|all|rootless [USER]]" >&2 && exit 2 ;;
esac
