//! Every secret out of what is printed: the masker, and the forms a secret can be echoed in.

use secrecy::{ExposeSecret, SecretString};

/// Replaces every secret in text with `***`. Clones share one list, so a secret added later
/// (a renewed token) is masked by every stream already running.
#[derive(Clone, Default)]
pub(crate) struct Masker {
    secrets: std::sync::Arc<std::sync::Mutex<Vec<SecretString>>>,
}

impl Masker {
    /// Mask `secret` and every form of it that could be echoed (see [`forms`]); `false`, and
    /// nothing masked, when it is [`too_short_to_mask`].
    pub(crate) fn add(&self, secret: &str) -> bool {
        let forms = forms(secret);
        let mut secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        for form in &forms {
            secrets.push(SecretString::from(form.clone()));
        }
        // Longest first: a line of a multi-line secret must not break up the whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.expose_secret().len()));
        !forms.is_empty()
    }

    /// `text` with every secret (and every URL's userinfo, see [`without_userinfo`]) out.
    pub(crate) fn mask(&self, text: &str) -> String {
        let mut text = without_userinfo(text);
        for secret in self
            .secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            text = text.replace(secret.expose_secret(), "***");
        }
        text
    }
}

/// `text` with the userinfo (`user:password@`) of every URL in it left out, as cargo shows a
/// registry URL: a private registry's index URL may carry its credentials, and no message,
/// log line or report needs them.
pub(crate) fn without_userinfo(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        shown.push_str(head);
        let authority = tail
            .find(|c: char| "/?#`'\"<>".contains(c) || c.is_whitespace())
            .unwrap_or(tail.len());
        match tail[..authority].rfind('@') {
            Some(end) => rest = &tail[end + 1..],
            None => rest = tail,
        }
    }
    shown.push_str(rest);
    shown
}

/// The fewest characters a secret (or a line of one, or an encoded form) has to be masked:
/// a shorter one would take the same characters everywhere else in the log (`1` in every
/// number, a space in every line), and no registry hands out tokens that short.
pub(crate) const MIN_MASKED: usize = 6;

/// Whether `secret` is too short to mask without hiding innocent text (see [`MIN_MASKED`]).
pub(crate) fn too_short_to_mask(secret: &str) -> bool {
    secret.trim().chars().count() < MIN_MASKED
}

/// What to mask for `secret` (nothing when it is [`too_short_to_mask`]): itself; each of its lines (GitHub masks one line at a time, so
/// each is registered on its own); and the forms cargo or a registry could echo it in —
/// percent-encoded (a URL) and base64 (an `Authorization: Basic` header, a JWT claim) at each
/// of the three byte alignments it can have inside a longer encoded text.
pub(crate) fn forms(secret: &str) -> Vec<String> {
    if too_short_to_mask(secret) {
        return Vec::new();
    }
    let mut forms = vec![secret.to_owned()];
    forms.extend(
        secret
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned),
    );
    for form in forms.clone() {
        forms.push(percent_encode(&form));
        for offset in 0..3 {
            forms.push(base64_core(form.as_bytes(), offset));
        }
    }
    // Short lines and encoded fragments would mask innocent text everywhere.
    let mut kept: Vec<String> = Vec::new();
    for form in forms {
        if !too_short_to_mask(&form) && !kept.contains(&form) {
            kept.push(form);
        }
    }
    kept
}

/// Every byte but RFC 3986's unreserved ones as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The base64 characters that depend on `bytes` alone when they follow `offset` other bytes
/// (the characters straddling a neighbour's bits are left out).
fn base64_core(bytes: &[u8], offset: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data: Vec<u8> = std::iter::repeat_n(0, offset)
        .chain(bytes.iter().copied())
        .collect();
    let (start, end) = (offset * 8, data.len() * 8);
    let bit = |i: usize| (data[i / 8] >> (7 - i % 8)) & 1;
    (0..end / 6)
        .filter(|c| c * 6 >= start && c * 6 + 6 <= end)
        .map(|c| {
            let value = (0..6).fold(0usize, |v, k| (v << 1) | usize::from(bit(c * 6 + k)));
            char::from(ALPHABET[value])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_userinfo() {
        let m = Masker::default();
        assert_eq!(
            m.mask(
                "index `sparse+https://ci:hunter2@reg.example/index/` and https://tok@dl.example/x"
            ),
            "index `sparse+https://reg.example/index/` and https://dl.example/x"
        );
        assert_eq!(
            without_userinfo("git fetch https://u:p%40ss@git.example:8443/i.git, a@b.c"),
            "git fetch https://git.example:8443/i.git, a@b.c"
        );
        assert_eq!(
            without_userinfo("http://127.0.0.1:1/a@b ok://"),
            "http://127.0.0.1:1/a@b ok://"
        );
    }

    #[test]
    fn masker_hides_secrets() {
        let m = Masker::default();
        m.add("s3cr3t");
        assert_eq!(m.mask("token s3cr3t and s3cr3t"), "token *** and ***");
    }

    #[test]
    fn masker_hides_each_line_and_encoded_forms() {
        let m = Masker::default();
        m.add("first-line-abc\nsecond/line+xyz");
        assert_eq!(m.mask("a second/line+xyz b"), "a *** b");
        assert_eq!(m.mask("first-line-abc\nsecond/line+xyz"), "***");
        assert_eq!(m.mask("?t=second%2Fline%2Bxyz&"), "?t=***&");
        // The base64 of the token inside a longer base64 text, at every alignment.
        for prefix in ["", "u", "us", "use"] {
            let whole = format!("{prefix}:first-line-abc");
            let encoded = base64_core(whole.as_bytes(), 0);
            let masked = m.mask(&encoded);
            assert!(masked.contains("***"), "{prefix:?}: {encoded} -> {masked}");
        }
    }

    #[test]
    fn a_token_too_short_to_be_a_secret_masks_nothing() {
        let m = Masker::default();
        for short in ["", " ", "1", "true", "abcde", " ab \n"] {
            assert!(too_short_to_mask(short), "{short:?}");
            assert!(!m.add(short), "{short:?}");
        }
        assert_eq!(m.mask("f2a13ce0b1 true abcde"), "f2a13ce0b1 true abcde");
        // A long secret's short lines, and its short encoded fragments, are left alone too.
        assert!(m.add("tok\nlong-enough-line"));
        assert_eq!(m.mask("tok long-enough-line"), "tok ***");
        assert!(
            forms("long-enough-line")
                .iter()
                .all(|f| f.len() >= MIN_MASKED)
        );
    }
}
