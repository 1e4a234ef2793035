//! Each uploaded `.crate` with its SHA-256, in the JSON report, the GitHub output `checksums`
//! and the dotenv file, checked against the `cksum` the index records; `crate_dir` keeps the
//! files. The oracle is the registry: the index's `cksum` and the file a consumer downloads.

use std::path::Path;

use cargo_test_support::paths;
use cargo_test_support::prelude::*;
use cargo_test_support::registry::Request;
use sha2::{Digest, Sha256};

use crate::support::*;

fn sha256_of(path: &Path) -> String {
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `checksums` value from a GitHub output file's `name<<delimiter` entries.
fn output(file: &str, name: &str) -> serde_json::Value {
    let mut lines = file.lines();
    let start = format!("{name}<<");
    lines.find(|l| l.starts_with(&start)).expect("the output");
    serde_json::from_str(lines.next().unwrap()).unwrap()
}

/// `one` and `two`, one crate each run: the first upload runs through the early cargo (no
/// hook), the second through a cargo started after `before_deploy`. Both ways the report,
/// the output and the dotenv give the hash the index records, which is the hash of the file
/// a consumer downloads and of the copy in `crate_dir`.
#[cargo_test]
fn each_upload_is_listed_with_the_sha256_the_index_records() {
    let registry = registry();
    let repo = Repo::with_crate("attested", "1.0.0");
    let dir = paths::root().join("crates");
    let report = paths::root().join("report.json");
    let outputs = paths::root().join("github_output");
    let dotenv = paths::root().join("publish.env");
    for (version, hook) in [("1.0.0", ""), ("1.1.0", "true")] {
        if version != "1.0.0" {
            std::fs::write(repo.root.join("Cargo.toml"), manifest("attested", version)).unwrap();
            repo.git(&["commit", "--quiet", "-am", "bump"]);
        }
        let _ = std::fs::remove_file(&outputs);
        repo.shipcrate()
            .registry_target()
            .env("SHIPCRATE_BEFORE_DEPLOY", hook)
            .env("SHIPCRATE_CRATE_DIR", dir.to_str().unwrap())
            .env("SHIPCRATE_REPORT", report.to_str().unwrap())
            .env("SHIPCRATE_DOTENV", dotenv.to_str().unwrap())
            .env("GITHUB_OUTPUT", outputs.to_str().unwrap())
            .run()
            .success();
        let entry = index_entries("attested")
            .into_iter()
            .find(|e| e["vers"] == version)
            .unwrap();
        let cksum = entry["cksum"].as_str().unwrap().to_owned();
        let file = format!("attested-{version}.crate");
        assert_eq!(sha256_of(&dir.join(&file)), cksum, "{file} in crate_dir");

        let report = json(&report);
        assert_eq!(report["crates"][0]["outcome"], "published");
        assert_eq!(report["crates"][0]["sha256"], cksum.as_str());
        let listed = serde_json::json!([{
            "name": "attested", "version": version, "file": file, "sha256": cksum
        }]);
        let outputs = std::fs::read_to_string(&outputs).unwrap();
        assert_eq!(output(&outputs, "checksums"), listed);
        let dotenv = std::fs::read_to_string(&dotenv).unwrap();
        assert!(
            dotenv.contains(&format!("SHIPCRATE_OUTPUT_CHECKSUMS={listed}\n")),
            "{dotenv}"
        );
    }
    // What a consumer downloads is the file attested.
    consume(&registry, "attested", "1.1.0");
    let cached = walkdir::WalkDir::new(paths::root().join("consumer-home/registry/cache"))
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name() == "attested-1.1.0.crate")
        .expect("the consumer's download");
    assert_eq!(
        sha256_of(cached.path()),
        sha256_of(&dir.join("attested-1.1.0.crate"))
    );

    // A run with nothing to upload lists nothing: the checksums are of uploads only.
    repo.shipcrate()
        .registry_target()
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .success();
    assert_eq!(json(&report)["crates"][0]["outcome"], "already-published");
    assert!(json(&report)["crates"][0].get("sha256").is_none());
}

/// A registry that stores other bytes than it was sent (here: it repacks the `.crate`'s gzip
/// stream, the same files in other bytes, and indexes its own file's hash): the run fails
/// naming both hashes, and nothing is put in `crate_dir` or listed to attest.
#[cargo_test]
fn a_registry_holding_other_bytes_than_were_uploaded_is_an_error_naming_both() {
    let _registry = sturdy(registry_builder().add_responder(
        "/api/v1/crates/new",
        |req: &Request, server| {
            let repacked = Request {
                body: req.body.as_deref().map(repack),
                ..req.clone()
            };
            server.check_authorized_publish(&repacked)
        },
    ));
    let repo = Repo::with_crate("repacked", "0.3.0");
    let dir = paths::root().join("crates");
    let report = paths::root().join("report.json");
    let out = repo
        .shipcrate()
        .registry_target()
        .env("SHIPCRATE_CRATE_DIR", dir.to_str().unwrap())
        .env("SHIPCRATE_REPORT", report.to_str().unwrap())
        .run()
        .code(1);
    let cksum = index_entries("repacked")[0]["cksum"]
        .as_str()
        .unwrap()
        .to_owned();
    let ours = sha256_of(
        &repo
            .root
            .join("target/package/tmp-crate/repacked-0.3.0.crate"),
    );
    assert_ne!(cksum, ours);
    let both = out.both();
    assert!(
        both.contains(&format!(
            "repacked v0.3.0: the index records SHA-256 {cksum}, but the `.crate` cargo uploaded"
        )) && both.contains(&format!("has {ours}")),
        "{both}"
    );
    assert!(!dir.join("repacked-0.3.0.crate").exists());
    let report = json(&report);
    assert_eq!(report["crates"][0]["outcome"], "published");
    assert!(report["crates"][0].get("sha256").is_none());
}

/// cargo's publish body (`u32` JSON length, JSON, `u32` file length, file) with the file's
/// gzip stream decompressed and compressed again at another level.
fn repack(body: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let json_len = u32::from_le_bytes(body[..4].try_into().unwrap()) as usize;
    let (head, rest) = body.split_at(4 + json_len);
    let file_len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
    let file = &rest[4..4 + file_len];
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut tar)
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
    gz.write_all(&tar).unwrap();
    let other = gz.finish().unwrap();
    let mut out = head.to_vec();
    out.extend(u32::try_from(other.len()).unwrap().to_le_bytes());
    out.extend(other);
    out
}
