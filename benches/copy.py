#!/usr/bin/env python3
"""Benchmark: what the pristine copy and shipcrate's own work cost, side by side.

Builds its inputs (cached in $SHIPCRATE_BENCH_DIR, default ~/.cache/shipcrate-bench): a
repository of 20,000 files in nested dirs with 2,000 commits and a 30-crate workspace, and a
shallow (--depth 1) clone of it. Then, each measured RUNS times in alternating order, and
reported as medians and ratios:

1. the copy alone: `shipcrate copy` vs `git worktree add --detach` vs `git clone --local
   --no-checkout` + checkout vs `git archive | tar -x`, from the full and the shallow clone;
2. end to end: `shipcrate --dry-run` on one crate and on the workspace vs `cargo publish
   --dry-run` (single, and --workspace) in a clean checkout, both against the same loopback
   registry (cargo-http-registry) and the same warm target dir, restored before each run —
   once reading its index over git (how cargo-http-registry serves it) and once over the
   sparse protocol (crates.io's; the same index files served by a static HTTP server);
3. start-up: time from process start to shipcrate's first log line (printed right after the
   decision) as a share of the one-crate dry run.

    benches/copy.py [RUNS]        (default 5)
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("SHIPCRATE_BENCH_DIR", os.path.expanduser("~/.cache/shipcrate-bench"))
FILES, COMMITS, CRATES = 20_000, 2_000, 30
TOOLS = os.path.expanduser("~/.cache/shipcrate-tools/bin")

ENV = dict(
    os.environ,
    GIT_CONFIG_GLOBAL="/dev/null",
    GIT_AUTHOR_NAME="bench",
    GIT_AUTHOR_EMAIL="bench@example.com",
    GIT_COMMITTER_NAME="bench",
    GIT_COMMITTER_EMAIL="bench@example.com",
    CARGO_NET_GIT_FETCH_WITH_CLI="true",
    CARGO_TERM_COLOR="never",
    PATH=f"{TOOLS}:{os.environ['PATH']}",
)


def run(cmd, cwd=None, env=None, stdin=None):
    subprocess.run(cmd, cwd=cwd, env=env or ENV, check=True, stdin=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_repo(path):
    """20,000 files in nested dirs, a 30-crate workspace, 2,000 commits, via fast-import."""
    os.makedirs(path)
    run(["git", "init", "--quiet", "--initial-branch=main", path])
    lines = []

    def blob(data):
        raw = data.encode()
        lines.append(b"data %d\n" % len(raw) + raw + b"\n")

    def commit(n, files):
        msg = f"commit {n}"
        lines.append(b"commit refs/heads/main\n")
        lines.append(b"committer bench <bench@example.com> %d +0000\n" % (1_700_000_000 + n))
        blob(msg)  # the commit message; later commits continue the branch on their own
        for name, content in files:
            lines.append(f"M 100644 inline {name}\n".encode())
            blob(content)

    members = ", ".join(f'"crates/c{i:02}"' for i in range(CRATES))
    first = [("Cargo.toml", f'[workspace]\nmembers = [{members}]\nresolver = "2"\n'),
             (".gitignore", "/target\n")]
    for i in range(CRATES):
        deps = ""
        if i > 0:
            deps = f'c{i-1:02} = {{ package = "bench-c{i-1:02}", path = "../c{i-1:02}", version = "0.1.0", registry = "bench" }}\n'
        first.append((f"crates/c{i:02}/Cargo.toml",
                      f'[package]\nname = "bench-c{i:02}"\nversion = "0.1.0"\nedition = "2021"\n'
                      f'license = "MIT"\ndescription = "bench"\n\n[dependencies]\n{deps}'))
        first.append((f"crates/c{i:02}/src/lib.rs", f"pub fn f() -> u64 {{ {i} }}\n"))
    for f in range(FILES - len(first)):
        first.append((f"data/d{f % 20:02}/e{(f // 20) % 25:02}/f{f:05}.txt", f"file {f}\n"))
    commit(0, first)
    for n in range(1, COMMITS):
        f = (n * 7919) % (FILES - 100)
        commit(n, [(f"data/d{f % 20:02}/e{(f // 20) % 25:02}/f{f:05}.txt", f"file {f} changed in {n}\n")])
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, env=ENV, check=True,
                   input=b"".join(lines))
    run(["git", "checkout", "--quiet", "main"], cwd=path)
    run(["git", "reset", "--quiet", "--hard"], cwd=path)


def inputs():
    full = os.path.join(CACHE, "full")
    shallow = os.path.join(CACHE, "shallow")
    if not os.path.exists(os.path.join(CACHE, "ready")):
        shutil.rmtree(CACHE, ignore_errors=True)
        print(f"making {FILES} files x {COMMITS} commits in {full} …", flush=True)
        make_repo(full)
        run(["git", "clone", "--quiet", "--depth", "1", f"file://{full}", shallow])
        open(os.path.join(CACHE, "ready"), "w").close()
    return full, shallow


def median_of(fn, prepare=None):
    times = []
    for _ in range(RUNS):
        if prepare:
            prepare()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def alternate(sides):
    """Run every side RUNS times, rotating which goes first; medians by name."""
    results = {name: [] for name, _, _ in sides}
    for r in range(RUNS):
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        for name, fn, prepare in order:
            if prepare:
                prepare()
            t0 = time.perf_counter()
            fn()
            results[name].append(time.perf_counter() - t0)
    return {name: statistics.median(times) for name, times in results.items()}


def copy_bench(shipcrate, source, label):
    scratch = tempfile.mkdtemp(prefix="shipcrate-bench-")
    counter = [0]

    def fresh():
        counter[0] += 1
        return os.path.join(scratch, f"t{counter[0]}")

    def ship():
        run([shipcrate, "copy", fresh()], cwd=source)

    def worktree():
        dest = fresh()
        run(["git", "worktree", "add", "--quiet", "--detach", dest, "HEAD"], cwd=source)
        worktrees.append(dest)

    def clone():
        dest = fresh()
        run(["git", "clone", "--quiet", "--local", "--no-checkout", source, dest])
        run(["git", "checkout", "--quiet", "--detach", "HEAD"], cwd=dest)

    def archive():
        dest = fresh()
        os.makedirs(dest)
        archive = subprocess.Popen(["git", "archive", "HEAD"], cwd=source, env=ENV, stdout=subprocess.PIPE)
        run(["tar", "-x", "-C", dest], stdin=archive.stdout)
        archive.wait()

    worktrees = []
    medians = alternate([("shipcrate copy", ship, None), ("git worktree add", worktree, None),
                         ("git clone --local + checkout", clone, None), ("git archive | tar -x", archive, None)])
    for dest in worktrees:
        run(["git", "worktree", "remove", "--force", dest], cwd=source)
    shutil.rmtree(scratch, ignore_errors=True)
    base = medians["git worktree add"]
    print(f"\ncopy from the {label} clone (median of {RUNS}):")
    for name, t in medians.items():
        print(f"  {name:32} {t*1000:8.0f} ms   {t/base:5.2f}x worktree")
    return medians


def start_registry(root):
    proc = subprocess.Popen(["cargo-http-registry", "--addr", "127.0.0.1:0", root], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        path = os.path.join(root, "config.json")
        if os.path.exists(path):
            import json
            api = json.load(open(path))["api"]
            return proc, f"http://127.0.0.1:{api.rsplit(':', 1)[1]}/git"
        time.sleep(0.05)
    raise SystemExit("cargo-http-registry did not start")


def serve_sparse(root):
    """The registry's index files over plain HTTP: a sparse index, as crates.io serves one."""
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "0"],
                            cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    line = proc.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N (…)"
    return proc, f"sparse+http://127.0.0.1:{line.split(' port ')[1].split()[0]}/"


