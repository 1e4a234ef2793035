//! What cargo printed, read: its status lines as a publish goes (`Uploading`, `Uploaded`,
//! `Published`; `Packaging`, `Verifying`), its first error, and a failed upload's kind.
//!
//! Reads text only; never decides what to do about it (`publish` and `upload` do).

use std::time::SystemTime;

use crate::plan::Package;

/// How a failed `cargo publish` should be treated, read from what cargo printed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// 429: too many requests; crates.io says until when.
    RateLimited { until: Option<SystemTime> },
    /// 5xx: the registry had a problem; worth another try.
    Unavailable(u16),
    /// The version exists already (another publisher won the race).
    AlreadyExists,
    /// Anything else: not retried.
    Other,
}

pub(crate) fn classify(output: &str) -> Failure {
    if output.contains("already exists") || output.contains("already uploaded") {
        return Failure::AlreadyExists;
    }
    let mut codes = statuses(output).into_iter();
    if codes.clone().any(|c| c == 429) {
        let until = output
            .split("Please try again after ")
            .nth(1)
            .and_then(|rest| {
                let date = rest.split(" and see").next()?.trim().trim_end_matches('.');
                httpdate::parse_http_date(date).ok()
            });
        return Failure::RateLimited { until };
    }
    match codes.find(|code| (500..600).contains(code)) {
        Some(code) => Failure::Unavailable(code),
        None => Failure::Other,
    }
}

