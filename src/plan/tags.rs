//! The plan held to a tag build's tags: a tag naming a member (`<member>-<version>`,
//! `<member>-v<version>`) narrows it to that crate; a version tag must be some crate's version;
//! and the line a first release gets.

use anyhow::{Result, bail};

use super::{Package, Plan};

/// Hold the plan to the tags of a tag build. A tag that names a member of the workspace
/// ([`crate_tag`]) publishes only the members the tags name — always: `check_tag: false`
/// (`check` false) turns off the checks, never this choice, so no member the tag did not
/// name goes up with it. With `check`, each named member must be at the tag's version and
/// is `tagged`; with no tag naming a member, a version tag (`v1.2.3`, `1.2.3`) must be the
/// version of some crate in the plan.
pub(crate) fn check_tags(plan: &mut Plan, tags: &[String], check: bool) -> Result<()> {
    let named: Vec<(&String, String, &str)> = tags
        .iter()
        .filter_map(|tag| crate_tag(tag, &plan.workspace).map(|(name, v)| (tag, name, v)))
        .collect();
    if !named.is_empty() {
        return hold_to_named(plan, &named, check);
    }
    if !check {
        return Ok(());
    }
    for tag in tags {
        let Some(version) = version_tag(tag) else {
            continue;
        };
        plan.tagged.extend(
            plan.publish
                .iter()
                .filter(|p| p.version == version)
                .map(|p| p.name.clone()),
        );
        if !plan.publish.iter().any(|p| p.version == version) {
            let found: Vec<String> = plan.publish.iter().map(Package::spec).collect();
            bail!(
                "tag `{tag}` is version {version}, but no crate in the plan has that version (found: {}). \
                 Was Cargo.toml bumped? Set `check_tag: false` if the tag is not a version",
                if found.is_empty() {
                    "none".to_owned()
                } else {
                    found.join(", ")
                }
            );
        }
    }
    Ok(())
}

/// The plan narrowed to the members `named` (`(tag, member, version)`), each of which must
/// be at the tag's version when `check`; the rest are skipped. A named member the plan
/// leaves out (`publish = false`, not selected, another directory's) is not published
/// either.
fn hold_to_named(plan: &mut Plan, named: &[(&String, String, &str)], check: bool) -> Result<()> {
    for (tag, name, wanted) in named.iter().filter(|_| check) {
        if let Some(package) = plan.publish.iter().find(|p| &p.name == name)
            && package.version != *wanted
        {
            bail!(
                "tag `{tag}` asks for {name} {wanted}, but its Cargo.toml says {}: bump the \
                 version (or move the tag) before publishing",
                package.version
            );
        }
    }
    let tag_list = named
        .iter()
        .map(|(tag, _, _)| format!("`{tag}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let (publish, others): (Vec<Package>, Vec<Package>) = std::mem::take(&mut plan.publish)
        .into_iter()
        .partition(|p| named.iter().any(|(_, name, _)| *name == p.name));
    let why = match named {
        [_] => format!("tag {tag_list} names another crate"),
        _ => format!("the tags ({tag_list}) name other crates"),
    };
    plan.skipped
        .extend(others.into_iter().map(|p| (p, why.clone())));
    if check {
        plan.tagged = publish.iter().map(|p| p.name.clone()).collect();
    }
    plan.publish = publish;
    Ok(())
}

/// The member a tag names, with the tag's version: `<member>-<version>` (as tokio and
/// tracing tag, `tokio-util-0.7.19`) or `<member>-v<version>` (cargo-release's default),
/// where the version is one cargo accepts (semver, pre-release and build metadata
/// included). Where member names nest (`tokio`, `tokio-util`), the longest that fits wins.
pub(super) fn crate_tag<'t>(tag: &'t str, members: &[String]) -> Option<(String, &'t str)> {
    members
        .iter()
        .filter_map(|name| {
            let rest = tag.strip_prefix(name.as_str())?.strip_prefix('-')?;
            version_tag(rest).map(|version| (name, version))
        })
        .max_by_key(|(name, _)| name.len())
        .map(|(name, version)| (name.clone(), version))
}

/// Whether `tag` may name one crate (`<name>-<version>` or `<name>-v<version>`, for some
/// crate name), known before the workspace's members are: such a tag usually narrows the
/// plan to that crate.
pub(crate) fn may_name_a_crate(tag: &str) -> bool {
    tag.match_indices('-').any(|(at, _)| {
        let (name, rest) = (&tag[..at], &tag[at + 1..]);
        name.starts_with(|c: char| c.is_ascii_alphabetic()) && version_tag(rest).is_some()
    })
}

/// What a plan says, on its own line before anything is uploaded, of `package`, a crate the
/// registry has never seen: a first release takes the name for good. On a tag build of a
/// workspace whose tags name no member, also how to release one crate by its tag, or leave
/// this one out.
pub(crate) fn first_release_line(plan: &Plan, package: &Package, tags: &[String]) -> String {
    let name = &package.name;
    let mut line = format!("first release of `{name}`: the name is taken for good once uploaded");
    let names_none = !tags.is_empty()
        && tags
            .iter()
            .all(|tag| crate_tag(tag, &plan.workspace).is_none());
    if names_none && plan.whole_workspace && plan.workspace.len() > 1 {
        let version = &package.version;
        line += &format!(
            ". No tag of this build names a crate, so the plan is every selected member \
             of the workspace: to release `{name}` alone, tag `{name}-{version}` (or \
             `{name}-v{version}`); to leave it out, add it to `exclude` or set `publish = false` \
             in its Cargo.toml"
        );
    }
    line
}

/// `v1.2.3` / `1.2.3-rc.1` → the version (a semantic version, as cargo requires of a
/// package's); anything else → `None`.
pub(super) fn version_tag(tag: &str) -> Option<&str> {
    let version = tag.strip_prefix('v').unwrap_or(tag);
    semver::Version::parse(version).is_ok().then_some(version)
}