def e2e_bench(shipcrate, full, protocol):
    work = tempfile.mkdtemp(prefix="shipcrate-bench-e2e-")
    registry, index = start_registry(os.path.join(work, "registry"))
    servers = [registry]
    if protocol == "sparse":
        server, index = serve_sparse(os.path.join(work, "registry"))
        servers.append(server)
    # A token no crate name contains: shipcrate masks it wherever it appears.
    env = dict(ENV, CARGO_REGISTRIES_BENCH_INDEX=index,
               CARGO_REGISTRIES_BENCH_TOKEN="not-a-real-token")
    clean = os.path.join(work, "clean")
    run(["git", "clone", "--quiet", full, clean])
    target = os.path.join(work, "target")
    warm = os.path.join(work, "target.warm")
    env["CARGO_TARGET_DIR"] = target
    run(["cargo", "build", "--workspace", "--quiet"], cwd=full, env=env)
    shutil.copytree(target, warm, symlinks=True)

    def restore():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(warm, target, symlinks=True)

    ship_env = dict(env, SHIPCRATE_REGISTRY="bench", SHIPCRATE_DRY_RUN="true", SHIPCRATE_ON__ALL_BRANCHES="true")
    first_line = []

    def ship_one():
        t0 = time.perf_counter()
        proc = subprocess.Popen([shipcrate, "--path", "crates/c00"], cwd=full, env=ship_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        proc.stderr.readline()
        first_line.append(time.perf_counter() - t0)
        proc.stderr.read()
        if proc.wait() != 0:
            raise SystemExit("shipcrate dry run failed")

    one = alternate([
        ("shipcrate --dry-run (one crate)", ship_one, restore),
        ("cargo publish --dry-run (one crate)",
         lambda: run(["cargo", "publish", "--dry-run", "--registry", "bench"], cwd=os.path.join(clean, "crates/c00"), env=env),
         restore),
    ])
    ws = alternate([
        ("shipcrate --dry-run (workspace)", lambda: run([shipcrate], cwd=full, env=ship_env), restore),
        ("cargo publish --dry-run --workspace",
         lambda: run(["cargo", "publish", "--dry-run", "--workspace", "--registry", "bench"], cwd=clean, env=env),
         restore),
    ])
    for server in servers:
        server.kill()
    shutil.rmtree(work, ignore_errors=True)
    print(f"\nend to end, warm target dir, loopback registry, {protocol} index (median of {RUNS}):")
    for pair in (one, ws):
        (a, ta), (b, tb) = pair.items()
        print(f"  {a:40} {ta:6.2f} s")
        print(f"  {b:40} {tb:6.2f} s   ratio {ta/tb:.3f}")
    startup = statistics.median(first_line)
    total = one["shipcrate --dry-run (one crate)"]
    print(f"\nstart-up to the decision log line: {startup*1000:.0f} ms, {100*startup/total:.1f}% of the one-crate dry run")


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    shipcrate = os.path.join(ROOT, "target/release/shipcrate")
    if shutil.which("cargo-http-registry", path=ENV["PATH"]) is None:
        run(["cargo", "install", "--locked", "--quiet", "--root", os.path.dirname(TOOLS), "cargo-http-registry"])
    full, shallow = inputs()
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
          f"{subprocess.run(['cargo', '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"{subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.strip()}")
    copy_bench(shipcrate, full, "full")
    copy_bench(shipcrate, shallow, "shallow")
    e2e_bench(shipcrate, full, "git")
    e2e_bench(shipcrate, full, "sparse")


if __name__ == "__main__":
    main()
