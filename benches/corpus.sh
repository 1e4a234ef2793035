#!/usr/bin/env bash
# Benchmark on real releases: `shipcrate --dry-run` vs `cargo publish --dry-run --workspace`
# for each corpus repository (rayon v1.12.0, anyhow 1.0.104, regex 1.13.1), in a clean
# checkout at the tag (`git clone --depth 1 --branch <tag>`, as CI makes one), against a
# fresh, empty loopback registry (cargo-http-registry) for every run, dependencies from
# crates.io as cargo resolves them, and the same warm target dir for both sides. Each side
# runs once unmeasured to warm the target; then RUNS measured runs each, sides alternating.
# Prints each time, the medians and their ratio per repository.
#
#   benches/corpus.sh [RUNS] [REPO...]     (default 5 runs; repos: rayon anyhow regex)
#
# The corpus is read from ../shared/corpus (or $SHIPCRATE_CORPUS).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
repos=("$@")
[ ${#repos[@]} -gt 0 ] || repos=(rayon anyhow regex)
corpus=${SHIPCRATE_CORPUS:-$PWD/../shared/corpus}
[ -d "$corpus/crates-io" ] || { echo "the corpus is missing: no $corpus/crates-io" >&2; exit 1; }
# shellcheck source=benches/common.sh
source benches/common.sh
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 CARGO_NET_GIT_FETCH_WITH_CLI=true \
  CARGO_REGISTRIES_BENCH_TOKEN=bench-token CARGO_TERM_COLOR=never

# The repository as the corpus holds it, then a clean checkout at the tag, as CI makes it.
checkout() {
  local name=$1 tag=$2
  case $name in
    rayon) git clone --quiet --bare "$corpus/rayon-v1.12.0.bundle" "$work/$name.up" ;;
    anyhow) git clone --quiet --bare "$corpus/anyhow-1.0.104.bundle" "$work/$name.up" ;;
    regex)
      mkdir -p "$work/$name.unpack"
      tar -xzf "$corpus/regex-1.13.1-shallow.tar.gz" -C "$work/$name.unpack"
      mv "$work/$name.unpack/regex-shallow" "$work/$name.up"
      ;;
  esac
  git -c advice.detachedHead=false clone --quiet --depth 1 --branch "$tag" "file://$work/$name.up" "$work/$name"
}

# Each run starts from a clean checkout, as a CI job does: nothing cargo wrote into it (a
# resolved Cargo.lock, for a repository that doesn't commit one) carries over to the next run.
side_shipcrate() {
  git -C "$dir" clean -ffdxq
  (cd "$dir" && SHIPCRATE_REGISTRY=bench SHIPCRATE_DRY_RUN=true SHIPCRATE_ON__TAGS=true "$shipcrate")
}
side_cargo() {
  git -C "$dir" clean -ffdxq
  (cd "$dir" && cargo publish --dry-run --workspace --registry bench)
}


summary=()
for name in "${repos[@]}"; do
  case $name in
    rayon) tag=v1.12.0 ;;
    anyhow) tag=1.0.104 ;;
    regex) tag=1.13.1 ;;
    *) echo "unknown corpus repository: $name" >&2; exit 2 ;;
  esac
  checkout "$name" "$tag"
  dir="$work/$name"
  export CARGO_TARGET_DIR="$work/target-$name"
  for side in cargo shipcrate; do
    start_registry "warm-$name-$side"
    t=$(timed --tail 30 "side_$side")
    stop_registry
    printf '%-6s warm-up %-9s %7.2fs\n' "$name" "$side" "$t"
  done
  ship=()
  carg=()
  for run in $(seq 1 "$runs"); do
    if [ $((run % 2)) -eq 1 ]; then order="shipcrate cargo"; else order="cargo shipcrate"; fi
    for side in $order; do
      start_registry "$name-$run-$side"
      t=$(timed --tail 30 "side_$side")
      stop_registry
      if [ "$side" = shipcrate ]; then ship+=("$t"); else carg+=("$t"); fi
      printf '%-6s run %s %-9s %7.2fs\n' "$name" "$run" "$side" "$t"
    done
  done
  ms=$(median "${ship[@]}")
  mc=$(median "${carg[@]}")
  summary+=("$(printf '%-6s median shipcrate %6.2fs, cargo publish --dry-run --workspace %6.2fs, ratio %.3f, median of paired ratios %.3f' \
    "$name" "$ms" "$mc" "$(ratio "$ms" "$mc")" "$(paired_median "${ship[@]}" -- "${carg[@]}")")")
  rm -rf "$CARGO_TARGET_DIR"
done
echo
printf '%s\n' "${summary[@]}"
printf '(%s runs each, %s cores, %s, load %s)\n' "$runs" "$(nproc)" "$(cargo --version)" "$(cut -d' ' -f1-3 /proc/loadavg)"
