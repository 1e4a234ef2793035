//! A token endpoint's answer, read without ever showing its body: an answer may carry a live
//! credential in any shape (a token in a truncated or padded body, in a 5xx page), so only the
//! registry's or GitHub's own error words are shown. Every credential the body seems to hold is
//! found, for the caller to mask at once (and revoke, when it may be a live registry token).

use crate::secret;

/// The most of a body that is read: an answer holding a token is a few hundred bytes.
const BODY_LIMIT: u64 = 64 * 1024;

/// What a token endpoint answered.
pub(super) struct Answer {
    pub(super) status: u16,
    /// The body as far as it was read (lossy UTF-8).
    pub(super) text: String,
    /// Why the body was not read whole (larger than [`BODY_LIMIT`], cut off), if it wasn't.
    pub(super) cut: Option<String>,
}

impl Answer {
    pub(super) fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        let mut reader = response.body_mut().with_config().limit(BODY_LIMIT).reader();
        let cut = std::io::Read::read_to_end(&mut reader, &mut bytes)
            .err()
            .map(|e| e.to_string());
        Answer {
            status,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            cut,
        }
    }

    /// The body, parsed as `T`: only a body read whole, exactly that JSON and nothing after it.
    pub(super) fn json<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        match &self.cut {
            Some(_) => None,
            None => serde_json::from_str(&self.text).ok(),
        }
    }

    /// What may be shown of the body: the registry's own error words
    /// (`{"errors":[{"detail":…}]}`, crates.io's shape) or GitHub's (`{"message":…}`), at
    /// most 500 characters; else only its size.
    pub(super) fn said(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Errors {
            errors: Vec<Detail>,
        }
        #[derive(serde::Deserialize)]
        struct Detail {
            detail: String,
        }
        #[derive(serde::Deserialize)]
        struct Message {
            message: String,
        }
        let words = if let Some(Errors { errors }) = self.json::<Errors>()
            && !errors.is_empty()
        {
            Some(
                errors
                    .into_iter()
                    .map(|e| e.detail)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        } else {
            self.json::<Message>().map(|m| m.message)
        };
        match words {
            Some(words) => words.chars().take(500).collect(),
            None => self.unshown(),
        }
    }

    /// The body, described without its content.
    pub(super) fn unshown(&self) -> String {
        if self.text.trim().is_empty() && self.cut.is_none() {
            return "no details (empty body)".to_owned();
        }
        let cut = self
            .cut
            .as_ref()
            .map(|why| format!(", cut off: {why}"))
            .unwrap_or_default();
        format!(
            "its body ({} bytes{cut}) is not shown: a token endpoint's answer may hold a credential",
            self.text.len()
        )
    }

    /// Every credential the body seems to hold (see [`credentials_in`]).
    pub(super) fn credentials(&self, keys: &[&str]) -> Vec<String> {
        credentials_in(&self.text, keys)
    }
}

/// Credentials `text` seems to hold, however broken it is: the string value of each of `keys`
/// (read in a body cut off, or with bytes after the JSON), crates.io's tokens (`cio` and 32
/// letters or digits; trusted publishing's `cio_tp_` and 32: rust-lang/crates.io
/// `crates/crates_io_trustpub/src/access_token.rs` at 1ad13a61), and JWTs (`eyJ…`, dotted).
/// Only what is long enough to be a secret ([`secret::too_short_to_mask`]).
pub(super) fn credentials_in(text: &str, keys: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for key in keys {
        let quoted = format!("\"{key}\"");
        let mut rest = text;
        while let Some(at) = rest.find(&quoted) {
            rest = &rest[at + quoted.len()..];
            let value = rest
                .trim_start()
                .strip_prefix(':')
                .map(str::trim_start)
                .and_then(|v| v.strip_prefix('"'));
            if let Some(value) = value {
                found.push(string_value(value));
            }
        }
    }
    let word = |c: char| c.is_ascii_alphanumeric() || "_-.=".contains(c);
    for part in text.split(|c: char| !word(c)) {
        let token = part.starts_with("cio") && part.len() >= 35;
        let jwt = part.starts_with("eyJ") && part.contains('.');
        if token || jwt {
            found.push(part.to_owned());
        }
    }
    let mut kept: Vec<String> = Vec::new();
    for candidate in found {
        if !secret::too_short_to_mask(&candidate) && !kept.contains(&candidate) {
            kept.push(candidate);
        }
    }
    kept
}

/// A JSON string's value from just after its opening quote: up to the closing quote, or to
/// the end of a text cut off inside it; escapes read as JSON reads them where it can.
fn string_value(from: &str) -> String {
    let mut escaped = false;
    let mut end = from.len();
    for (i, c) in from.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let raw = &from[..end];
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{Answer, credentials_in};

    #[test]
    fn only_the_registrys_own_error_words_are_shown() {
        let said = |text: &str| {
            Answer {
                status: 500,
                text: text.to_owned(),
                cut: None,
            }
            .said()
        };
        assert_eq!(
            said(r#"{"errors":[{"detail":"a"},{"detail":"b"}]}"#),
            "a; b"
        );
        assert_eq!(said(r#"{"message":"bad token"}"#), "bad token");
        assert_eq!(
            said("<html>502 cio_tp_x</html>"),
            "its body (25 bytes) is not shown: a token endpoint's answer may hold a credential"
        );
        assert_eq!(said(""), "no details (empty body)");
        let cut = Answer {
            status: 200,
            text: r#"{"errors":[{"detail":"a"}]}"#.to_owned(),
            cut: Some("the body is larger than the limit".to_owned()),
        };
        assert!(
            cut.said().starts_with("its body (27 bytes, cut off: "),
            "{}",
            cut.said()
        );
    }

    #[test]
    fn credentials_are_found_in_any_shape_of_body() {
        let token = "cio_tp_gGK6jurSwKyl9V3Az19z7YEFQI9aoOOd";
        // Cut off, with bytes after the JSON, in an HTML page, as an escaped JSON string.
        assert_eq!(
            credentials_in(&format!(r#"{{"token":"{}"#, &token[..20]), &["token"]),
            [&token[..20]]
        );
        assert_eq!(
            credentials_in(&format!(r#"{{"token": "{token}"}}garbage"#), &["token"]),
            [token]
        );
        assert_eq!(
            credentials_in(&format!("<html>502 {token}</html>"), &["token"]),
            [token]
        );
        assert_eq!(
            credentials_in(r#"{"token":"a\"quoted\"token"}"#, &["token"]),
            ["a\"quoted\"token"]
        );
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        assert_eq!(
            credentials_in(
                &format!(r#"{{"count":1,"value":"{}"#, &jwt[..30]),
                &["value"]
            ),
            [&jwt[..30]]
        );
        assert_eq!(credentials_in(&format!("oops {jwt} oops"), &[]), [jwt]);
        // Nothing too short to be a secret, nothing that is plain words.
        assert!(credentials_in(r#"{"token":" ","detail":"no token here"}"#, &["token"]).is_empty());
    }
}
