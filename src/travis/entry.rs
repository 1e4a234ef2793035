//! One `provider: cargo` deploy entry, key by key: what each key the cargo provider took
//! becomes (`KEYS`, a table), its token, and its rules (`rules`).

use figment::value::{Dict, Value};

use super::yaml::Node;
use super::{Entry, TokenRule, rules};

/// What a key of a cargo entry becomes.
#[derive(Clone, Copy)]
enum Key {
    /// `provider: cargo`, read when the entries were found.
    Provider,
    /// The token (dpl: `--token`, else `CARGO_TOKEN`).
    Token,
    /// `allow_dirty`: a shipcrate setting of the same name.
    AllowDirty,
    /// The rules, read by `rules` (`on`, `if`, `true`).
    Rules,
    /// Nothing here; the note says why (`{label}` is the entry's label).
    Moot(&'static str),
    /// `allow_failure: true` let a failed deploy leave the build green.
    AllowFailure,
    /// `run`: dpl v2's commands after a successful deploy (dpl `lib/dpl/provider.rb:149`,
    /// `204-205`, `293-301`), before Travis's `after_deploy`.
    Run,
}

/// The keys of a cargo deploy entry: dpl's cargo provider (`token`, `allow_dirty`; dpl
/// `lib/dpl/providers/cargo.rb:16-17`) and travis-build's deploy script's own (`script.rb`).
const KEYS: &[(&str, Key)] = &[
    ("provider", Key::Provider),
    ("token", Key::Token),
    ("allow_dirty", Key::AllowDirty),
    (
        "skip_cleanup",
        Key::Moot(
            "`skip_cleanup` / `cleanup` are moot: shipcrate always publishes from a pristine copy of the commit",
        ),
    ),
    (
        "cleanup",
        Key::Moot(
            "`skip_cleanup` / `cleanup` are moot: shipcrate always publishes from a pristine copy of the commit",
        ),
    ),
    (
        "edge",
        Key::Moot("`edge` (Travis's dpl version) is ignored"),
    ),
    ("on", Key::Rules),
    ("if", Key::Rules),
    ("allow_failure", Key::AllowFailure),
    (
        "dpl_version",
        Key::Moot("{label}: `dpl_version` is moot: shipcrate runs cargo itself"),
    ),
    ("run", Key::Run),
];

fn key_of(key: &Node) -> Option<Key> {
    if rules::rules_key(key).is_some() {
        return Some(Key::Rules);
    }
    let name = key.text()?;
    KEYS.iter().find(|(k, _)| *k == name).map(|(_, what)| *what)
}

/// One cargo deploy entry in shipcrate's keys.
pub(super) fn translate(
    entry: &Node,
    label: &str,
    notes: &mut Vec<String>,
) -> std::result::Result<Entry, String> {
    let fields = entry.entries().unwrap_or_default();
    let mut settings = Dict::new();
    let mut token = TokenRule::Environment;
    // travis-build handed any other key to dpl as an option (`script.rb:273-275`), and dpl
    // v2 stopped at an option the provider does not take (`lib/dpl/cli.rb:16-17`, `88-91`):
    // the deploy failed, so it is refused here.
    if let Some((key, _)) = fields.iter().find(|(key, _)| key_of(key).is_none()) {
        let name = key.text().unwrap_or("");
        let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        // `api_key` is dpl v1's name for most providers' token.
        let near = if name == "api_key" {
            Some("token")
        } else {
            known
                .iter()
                .copied()
                .find(|k| strsim::jaro_winkler(k, name) > 0.8)
        };
        let near = near
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        return Err(format!(
            "{label} has `{name}`, which the cargo provider does not take{near} (it takes {})",
            known.join(", ")
        ));
    }
    for (key, value) in fields {
        match key_of(key).expect("checked above") {
            Key::Token => token = token_rule(value, label, &mut settings, notes)?,
            Key::AllowDirty => {
                let flag = value
                    .boolean()
                    .ok_or_else(|| format!("{label}: `allow_dirty` must be true or false"))?;
                settings.insert("allow_dirty".into(), Value::from(flag));
            }
            Key::Moot(note) => notes.push(note.replace("{label}", label)),
            Key::AllowFailure if value.boolean() == Some(true) => notes.push(format!(
                "{label}: `allow_failure` let a failed deploy leave Travis's build green; a failed \
                 publish still fails shipcrate's step, so that it is seen"
            )),
            Key::Run => {
                let commands = value.texts();
                if !commands.is_empty() {
                    notes.push(format!(
                        "{label}: `run` ran its commands after a successful deploy: they run \
                         after the publish, before `after_deploy`"
                    ));
                    settings.insert("after_deploy".into(), Value::from(commands));
                }
            }
            Key::Provider | Key::Rules | Key::AllowFailure => {}
        }
    }
    let rules = rules::read(fields, &token, label, notes)?;
    settings.insert("on".into(), Value::from(rules.on));
    Ok(Entry {
        label: label.to_owned(),
        settings,
        token,
        runtimes: rules.runtimes,
        job_if: rules.entry_if,
        job: Vec::new(),
    })
}

/// The token: encrypted, a reference, a (leaked) literal, or a per-branch map.
fn token_rule(
    node: &Node,
    label: &str,
    settings: &mut Dict,
    notes: &mut Vec<String>,
) -> std::result::Result<TokenRule, String> {
    let literal = |what: &str| {
        format!(
            "{label}: `token`{what} is a literal token in a file git tracks: anyone who can read \
             the repository can read it, so treat it as leaked and revoke it. Store it as a CI \
             secret and write `token: $CARGO_REGISTRY_TOKEN` (or leave `token` out)"
        )
    };
    let encrypted =
        |node: &Node| node.get("secure").is_some() && node.entries().is_some_and(|e| e.len() == 1);
    // `secure: $CARGO_TOKEN` is no ciphertext (a base64 value never starts with `$`): Travis
    // could not decrypt it, and people wrote it for the variable.
    let reference = node
        .get("secure")
        .and_then(Node::text)
        .filter(|t| encrypted(node) && t.trim_start().starts_with('$'));
    Ok(match node {
        node if node.is_null() => TokenRule::Environment,
        _ if reference.is_some() => {
            let var = reference.unwrap_or_default().trim().to_owned();
            notes.push(format!(
                "{label}: `token: {{secure: {var}}}` names a variable, not an encrypted value: \
                 the token is read from `{var}`"
            ));
            settings.insert("token".into(), Value::from(var));
            TokenRule::Given
        }
        node if encrypted(node) => {
            notes.push(format!(
                "{label}: the encrypted (`secure:`) token is Travis's to decrypt; shipcrate uses \
                 the token in `CARGO_REGISTRY_TOKEN` (else `CARGO_TOKEN`, which dpl reads)"
            ));
            TokenRule::Encrypted
        }
        Node::Map(branches) => {
            let mut map = Vec::new();
            for (branch, value) in branches {
                let branch = branch.text().unwrap_or_default().to_owned();
                let value = if encrypted(value) {
                    None
                } else {
                    match value.text() {
                        Some(v) if v.trim_start().starts_with('$') => Some(v.to_owned()),
                        Some(_) => return Err(literal(&format!(" for branch `{branch}`"))),
                        None => {
                            return Err(format!(
                                "{label}: `token.{branch}` must be `$VAR` or `secure:`"
                            ));
                        }
                    }
                };
                map.push((branch, value));
            }
            notes.push(format!(
                "{label}: `token` is a per-branch map (deprecated by Travis): the branch's own \
                 token is used, and only its branches deploy unless `on.branch` says otherwise"
            ));
            TokenRule::PerBranch(map)
        }
        node => match node.text() {
            Some(text) => {
                settings.insert("token".into(), Value::from(text.to_owned()));
                TokenRule::Given
            }
            None => {
                return Err(format!(
                    "{label}: `token` must be `$CARGO_TOKEN`, a `secure:` value, or a map of branches"
                ));
            }
        },
    })
}
