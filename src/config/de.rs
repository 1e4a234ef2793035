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

/// A string or a list of strings; anything else is refused saying so (serde's own words for
/// an untagged enum name no type a user wrote).
pub(super) fn de_list<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    use serde::de::{Error, Unexpected};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Item {
        Text(String),
        Bool(bool),
        Int(i64),
        Float(f64),
        List(Vec<Item>),
        Map(serde::de::IgnoredAny),
    }
    const EXPECTED: &str =
        "a string or a list of strings (`[a, b]`, or one per line from env and inputs)";
    let unexpected = |item: &Item| match item {
        Item::Bool(b) => D::Error::invalid_type(Unexpected::Bool(*b), &EXPECTED),
        Item::Int(n) => D::Error::invalid_type(Unexpected::Signed(*n), &EXPECTED),
        Item::Float(f) => D::Error::invalid_type(Unexpected::Float(*f), &EXPECTED),
        Item::List(_) => D::Error::invalid_type(Unexpected::Other("a list of lists"), &EXPECTED),
        Item::Map(_) | Item::Text(_) => D::Error::invalid_type(Unexpected::Map, &EXPECTED),
    };
    match Option::<Item>::deserialize(de)? {
        None => Ok(Vec::new()),
        Some(Item::Text(s)) => Ok(vec![s]),
        Some(Item::List(items)) => items
            .into_iter()
            .map(|item| match item {
                Item::Text(s) => Ok(s),
                Item::Map(_) => Err(D::Error::invalid_type(
                    Unexpected::Other("a list holding a map"),
                    &EXPECTED,
                )),
                other => Err(unexpected(&other)),
            })
            .collect(),
        Some(other) => Err(unexpected(&other)),
    }
}
