# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run): the tools, a work dir removed on exit,
# a fresh loopback registry per run (cargo-http-registry, git index, named `bench`), timing,
# and medians. Expects to be sourced from the repository's root.

export PATH="$HOME/.cache/shipcrate-tools/bin:$PATH"
command -v cargo-http-registry >/dev/null || cargo install --locked --quiet --root "$HOME/.cache/shipcrate-tools" cargo-http-registry
# BENCH_PROFILE=dev builds unoptimised (where the machine is shared; say so with the numbers).
profile=${BENCH_PROFILE:-release}
cargo build --profile "$profile" --quiet
if [ "$profile" = dev ]; then profile_dir=debug; else profile_dir=$profile; fi
# shellcheck disable=SC2034 # read by the scripts that source this
shipcrate="$PWD/target/$profile_dir/shipcrate"

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start_registry NAME [TRIES]: a fresh registry in $work/registry-NAME, waited for up to
# TRIES × 50 ms; cargo finds it as `bench`.
start_registry() {
  local root="$work/registry-$1"
  cargo-http-registry --addr 127.0.0.1:0 "$root" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 "${2:-200}"); do
    if [ -f "$root/config.json" ]; then break; fi
    sleep 0.05
  done
  local port
  port=$(sed -n 's/.*"api": "http:\/\/127.0.0.1:\([0-9]*\)".*/\1/p' "$root/config.json")
  export CARGO_REGISTRIES_BENCH_INDEX="http://127.0.0.1:$port/git"
}

stop_registry() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
}

now() { date +%s.%N; }

# timed [--tail N] COMMAND…: seconds COMMAND took; its output kept in $work/last.log, the
# last N lines of which (default 20) are shown when it fails, which ends the benchmark.
timed() {
  local lines=20 t0 t1
  if [ "$1" = --tail ]; then lines=$2; shift 2; fi
  t0=$(now)
  "$@" >"$work/last.log" 2>&1 || {
    echo "failed: $*" >&2
    tail -"$lines" "$work/last.log" >&2
    exit 1
  }
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }

# paired_median SHIP… -- CARGO…: each run's two sides ran back to back, so the median of their
# ratios is less at the mercy of a slow minute than the ratio of the medians.
paired_median() {
  local ship=() carg=() ratios=()
  while [ "$1" != -- ]; do ship+=("$1"); shift; done
  shift
  carg=("$@")
  for i in "${!ship[@]}"; do ratios+=("$(ratio "${ship[$i]}" "${carg[$i]}")"); done
  median "${ratios[@]}"
}
