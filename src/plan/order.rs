//! Dependency order: which crate goes up before which, and the dev-dependency edges left out
//! where they would make a cycle (the verify build never builds dev-dependencies).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use cargo_metadata::DependencyKind;

use super::{Package, to_package};

/// `(crate, its dev-dependency)`.
pub(crate) type DevEdge = (String, String);

/// Dependency order: normal and build dependencies (target-specific ones too) always;
/// dev-dependencies only where they make no cycle, since the verify build never builds them.
pub(super) fn order(packages: &[&cargo_metadata::Package]) -> Result<(Vec<Package>, Vec<DevEdge>)> {
    let index: BTreeMap<&str, usize> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    // before[i] = the crates that must be published before crate i.
    let mut before: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); packages.len()];
    let mut dev_edges = Vec::new();
    for (i, package) in packages.iter().enumerate() {
        for dep in &package.dependencies {
            let Some(&j) = index.get(dep.name.as_str()) else {
                continue;
            };
            if dep.path.is_none() || i == j {
                continue;
            }
            match dep.kind {
                DependencyKind::Development => dev_edges.push((i, j)),
                _ => {
                    before[i].insert(j);
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(&before) {
        let names: Vec<&str> = cycle.iter().map(|&i| packages[i].name.as_str()).collect();
        bail!(
            "the workspace's normal/build dependencies form a cycle, so no publish order exists: {} \
             (each depends on the next)",
            names.join(" → ")
        );
    }
    let mut dropped = Vec::new();
    for (i, j) in dev_edges {
        before[i].insert(j);
        if find_cycle(&before).is_some() {
            before[i].remove(&j);
            dropped.push((packages[i].name.to_string(), packages[j].name.to_string()));
        }
    }
    // Kahn's algorithm, taking the alphabetically first ready crate each time: stable output.
    let mut done = vec![false; packages.len()];
    let mut out = Vec::new();
    while out.len() < packages.len() {
        let next = (0..packages.len())
            .filter(|&i| !done[i] && before[i].iter().all(|&j| done[j]))
            .min_by_key(|&i| packages[i].name.as_str())
            .expect("acyclic by construction");
        done[next] = true;
        out.push(to_package(packages[next]));
    }
    Ok((out, dropped))
}

/// A cycle in the `before` graph, as the list of nodes along it (first repeated at the end).
pub(super) fn find_cycle(before: &[BTreeSet<usize>]) -> Option<Vec<usize>> {
    fn visit(
        n: usize,
        before: &[BTreeSet<usize>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[n] = 1;
        stack.push(n);
        for &m in &before[n] {
            if state[m] == 1 {
                let start = stack.iter().position(|&s| s == m).unwrap_or(0);
                let mut cycle: Vec<usize> = stack[start..].to_vec();
                cycle.push(m);
                return Some(cycle);
            }
            if state[m] == 0
                && let Some(c) = visit(m, before, state, stack)
            {
                return Some(c);
            }
        }
        stack.pop();
        state[n] = 2;
        None
    }
    let mut state = vec![0u8; before.len()];
    (0..before.len()).find_map(|n| {
        if state[n] == 0 {
            visit(n, before, &mut state, &mut Vec::new())
        } else {
            None
        }
    })
}
