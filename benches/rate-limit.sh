#!/usr/bin/env bash
# Benchmark: large releases against a registry metered like crates.io — cargo-http-registry
# behind benches/metered-registry.rs (crates.io's token buckets and 429s, the tests' stand-in).
#   (a) N_NEW new crates, burst 4, one per 10 s;
#   (b) a version bump of N_BUMP existing crates, burst BUMP_BURST, one per BUMP_SECS s;
#   (c) the same as (b), cut off by SIGINT after CUT_AT s, then run again.
# For each: the span from the first upload taken to the last against the bucket's least,
# refused uploads, `Packaging` lines, peak RSS; and the same workload under
# `cargo publish --workspace`, which stops at the first 429 (how far it got).
#
#   benches/rate-limit.sh                      (the issue's sizes for (a); (b) scaled down)
#   N_NEW=16 N_BUMP=100 BUMP_BURST=30 BUMP_SECS=5 CUT_AT=60 benches/rate-limit.sh   (full)
set -euo pipefail
cd "$(dirname "$0")/.."
n_new=${N_NEW:-16}
n_bump=${N_BUMP:-30}
bump_burst=${BUMP_BURST:-10}
bump_secs=${BUMP_SECS:-3}
cut_at=${CUT_AT:-30}
# shellcheck source=benches/common.sh
source benches/common.sh
export GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com CARGO_NET_GIT_FETCH_WITH_CLI=true \
  CARGO_REGISTRIES_BENCH_TOKEN=bench-token CARGO_TERM_COLOR=never
proxy_bin=$(cargo bench --profile "$profile" --no-run --bench metered-registry 2>&1 |
  sed -n 's/.*Executable .*(\(.*\))$/\1/p')
