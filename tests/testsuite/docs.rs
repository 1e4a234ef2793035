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

#[test]
fn readme_shows_the_validated_examples_and_the_dev_action_matches() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let readme = read("README.md");
    for example in ["examples/github-publish.yml", "examples/gitlab-ci.yml"] {
        assert!(
            readme.contains(&read(example)),
            "README does not show {example} as it is"
        );
    }
    let inputs_and_outputs = |text: &str| -> String {
        let start = text.find("inputs:").unwrap();
        let end = text.find("runs:").unwrap();
        text[start..end].to_owned()
    };
    assert_eq!(
        inputs_and_outputs(&read(".github/actions/shipcrate-dev/action.yml")),
        inputs_and_outputs(&read("action.yml")),
        "the development action's inputs or outputs differ from action.yml's"
    );
}
