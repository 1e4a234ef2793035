//! The README's option table and `action.yml`'s inputs cover every key shipcrate reads.

use shipcrate::config::{KEYS, input_name};

#[test]
fn readme_and_action_list_every_key() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    for (key, _, _) in KEYS {
        let input = input_name(key);
        assert!(
            readme.contains(&format!("| `{key}` | `{input}` |")),
            "README lacks a row for `{key}`"
        );
        assert!(
            action.contains(&format!("\n  {input}:\n    description:")),
            "action.yml lacks input `{input}`"
        );
    }
    for input in action
        .lines()
        .filter_map(|l| l.strip_prefix("  ").and_then(|l| l.strip_suffix(':')))
    {
        if !input.starts_with(' ')
            && input != "config"
            && !["published", "skipped", "decision", "skip-reason", "dry-run"].contains(&input)
        {
            assert!(
                KEYS.iter().any(|(k, _, _)| input_name(k) == input),
                "action.yml input `{input}` is no key"
            );
        }
    }
}