/// What a line of `cargo publish` output says about a crate of `batch`.
#[derive(Debug, PartialEq)]
pub(crate) enum CargoSays<'p> {
    /// `Uploading a v0.1.0 (…)`
    Uploading(&'p Package),
    /// `Uploaded a v0.1.0 to registry …`
    Uploaded(&'p Package),
    /// `Published a v0.1.0 and b v0.2.0 at registry …`: in the index.
    Published(Vec<&'p Package>),
}

impl<'p> CargoSays<'p> {
    pub(crate) fn read(line: &str, batch: &'p [Package]) -> Option<Self> {
        let line = line.trim_start();
        let (verb, rest) = line.split_once(' ')?;
        // "name vX.Y.Z" pairs, wherever they stand in a list ("a v1, b v2, and c v3").
        let words: Vec<&str> = rest
            .split_whitespace()
            .map(|w| w.trim_end_matches(','))
            .collect();
        let named = |p: &Package| {
            let version = format!("v{}", p.version);
            words
                .windows(2)
                .any(|pair| pair[0] == p.name && pair[1] == version)
        };
        let first = || {
            batch
                .iter()
                .find(|p| words.len() >= 2 && named(p) && words[0] == p.name)
        };
        match verb {
            "Uploading" => first().map(CargoSays::Uploading),
            "Uploaded" => first().map(CargoSays::Uploaded),
            "Published" => {
                let list: Vec<&Package> = batch.iter().filter(|p| named(p)).collect();
                (!list.is_empty()).then_some(CargoSays::Published(list))
            }
            _ => None,
        }
    }
}

/// The HTTP statuses a registry answered, as cargo reports them: "(status 503 Service
/// Unavailable)" for a JSON error body, "failed to get a 200 OK response, got 503" for any
/// other.
fn statuses(output: &str) -> Vec<u16> {
    ["(status ", "got "]
        .into_iter()
        .flat_map(|marker| {
            output
                .split(marker)
                .skip(1)
                .filter_map(|rest| rest.get(..3)?.parse::<u16>().ok())
        })
        .collect()
}

/// The registry refused the credentials (401/403): the token, not the crate, was the problem.
pub(crate) fn refused_credentials(error: &str) -> bool {
    statuses(error).iter().any(|c| matches!(c, 401 | 403))
}

/// A registry's refusal that asks for trusted publishing instead of a token (crates.io's
/// words for a crate locked to it).
pub(crate) fn wants_trusted_publishing(error: &str) -> bool {
    error.contains("Trusted Publishing")
}

/// `output` names `spec` (`name@version`) as a whole word: `b@0.1.0` is not in
/// `crate ab@0.1.0 already exists`.
pub(crate) fn names(output: &str, spec: &str) -> bool {
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    output.match_indices(spec).any(|(at, _)| {
        !output[..at].chars().next_back().is_some_and(part_of_name)
            && !output[at + spec.len()..]
                .chars()
                .next()
                .is_some_and(|c| part_of_name(c) || c == '.')
    })
}

/// How far cargo got with `packages` before its first error: the ones it verified, and the
/// one it was packaging or verifying when it failed (`None` when its output doesn't say).
pub(crate) fn progress(packages: &[&Package], output: &str) -> (Vec<usize>, Option<usize>) {
    let mut verified = Vec::new();
    let mut current = None;
    for line in output.lines().take_while(|l| !l.starts_with("error")) {
        let line = line.trim_start();
        let (verifying, rest) = match (
            line.strip_prefix("Verifying "),
            line.strip_prefix("Packaging "),
        ) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => continue,
        };
        let Some(at) = packages
            .iter()
            .position(|p| rest.starts_with(&format!("{} v{} ", p.name, p.version)))
        else {
            continue;
        };
        if verifying {
            verified.push(at);
        }
        current = Some(at);
    }
    verified.retain(|&i| Some(i) != current);
    (verified, current)
}

/// cargo's error, without the progress lines before it, nor the response headers cargo
/// prints for a registry's non-JSON answer (its body — the registry's own words — stays).
pub(crate) fn first_error(output: &str) -> String {
    let mut in_headers = false;
    let mut text: Vec<&str> = output
        .lines()
        .skip_while(|l| !l.starts_with("error"))
        .map(str::trim)
        .filter(|l| {
            match *l {
                "headers:" => in_headers = true,
                "body:" => {
                    in_headers = false;
                    return false;
                }
                _ => {}
            }
            !in_headers && !l.is_empty()
        })
        .take(6)
        .collect();
    if text.is_empty() {
        text.push("cargo failed");
    }
    text.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Package;

    #[test]
    fn an_error_names_a_crate_only_as_a_whole_word() {
        let out = "error: crate ab@0.1.0 already exists on registry `alternative`";
        assert!(super::names(out, "ab@0.1.0"));
        assert!(!super::names(out, "b@0.1.0"));
        assert!(!super::names(out, "ab@0.1"));
        assert!(super::names("crate `ab@0.1.0`, and", "ab@0.1.0"));
    }

    #[test]
    fn cargos_upload_lines_are_read_for_the_crates_of_the_run() {
        let batch: Vec<Package> = [("a", "0.1.0"), ("ab", "1.2.3"), ("c", "0.1.0")]
            .map(|(name, version)| Package {
                name: name.to_owned(),
                version: version.to_owned(),
                dir: std::path::PathBuf::new(),
            })
            .into();
        let read = |line: &str| CargoSays::read(line, &batch);
        assert_eq!(
            read("   Uploading ab v1.2.3 (/t/ab)"),
            Some(CargoSays::Uploading(&batch[1]))
        );
        assert_eq!(
            read("    Uploaded a v0.1.0 to registry `alternative`"),
            Some(CargoSays::Uploaded(&batch[0]))
        );
        // cargo's list forms: "x and y", "x, y, and z" (sorted by name).
        assert_eq!(
            read("   Published a v0.1.0 and c v0.1.0 at registry `crates-io`"),
            Some(CargoSays::Published(vec![&batch[0], &batch[2]]))
        );
        assert_eq!(
            read("   Published a v0.1.0, ab v1.2.3, and c v0.1.0 at registry `crates-io`"),
            Some(CargoSays::Published(batch.iter().collect()))
        );
        // Another version, another crate, or another verb: nothing.
        assert_eq!(read("   Uploading ab v1.2.4 (/t/ab)"), None);
        assert_eq!(read("   Uploading abc v1.2.3 (/t/abc)"), None);
        assert_eq!(read("   Packaging a v0.1.0 (/t/a)"), None);
    }

    #[test]
    fn a_failed_dry_run_is_read_in_cargos_order_not_ours() {
        let packages: Vec<Package> = ["a", "b", "c"]
            .map(|name| Package {
                name: name.to_owned(),
                version: "0.1.0".to_owned(),
                dir: std::path::PathBuf::new(),
            })
            .into();
        let refs: Vec<&Package> = packages.iter().collect();
        // cargo packages all, then verifies in an order of its own; `b` breaks.
        let output = "   Packaging a v0.1.0 (/t/a)\n    Packaged 4 files\n   Packaging c v0.1.0 (/t/c)\n\
                      \x20  Packaging b v0.1.0 (/t/b)\n   Verifying c v0.1.0 (/t/c)\n\
                      \x20  Compiling c v0.1.0\n   Verifying b v0.1.0 (/t/b)\n\
                      error[E0425]: cannot find value `oops`\n";
        assert_eq!(super::progress(&refs, output), (vec![2], Some(1)));
        // A registry's plain-text refusal: its words, not cargo's dump of the headers.
        let refused = "   Uploading a v0.1.0 (/t/a)\nerror: failed to publish a v0.1.0 to registry at http://r/\n\n\
                       Caused by:\n  failed to get a 200 OK response, got 401\n  headers:\n  \tHTTP/1.1 401\n\
                       \x20 \tContent-Length: 33\n  \t\n  body:\n  Unauthorized message from server.\n";
        assert_eq!(
            super::first_error(refused),
            "error: failed to publish a v0.1.0 to registry at http://r/ Caused by: failed to get a \
             200 OK response, got 401 Unauthorized message from server."
        );
        // Nothing recognisable: no crate to blame.
        assert_eq!(
            super::progress(&refs, "error: no such registry\n"),
            (vec![], None)
        );
    }

    #[test]
    fn reads_crates_ios_rate_limit_answer() {
        let out = "error: failed to publish to registry at https://crates.io\n\nCaused by:\n  the remote server \
                   responded with an error (status 429 Too Many Requests): You have published too many new crates \
                   in a short period of time. Please try again after Sun, 14 Jun 2026 14:59:56 GMT and see \
                   https://crates.io/docs/rate-limits for more information on rate limits.";
        let until = httpdate::parse_http_date("Sun, 14 Jun 2026 14:59:56 GMT").unwrap();
        assert_eq!(classify(out), Failure::RateLimited { until: Some(until) });
    }

    #[test]
    fn refused_credentials_are_401_and_403_only() {
        assert!(refused_credentials(
            "the remote server responded with an error (status 403 Forbidden): no"
        ));
        assert!(refused_credentials(
            "failed to get a 200 OK response, got 401"
        ));
        assert!(!refused_credentials(
            "responded with an error (status 503 Service Unavailable): down"
        ));
        assert!(!refused_credentials(
            "error[E0425]: cannot find value `nope`"
        ));
    }

    #[test]
    fn other_answers() {
        assert_eq!(
            classify("responded with an error (status 503 Service Unavailable): down"),
            Failure::Unavailable(503)
        );
        assert_eq!(
            classify("error: crate foo@1.0.0 already exists on crates.io index"),
            Failure::AlreadyExists
        );
        assert_eq!(
            classify("(status 403 Forbidden): not an owner"),
            Failure::Other
        );
        assert_eq!(classify("error[E0425]: cannot find value"), Failure::Other);
    }
}
