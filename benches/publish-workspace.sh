#!/usr/bin/env bash
# Benchmark: publishing a 10-crate workspace with shipcrate vs `cargo publish --workspace` by
# hand. Each run gets a fresh loopback registry (cargo-http-registry, git index), both sides
# upload all 10 crates, the order of the two sides alternates, and the same warm target dir
# is restored before every run. Prints each time, the medians, and their ratio.
#
#   benches/publish-workspace.sh [RUNS]     (default 5 runs per side)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
# shellcheck source=benches/common.sh
source benches/common.sh
export GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com CARGO_NET_GIT_FETCH_WITH_CLI=true \
  CARGO_REGISTRIES_BENCH_TOKEN=bench-token CARGO_TERM_COLOR=never

# A workspace of 10 crates: c0 ← c1 ← … ← c9, each also depending on c0.
ws="$work/ws"
mkdir -p "$ws"
members=""
for i in $(seq 0 9); do
  members="$members\"c$i\", "
  mkdir -p "$ws/c$i/src"
  {
    printf '[package]\nname = "bench-c%s"\nversion = "0.1.0"\nedition = "2021"\nlicense = "MIT"\ndescription = "bench"\n\n[dependencies]\n' "$i"
    if [ "$i" -gt 0 ]; then
      printf 'bench-c%s = { path = "../c%s", version = "0.1.0", registry = "bench" }\n' "$((i - 1))" "$((i - 1))"
    fi
    if [ "$i" -gt 1 ]; then
      printf 'bench-c0 = { path = "../c0", version = "0.1.0", registry = "bench" }\n'
    fi
  } >"$ws/c$i/Cargo.toml"
  printf 'pub fn f%s() -> u64 { %s }\n' "$i" "$i" >"$ws/c$i/src/lib.rs"
done
printf '[workspace]\nmembers = [%s]\nresolver = "2"\n' "${members%, }" >"$ws/Cargo.toml"
printf '/target\n' >"$ws/.gitignore"
git -C "$ws" init --quiet --initial-branch=main
git -C "$ws" add -A
git -C "$ws" commit --quiet -m bench

# Warm target dir: what a CI job's earlier build step leaves behind.
start_registry warm 100
(cd "$ws" && cargo build --workspace --quiet)
stop_registry
cp -a "$ws/target" "$work/target.warm"
restore_target() {
  rm -rf "$ws/target"
  cp -a "$work/target.warm" "$ws/target"
}

side_shipcrate() {
  (cd "$ws" && SHIPCRATE_REGISTRY=bench SHIPCRATE_ON__ALL_BRANCHES=true SHIPCRATE_CI=none "$shipcrate")
}
side_cargo() {
  (cd "$ws" && cargo publish --workspace --registry bench)
}

ship=()
carg=()
for run in $(seq 1 "$runs"); do
  if [ $((run % 2)) -eq 1 ]; then order="shipcrate cargo"; else order="cargo shipcrate"; fi
  for side in $order; do
    restore_target
    start_registry "$run-$side" 100
    t=$(timed "side_$side")
    stop_registry
    if [ "$side" = shipcrate ]; then ship+=("$t"); else carg+=("$t"); fi
    printf 'run %s %-9s %6.2fs\n' "$run" "$side" "$t"
  done
done

ms=$(median "${ship[@]}")
mc=$(median "${carg[@]}")
printf '\nmedian shipcrate %.2fs, cargo publish --workspace %.2fs, ratio %.2f, median of paired ratios %.2f (%s runs each, %s cores, %s)\n' \
  "$ms" "$mc" "$(ratio "$ms" "$mc")" "$(paired_median "${ship[@]}" -- "${carg[@]}")" "$runs" "$(nproc)" "$(cargo --version)"
