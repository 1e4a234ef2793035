//! shipcrate's own config file: found, checked to be a regular file of sane size, read once,
//! and refused when a key is given twice. Never touches `.travis.yml` (Travis reads last-wins).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Result;
use figment::value::{Dict, Map};
use figment::{Metadata, Profile, Provider, Source};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::error::UsageError;

/// Larger than any config file a person writes; parsing more only costs memory.
pub(super) const MAX_BYTES: u64 = 1024 * 1024;

/// What is at `path` when it is not a regular file ("a directory", "a FIFO (named pipe)"), or
/// `None` for a file. Symlinks are followed.
pub(super) fn not_a_file(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Some(if std::fs::symlink_metadata(path).is_ok() {
            "a symlink to nothing"
        } else {
            "missing"
        });
    };
    let kind = meta.file_type();
    Some(match () {
        () if kind.is_file() => return None,
        () if kind.is_dir() => "a directory",
        () if kind.is_fifo() => "a FIFO (named pipe)",
        () if kind.is_char_device() => "a character device",
        () if kind.is_block_device() => "a block device",
        () if kind.is_socket() => "a socket",
        () => "not a regular file",
    })
}

/// The YAML at `path` as a figment provider whose values name the file, read at most
/// [`MAX_BYTES`] and refused when any mapping gives a key twice.
pub(super) struct YamlFile {
    path: PathBuf,
    text: String,
}

impl YamlFile {
    pub(super) fn read(path: &Path) -> Result<Self> {
        let shown = path.display();
        let file = fs_err::File::open(path).map_err(|e| {
            UsageError(format!(
                "cannot read the config file `{shown}`: {}",
                e.kind()
            ))
        })?;
        // The open file, not the path: it can't be swapped for something else in between.
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(UsageError(format!("config file `{shown}` is not a regular file")).into());
        }
        let mut bytes = Vec::new();
        file.take(MAX_BYTES + 1).read_to_end(&mut bytes)?;
        if meta.len() > MAX_BYTES || bytes.len() as u64 > MAX_BYTES {
            return Err(UsageError(format!(
                "config file `{shown}` is {} bytes; a shipcrate config file may be at most 1 MiB",
                meta.len().max(bytes.len() as u64)
            ))
            .into());
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| UsageError(format!("config file `{shown}` is not valid UTF-8")))?;
        if let Some(twice) = duplicate_key(&text) {
            return Err(UsageError(format!(
                "`{}` is given twice in {shown}, on lines {} and {}: keep one (shipcrate \
                 does not guess which one you meant)",
                twice.key, twice.first, twice.second
            ))
            .into());
        }
        Ok(YamlFile {
            path: path.to_path_buf(),
            text,
        })
    }
}

impl Provider for YamlFile {
    fn metadata(&self) -> Metadata {
        Metadata::from("YAML file", Source::File(self.path.clone()))
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        use figment::providers::{Format, Yaml};
        Yaml::string(&self.text).data()
    }
}

/// A key given twice in one mapping: its dotted path and both 1-based lines.
#[derive(Debug, PartialEq, Eq)]
struct Twice {
    key: String,
    first: usize,
    second: usize,
}

/// The first key any mapping of the (first) document gives twice. Aliases are not expanded,
/// so this costs one pass over the text whatever it holds. A text YAML can't parse is left to
/// the real parser, which reports it with its position.
fn duplicate_key(text: &str) -> Option<Twice> {
    let mut finder = Finder::default();
    let _ = Parser::new_from_str(text).load(&mut finder, false);
    finder.found
}

#[derive(Default)]
struct Finder {
    /// Open collections, innermost last.
    stack: Vec<Frame>,
    found: Option<Twice>,
}

enum Frame {
    Sequence,
    Mapping {
        /// Dotted path of this mapping.
        path: String,
        /// Keys seen, with their lines.
        keys: Vec<(String, usize)>,
        /// The next node is a key (else a value).
        at_key: bool,
        /// The key whose value is being read.
        current: String,
    },
}

impl Finder {
    /// A node (scalar, alias or a collection's start) just began at `mark`.
    fn node(&mut self, scalar: Option<&str>, mark: Marker) -> String {
        let mut child_path = String::new();
        if let Some(Frame::Mapping {
            path,
            keys,
            at_key,
            current,
        }) = self.stack.last_mut()
        {
            if *at_key {
                let key = scalar.unwrap_or("?").to_owned();
                let line = mark.line();
                let dotted = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if let Some((_, first)) = keys.iter().find(|(k, _)| *k == key)
                    && self.found.is_none()
                {
                    self.found = Some(Twice {
                        key: dotted.clone(),
                        first: *first,
                        second: line,
                    });
                }
                keys.push((key, line));
                *current = dotted;
            } else {
                child_path.clone_from(current);
            }
            *at_key = !*at_key;
        }
        child_path
    }
}

impl MarkedEventReceiver for Finder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(value, ..) => {
                self.node(Some(&value), mark);
            }
            Event::Alias(_) => {
                self.node(None, mark);
            }
            Event::MappingStart(..) => {
                let path = self.node(None, mark);
                self.stack.push(Frame::Mapping {
                    path,
                    keys: Vec::new(),
                    at_key: true,
                    current: String::new(),
                });
            }
            Event::SequenceStart(..) => {
                self.node(None, mark);
                self.stack.push(Frame::Sequence);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_key_given_twice_with_both_lines() {
        let twice = |text: &str| duplicate_key(text);
        assert_eq!(
            twice("dry_run: true\nregistry: x\ndry_run: false\n"),
            Some(Twice {
                key: "dry_run".into(),
                first: 1,
                second: 3
            })
        );
        assert_eq!(
            twice("on:\n  tags: true\n  branch: main\n  tags: false\n"),
            Some(Twice {
                key: "on.tags".into(),
                first: 2,
                second: 4
            })
        );
        assert_eq!(
            twice("on: {tags: true, tags: false}\n").map(|t| t.key),
            Some("on.tags".into())
        );
        // The same key in different mappings, or in list items, is fine.
        assert_eq!(
            twice("on:\n  tags: true\ntags_x: 1\nbefore_deploy: [a, a]\nx:\n - a: 1\n - a: 2\n"),
            None
        );
    }
}
