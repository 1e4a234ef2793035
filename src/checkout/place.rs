//! Where the copy lives: in memory (`/dev/shm`) when it fits and may, else `TMPDIR`.

use std::path::Path;

use crate::Env;

/// Where memory can hold the copy: `/dev/shm`, when `TMPDIR` names no place of the user's
/// choosing, no hook will run (a hook may build in the copy, filling memory), it is a tmpfs
/// that lets programs run (a commit's `.cargo/config.toml` may name a linker or a rustc
/// wrapper inside the repository; container runtimes mount it `noexec`), and the copy fits
/// with room to spare: a quarter of what the tmpfs has free, an eighth of the memory
/// available (tmpfs pages count against a job's memory limit), 256 MiB at most. A copy lives
/// for one run and is written and removed in full: on a disk a build has just filled with
/// dirty pages, writing it took up to 10× as long as in memory (BENCHMARKS.md). `None` when
/// memory is out of the question before measuring; else `Some` of the room it has.
pub(super) fn memory_room(env: &Env, hooks: bool) -> Option<u64> {
    use rustix::fs::{StatVfsMountFlags, statfs, statvfs};
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const MAX: u64 = 256 << 20;
    if hooks || env.get("TMPDIR").is_some_and(|dir| !dir.is_empty()) {
        return None;
    }
    let fs = statfs(SHM).ok()?;
    let vfs = statvfs(SHM).ok()?;
    #[allow(
        clippy::useless_conversion,
        reason = "`f_type`'s type differs between targets"
    )]
    let tmpfs = i64::from(fs.f_type) == TMPFS_MAGIC;
    let usable = tmpfs
        && !vfs.f_flag.contains(StatVfsMountFlags::NOEXEC)
        && rustix::fs::access(
            SHM,
            rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
        )
        .is_ok();
    let free = vfs.f_bavail.saturating_mul(vfs.f_frsize) / 4;
    usable.then(|| free.min(memory_available() / 8).min(MAX))
}

pub(super) const SHM: &str = "/dev/shm";

/// Memory this process may still take: the system's available memory, or less when its
/// cgroup (v2) caps it.
fn memory_available() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let system = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024);
    let read = |name: &str| {
        std::fs::read_to_string(Path::new("/sys/fs/cgroup").join(name))
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    match (read("memory.max"), read("memory.current")) {
        (Some(max), Some(current)) => system.min(max.saturating_sub(current)),
        _ => system,
    }
}

/// `error` from writing the copy in `place` (the temp dir's), said plainly when its disk is full — git says only
/// `unable to write file` — naming the place and the `TMPDIR` that chose it: the error ran
/// out of space (ENOSPC), or less than 1 MiB is left there.
pub(super) fn said_when_full(error: anyhow::Error, place: &Path, env: &Env) -> anyhow::Error {
    const ENOSPC: i32 = 28;
    let out_of_space = error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.raw_os_error() == Some(ENOSPC))
    }) || format!("{error:#}").contains("No space left on device");
    let free = rustix::fs::statvfs(place)
        .ok()
        .map(|v| v.f_bavail.saturating_mul(v.f_frsize));
    if !out_of_space && free.is_none_or(|free| free >= 1 << 20) {
        return error;
    }
    let tmpdir = match env.get("TMPDIR").filter(|t| !t.is_empty()) {
        Some(tmpdir) => format!("TMPDIR `{tmpdir}`"),
        None if place.starts_with(SHM) => "TMPDIR not set: in memory, as the copy fit".to_owned(),
        None => "TMPDIR not set".to_owned(),
    };
    error.context(format!(
        "no space left on `{}` ({tmpdir}): the pristine copy of the commit does not fit there. \
         Free space on that disk, or set TMPDIR to a directory on a larger one",
        place.display()
    ))
}
