//! `.travis.yml` parsed as Travis parsed it (Ruby's YAML 1.1): `yes` / `on` are booleans,
//! anchors and `<<` merge keys resolve, a repeated key keeps its last value. Scalars keep the
//! text written in the file, so `rust: 1.70` stays `1.70`.
//!
//! Reads only; knows nothing of deploy rules.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One YAML node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Node {
    /// A scalar as written; `plain` when unquoted (only plain scalars can be booleans or null).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in file order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar's text, unless it is null.
    pub(super) fn text(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// YAML 1.1's booleans (`yes`, `on`, `true`, `y`, … and their negations), as Ruby read them;
    /// a quoted `"true"` / `"false"` too, as Travis configs sometimes quote them.
    pub(super) fn boolean(&self) -> Option<bool> {
        let Node::Scalar { text, plain } = self else {
            return None;
        };
        if !plain {
            return match text.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            };
        }
        match text.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
                Some(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off"
            | "OFF" => Some(false),
            _ => None,
        }
    }

    pub(super) fn entries(&self) -> Option<&[(Node, Node)]> {
        match self {
            Node::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under the key written `key`.
    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|(k, _)| k.text() == Some(key))
            .map(|(_, v)| v)
    }

    /// A scalar, or each scalar of a list, as text (nulls left out).
    pub(super) fn texts(&self) -> Vec<String> {
        match self {
            Node::Seq(items) => items
                .iter()
                .filter_map(|n| n.text().map(str::to_owned))
                .collect(),
            other => other.text().map(str::to_owned).into_iter().collect(),
        }
    }
}

/// Parse the first document of `text`; an empty file is an empty map.
pub(super) fn parse(text: &str) -> Result<Node, String> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|e| e.to_string())?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder.root.unwrap_or(Node::Map(Vec::new())))
}

enum Frame {
    Seq(usize, Vec<Node>),
    Map {
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        merges: Vec<Node>,
    },
}

/// The most nodes a file may come to with its aliases expanded: a real `.travis.yml` has a
/// few hundred; a 544-byte alias bomb (each anchor aliasing the one before, ten times) would
/// otherwise be expanded into billions, without bound.
const MAX_NODES: usize = 100_000;

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// Each anchor's node and how many nodes it is.
    anchors: std::collections::HashMap<usize, (Node, usize)>,
    /// Nodes made so far, aliases expanded.
    nodes: usize,
    root: Option<Node>,
    error: Option<String>,
}

/// How many nodes `node` is, itself included.
fn size(node: &Node) -> usize {
    match node {
        Node::Scalar { .. } => 1,
        Node::Seq(items) => 1 + items.iter().map(size).sum::<usize>(),
        Node::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| size(k) + size(v))
                .sum::<usize>()
        }
    }
}

impl Builder {
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size(&node)));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                merges,
                ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(Node::Scalar { text, plain: true }) if text == "<<" => merges.push(node),
                Some(k) => {
                    // Ruby's Hash: a repeated key keeps its place and takes the last value.
                    if let Some(slot) = entries.iter_mut().find(|(old, _)| *old == k) {
                        slot.1 = node;
                    } else {
                        entries.push((k, node));
                    }
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        match event {
            Event::Scalar(text, style, anchor, _) => {
                self.nodes += 1;
                let plain = matches!(style, TScalarStyle::Plain);
                self.complete(Node::Scalar { text, plain }, anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((node, size)) => {
                    self.nodes += size;
                    if self.nodes > MAX_NODES {
                        self.error.get_or_insert_with(|| {
                            format!(
                                "its aliases expand it to more than {MAX_NODES} YAML nodes \
                                 (an alias bomb?); write the repeated parts out"
                            )
                        });
                        return;
                    }
                    self.complete(node.clone(), 0);
                }
                None => self.error = Some(format!("an alias refers to unknown anchor #{id}")),
            },
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(anchor, Vec::new())),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                anchor,
                entries: Vec::new(),
                key: None,
                merges: Vec::new(),
            }),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(anchor, items)) = self.stack.pop() {
                    self.complete(Node::Seq(items), anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    anchor,
                    mut entries,
                    merges,
                    ..
                }) = self.stack.pop()
                {
                    // `<<: *a` / `<<: [*a, *b]`: keys written here win, then the first merge.
                    let merged = merges.into_iter().flat_map(|m| match m {
                        Node::Seq(items) => items,
                        other => vec![other],
                    });
                    for source in merged {
                        for (k, v) in source.entries().unwrap_or_default() {
                            if !entries.iter().any(|(old, _)| old == k) {
                                entries.push((k.clone(), v.clone()));
                            }
                        }
                    }
                    self.complete(Node::Map(entries), anchor);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_1_1_as_ruby_did() {
        let doc = parse(
            "base: &b\n  tags: yes\n  rust: 1.70\ndeploy:\n  <<: *b\n  tags: on\n  k: 1\n  k: 2\n  q: \"yes\"\n",
        )
        .unwrap();
        let deploy = doc.get("deploy").unwrap();
        assert_eq!(deploy.get("tags").unwrap().boolean(), Some(true));
        assert_eq!(deploy.get("rust").unwrap().text(), Some("1.70"));
        assert_eq!(deploy.get("k").unwrap().text(), Some("2"));
        assert_eq!(deploy.get("q").unwrap().boolean(), None);
        assert_eq!(parse("").unwrap(), Node::Map(Vec::new()));
        assert!(parse("a: [\n").is_err());
    }
}
