//! Deserializers for values as users write them: loose booleans, strings or lists, numbers
//! without quotes.

use serde::{Deserialize, Deserializer};

pub(super) fn de_bool<'de, D: Deserializer<'de>>(de: D) -> Result<bool, D::Error> {
    Ok(de_opt_bool(de)?.unwrap_or(false))
}

/// Booleans as YAML and env users write them: `true`, `"true"`, `yes`, `1`, `0`.
pub(super) fn de_opt_bool<'de, D: Deserializer<'de>>(de: D) -> Result<Option<bool>, D::Error> {
    use serde::de::{Error, Unexpected};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    let expected = "a boolean (true/false, yes/no, 1/0)";
    match Option::<Loose>::deserialize(de)? {
        None => Ok(None),
        Some(Loose::Bool(b)) => Ok(Some(b)),
        Some(Loose::Int(0)) => Ok(Some(false)),
        Some(Loose::Int(1)) => Ok(Some(true)),
        Some(Loose::Int(n)) => Err(D::Error::invalid_value(Unexpected::Signed(n), &expected)),
        Some(Loose::Text(s)) => match boolean(&s) {
            Some(b) => Ok(Some(b)),
            None => Err(D::Error::invalid_value(Unexpected::Str(&s), &expected)),
        },
    }
}

/// The one reading of a boolean written as text, for every layer (file, `SHIPCRATE_*`,
/// `INPUT_*`, flags): `true`/`yes`/`on`/`1` and `false`/`no`/`off`/`0`, any case, trimmed.
/// `.travis.yml` is read by YAML 1.1's rules instead (`travis::yaml`), never by this.
pub(super) fn boolean(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A string, or a number written without quotes.
pub(super) fn de_opt_text<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Int(i64),
        Float(f64),
        Str(String),
    }
    Ok(Option::<Text>::deserialize(de)?.map(|t| match t {
        Text::Int(n) => n.to_string(),
        Text::Float(f) => f.to_string(),
        Text::Str(s) => s,
    }))
}

/// A string or a list of strings.
pub(super) fn de_list<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(de)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}
