//! Whether shipcrate runs inside a container, from the marks container engines leave: Docker's
//! `/.dockerenv`, Podman's `/run/.containerenv`, or a container's name in PID 1's cgroup.
//!
//! Reads those files only; what it means for the decision is `ci`'s and `conditions`' concern.

use std::path::Path;

/// The mark that says we run in a container, under `root` (`/` but in tests), if any.
pub(crate) fn detect(root: &Path) -> Option<String> {
    for mark in [".dockerenv", "run/.containerenv"] {
        if root.join(mark).exists() {
            return Some(format!("/{mark}"));
        }
    }
    // cgroup v1 names the engine in PID 1's path (`/docker/<id>`, `/kubepods/…`); v2 with a
    // private cgroup namespace shows `0::/`, which says nothing either way.
    let cgroup = fs_err::read_to_string(root.join("proc/1/cgroup")).ok()?;
    ["docker", "kubepods", "containerd", "libpod", "lxc"]
        .into_iter()
        .find(|engine| cgroup.lines().any(|l| l.contains(&format!("/{engine}"))))
        .map(|engine| format!("PID 1's cgroup names `{engine}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engines_mark_is_seen() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(detect(root.path()), None);
        std::fs::create_dir_all(root.path().join("proc/1")).unwrap();
        std::fs::write(root.path().join("proc/1/cgroup"), "0::/\n").unwrap();
        assert_eq!(detect(root.path()), None);
        std::fs::write(
            root.path().join("proc/1/cgroup"),
            "12:pids:/kubepods/besteffort/pod1\n0::/\n",
        )
        .unwrap();
        assert_eq!(
            detect(root.path()).as_deref(),
            Some("PID 1's cgroup names `kubepods`")
        );
        std::fs::create_dir_all(root.path().join("run")).unwrap();
        std::fs::write(root.path().join("run/.containerenv"), "").unwrap();
        assert_eq!(detect(root.path()).as_deref(), Some("/run/.containerenv"));
        std::fs::write(root.path().join(".dockerenv"), "").unwrap();
        assert_eq!(detect(root.path()).as_deref(), Some("/.dockerenv"));
    }
}