proxy=
stop_proxy() { if [ -n "$proxy" ]; then kill "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; fi; proxy=; }
trap 'stop_proxy; cleanup' EXIT

# workspace DIR PREFIX N VERSION: N independent crates PREFIX1…PREFIXN at VERSION, committed.
workspace() {
  local dir=$1 prefix=$2 n=$3 version=$4 members=""
  mkdir -p "$dir"
  for i in $(seq 1 "$n"); do
    members="$members\"c$i\", "
    mkdir -p "$dir/c$i/src"
    printf '[package]\nname = "%s%s"\nversion = "%s"\nedition = "2021"\nlicense = "MIT"\ndescription = "bench"\n' \
      "$prefix" "$i" "$version" >"$dir/c$i/Cargo.toml"
    printf 'pub fn f() -> u64 { %s }\n' "$i" >"$dir/c$i/src/lib.rs"
  done
  printf '[workspace]\nmembers = [%s]\nresolver = "2"\n' "${members%, }" >"$dir/Cargo.toml"
  printf '/target\n' >"$dir/.gitignore"
  if [ ! -d "$dir/.git" ]; then git -C "$dir" init --quiet --initial-branch=main; fi
  git -C "$dir" add -A
  git -C "$dir" commit --quiet -m "$version"
}

# metered NAME NEW_BURST NEW_SECS VERSION_BURST VERSION_SECS: a fresh registry behind the
# proxy; uploads are logged to $work/NAME.log.
metered() {
  start_registry "$1"
  local upstream
  upstream=$(sed -n 's/.*"api": "http:\/\/127.0.0.1:\([0-9]*\)".*/\1/p' "$work/registry-$1/config.json")
  rm -f "$work/$1.log"
  "$proxy_bin" "$upstream" "$work/registry-$1" "$work/$1.log" "$2" "$3" "$4" "$5" >"$work/proxy.port" &
  proxy=$!
  for _ in $(seq 1 200); do if [ -s "$work/proxy.port" ]; then break; fi; sleep 0.05; done
}

# report LABEL LOG OUT N BURST SECS: span vs the least, refusals, Packaging lines, peak RSS.
report() {
  python3 - "$@" <<'PY'
import json, sys, re
label, log, out, n, burst, secs = sys.argv[1:7]
n, burst, secs = int(n), int(burst), float(secs)
rows = [json.loads(l) for l in open(log)]
taken = [r["at"] for r in rows if r["taken"]]
refused = sum(1 for r in rows if not r["taken"])
text = open(out).read()
packaging = len(re.findall(r"^\s*Packaging \S+ v", text, re.M))
rss = re.findall(r"^PEAK_RSS_KB=(\d+)", text, re.M)
least = max(0, n - burst) * secs
span = taken[-1] - taken[0] if taken else 0
ratio = f"{span / least:.3f}" if least else "-"
print(f"{label}: {len(taken)}/{n} taken, span {span:.1f}s vs least {least:.0f}s (x{ratio}), "
      f"{refused} refused, {packaging} Packaging lines, peak RSS {int(rss[-1]) // 1024 if rss else '?'} MiB")
PY
}

ship() { # DIR [ENV…]: shipcrate in DIR, its output and peak RSS in $work/ship.out
  local dir=$1; shift
  (cd "$dir" && env SHIPCRATE_REGISTRY=bench SHIPCRATE_ON__ALL_BRANCHES=true SHIPCRATE_CI=none "$@" \
    /usr/bin/time -f 'PEAK_RSS_KB=%M' "$shipcrate") >"$work/ship.out" 2>&1
}

cargo_ws() { # DIR: cargo publish --workspace, how far it got
  (cd "$1" && cargo publish --workspace --registry bench) >"$work/cargo.out" 2>&1 || true
  echo "  cargo publish --workspace: $(grep -c '^ *Uploaded ' "$work/cargo.out") uploaded, then: $(grep -m1 -o 'status 429[^:]*' "$work/cargo.out" || echo 'no 429')"
}

echo "(a) $n_new new crates, burst 4, one per 10 s"
workspace "$work/a" rl-a "$n_new" 0.1.0
metered a 4 10 1000 1
ship "$work/a" || { tail -20 "$work/ship.out"; exit 1; }
report "  shipcrate" "$work/a.log" "$work/ship.out" "$n_new" 4 10
stop_proxy; stop_registry
metered a-cargo 4 10 1000 1
cargo_ws "$work/a"
stop_proxy; stop_registry

echo "(b) a version bump of $n_bump existing crates, burst $bump_burst, one per $bump_secs s"
workspace "$work/b" rl-b "$n_bump" 0.1.0
seed() { # publish 0.1.0 straight to the registry, unmetered, then bump to 0.2.0
  start_registry "$1"
  (cd "$work/b" && git checkout --quiet "$(git rev-list --max-parents=0 HEAD)" &&
    cargo publish --workspace --registry bench >"$work/seed.out" 2>&1 && git checkout --quiet main)
}
seed b
workspace "$work/b" rl-b "$n_bump" 0.2.0
upstream_root="$work/registry-b"
upstream=$(sed -n 's/.*"api": "http:\/\/127.0.0.1:\([0-9]*\)".*/\1/p' "$upstream_root/config.json")
rm -f "$work/b.log"
"$proxy_bin" "$upstream" "$upstream_root" "$work/b.log" 1000 1 "$bump_burst" "$bump_secs" >"$work/proxy.port" &
proxy=$!
sleep 0.5
ship "$work/b" || { tail -20 "$work/ship.out"; exit 1; }
report "  shipcrate" "$work/b.log" "$work/ship.out" "$n_bump" "$bump_burst" "$bump_secs"
stop_proxy; stop_registry

echo "(c) the same, cut off by SIGINT at ${cut_at}s, then run again"
seed c
"$proxy_bin" "$(sed -n 's/.*"api": "http:\/\/127.0.0.1:\([0-9]*\)".*/\1/p' "$work/registry-c/config.json")" \
  "$work/registry-c" "$work/c.log" 1000 1 "$bump_burst" "$bump_secs" >"$work/proxy.port" &
proxy=$!
sleep 0.5
(cd "$work/b" && SHIPCRATE_REGISTRY=bench SHIPCRATE_ON__ALL_BRANCHES=true SHIPCRATE_CI=none exec "$shipcrate") >"$work/cut.out" 2>&1 &
run=$!
sleep "$cut_at"
kill -INT "$run"
wait "$run" || echo "  cut off: exit $?; $(grep -m1 -o 'Stopped by signal [0-9]*: published [0-9]* of [0-9]*' "$work/cut.out"), $(grep -c '^ *Packaging ' "$work/cut.out") Packaging lines"
ship "$work/b" || { tail -20 "$work/ship.out"; exit 1; }
report "  both runs" "$work/c.log" "$work/ship.out" "$n_bump" "$bump_burst" "$bump_secs"
echo "  the re-run: $(grep -c 'Summary .*: already published' "$work/ship.out") crates skipped as published, $(grep -c '^ *Uploaded ' "$work/ship.out") uploaded (its Packaging lines above)"
stop_proxy; stop_registry

# (b)'s workload under cargo: a fresh registry seeded the same way.
seed b-cargo
"$proxy_bin" "$(sed -n 's/.*"api": "http:\/\/127.0.0.1:\([0-9]*\)".*/\1/p' "$work/registry-b-cargo/config.json")" \
  "$work/registry-b-cargo" "$work/b-cargo.log" 1000 1 "$bump_burst" "$bump_secs" >"$work/proxy.port" &
proxy=$!
sleep 0.5
echo "(b) under cargo"
cargo_ws "$work/b"
printf '\n%s cores, %s, shipcrate built with profile %s\n' "$(nproc)" "$(cargo --version)" "$profile"
