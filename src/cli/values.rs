//! Flag values clap cannot check by itself, each refused with a typed error naming the value;
//! and the report's formats bound to clap here, so `report` does not depend on the command line.

use crate::catalog::CheckId;
use crate::report::{Format, ListFormat};
use crate::results::FailOn;
use crate::targets::parse_port;

/// `TEXT [default: VALUE]`: help whose default comes from `Defaults`, so it is written once.
pub fn with_default(text: &str, value: impl std::fmt::Display) -> String {
    format!("{text} [default: {value}]")
}

/// A port given as a flag: 1 to 65535.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}': {reason}")]
pub struct PortFlagError {
    text: String,
    reason: &'static str,
}

pub fn port_flag(text: &str) -> Result<u16, PortFlagError> {
    parse_port(text).map_err(|reason| PortFlagError {
        text: text.to_string(),
        reason,
    })
}

pub fn parse_check(text: &str) -> Result<CheckId, crate::catalog::UnknownCheck> {
    text.parse()
}

/// Why a `--port ID=PORT` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortOverrideError {
    #[error("'{0}' is not ID=PORT (e.g. raw=9101)")]
    Shape(String),
    #[error(transparent)]
    Check(#[from] crate::catalog::UnknownCheck),
    #[error("'{0}' is an inbound path and has no peer port to override")]
    Inbound(CheckId),
    #[error(
        "'{0}' takes its port from a URL (--ca https://HOST:PORT/…, and the CRL distribution \
         points the CA certificate names), not from --port"
    )]
    FromUrl(CheckId),
    #[error(
        "'{0}' is the SQL Server Browser, on UDP 1434 by protocol: every client asks there \
         (give a named instance's static port as --sqlserver HOST:PORT instead)"
    )]
    Fixed(CheckId),
    #[error("'{text}': {reason}")]
    Port { text: String, reason: &'static str },
}

/// A check whose peer port may be overridden: `--port ID=…` and a profile's `[ports]` key.
pub fn peer_check(text: &str) -> Result<CheckId, PortOverrideError> {
    let check = parse_check(text)?;
    if check.path().peer.default_port().is_none() {
        return Err(PortOverrideError::Inbound(check));
    }
    if matches!(
        check.path().driver,
        crate::catalog::Driver::Ca | crate::catalog::Driver::Crl
    ) {
        return Err(PortOverrideError::FromUrl(check));
    }
    if check.path().driver.needs_instance() {
        return Err(PortOverrideError::Fixed(check));
    }
    Ok(check)
}

/// A check that takes a captured payload (a profile's `[payloads]` key): only the Lexmark
/// protocols with no public wire format send one.
pub fn payload_check(text: &str) -> Result<CheckId, PayloadKeyError> {
    let check = parse_check(text)?;
    if check.path().driver != crate::catalog::Driver::Blind {
        return Err(PayloadKeyError::NoPayload(check));
    }
    Ok(check)
}

/// Why a `[payloads]` key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadKeyError {
    #[error(transparent)]
    Check(#[from] crate::catalog::UnknownCheck),
    #[error(
        "'{0}' speaks its own protocol and sends no captured payload (payloads are for {list})",
        list = payload_checks()
    )]
    NoPayload(CheckId),
}

fn payload_checks() -> String {
    CheckId::ALL
        .into_iter()
        .filter(|c| c.path().driver == crate::catalog::Driver::Blind)
        .map(CheckId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn parse_port_override(text: &str) -> Result<(CheckId, u16), PortOverrideError> {
    let (id, port) = text
        .split_once('=')
        .ok_or_else(|| PortOverrideError::Shape(text.to_string()))?;
    let check = peer_check(id)?;
    let port = parse_port(port).map_err(|reason| PortOverrideError::Port {
        text: text.to_string(),
        reason,
    })?;
    Ok((check, port))
}

// The report's formats as flag values: the binding to clap lives here, so `report` does not
// depend on the command line.
impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.help()))
    }
}

impl clap::ValueEnum for FailOn {
    fn value_variants<'a>() -> &'a [Self] {
        &FailOn::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.help()))
    }
}

/// `--fail-on`, with `--strict` as its other spelling.
pub fn fail_on(strict: bool, given: Option<FailOn>) -> FailOn {
    if strict {
        FailOn::Warn
    } else {
        given.unwrap_or_default()
    }
}

impl clap::ValueEnum for ListFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &ListFormat::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// The range of a whole-number setting: what a flag accepts is what a variable and a profile
/// accept, and each refuses in the same words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub min: u32,
    pub max: u32,
}

/// Why a whole number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("'{0}' is not a whole number: write digits, e.g. 1000 (or 1e3)")]
    NotANumber(String),
    #[error("'{text}' is out of range: use {min} to {max}")]
    OutOfRange { text: String, min: u32, max: u32 },
}

impl Bound {
    /// Digits (`1000`, `1_000`) or a power of ten (`1e3`) that is a whole number in range.
    pub fn parse(self, text: &str) -> Result<u32, CountError> {
        let shown = text.trim();
        let plain: String = shown.chars().filter(|c| *c != '_').collect();
        let value: f64 = if !plain.is_empty() && plain.bytes().all(|b| b.is_ascii_digit()) {
            // Long digit strings stay exact enough to be refused as out of range.
            plain
                .parse()
                .map_err(|_| CountError::NotANumber(cut(shown)))?
        } else if plain.contains(['e', 'E'])
            && plain
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'e' | b'E' | b'.' | b'+' | b'-'))
        {
            plain
                .parse()
                .map_err(|_| CountError::NotANumber(cut(shown)))?
        } else if let Some(digits) = plain.strip_prefix('-')
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        {
            return Err(self.out_of_range(shown));
        } else {
            return Err(CountError::NotANumber(cut(shown)));
        };
        if !value.is_finite() || value.fract() != 0.0 {
            return Err(CountError::NotANumber(cut(shown)));
        }
        if value < f64::from(self.min) || value > f64::from(self.max) {
            return Err(self.out_of_range(shown));
        }
        // In range of u32 by the check above.
        Ok(value as u32)
    }

    fn out_of_range(self, text: &str) -> CountError {
        CountError::OutOfRange {
            text: cut(text),
            min: self.min,
            max: self.max,
        }
    }
}

/// A value as the user wrote it, cut to 80 characters (with its length) so a 2 MB mistake is
/// not echoed whole.
pub fn cut(text: &str) -> String {
    crate::platform::text::shown(text)
}

/// Reads a TOML or JSON scalar (number or string) as the text a flag would have held, so one
/// parser serves flag, environment variable and profile: `rate = 100`, `rate = "100"` and
/// `rate = 1e3` mean what `--rate 100` and `--rate 1e3` mean.
pub fn scalar_text<'de, D: serde::Deserializer<'de>>(
    d: D,
    expecting: &'static str,
) -> Result<String, D::Error> {
    struct Scalar(&'static str);
    impl serde::de::Visitor<'_> for Scalar {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<String, E> {
            if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
                Ok(format!("{value:.0}"))
            } else {
                Ok(value.to_string())
            }
        }
    }
    d.deserialize_any(Scalar(expecting))
}

/// A string value through its one `FromStr`: what the flag refuses, the profile refuses, in
/// the same words.
pub fn parsed_text<'de, D, T>(d: D, expecting: &'static str) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    struct Text(&'static str);
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<String, E> {
            Ok(value.to_string())
        }
    }
    let text = d.deserialize_str(Text(expecting))?;
    text.parse().map_err(serde::de::Error::custom)
}

/// Whether a message comes from a TOML profile or a JSON report: tables are "tables" in one
/// and "objects" in the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Toml,
    Json,
}

/// A serde or parser message in the user's words: no Rust type names (`i64`, `struct
/// ReportIn with 5 elements`, `a sequence`), no position (the caller names the file, line
/// and column).
pub fn plain_words(message: &str, dialect: Dialect) -> String {
    let mut text = message.trim();
    // serde_json appends the position the caller already shows.
    if let Some(at) = text.rfind(" at line ")
        && text[at..].contains(" column ")
    {
        text = &text[..at];
    }
    let table = match dialect {
        Dialect::Toml => "a table",
        Dialect::Json => "an object",
    };
    let want = |want: &str| -> String {
        let want = want.trim();
        match want {
            "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize"
            | "an integer" => "a whole number".to_string(),
            "f32" | "f64" => "a number".to_string(),
            "a sequence" => "a list".to_string(),
            "a map" => table.to_string(),
            "a string" if dialect == Dialect::Toml => "a quoted string".to_string(),
            _ if want.starts_with("struct ") || want.starts_with("tuple struct ") => {
                table.to_string()
            }
            _ if want.starts_with("enum ") => "one of the listed names".to_string(),
            other => other.to_string(),
        }
    };
    let found = |found: &str| -> String {
        let found = found.trim();
        let quoted = |prefix: &str| {
            found
                .strip_prefix(prefix)
                .map(|rest| rest.trim().trim_matches('`').to_string())
        };
        if let Some(number) = quoted("integer").or_else(|| quoted("floating point")) {
            format!("the number {number}")
        } else if let Some(value) = quoted("boolean") {
            value
        } else if let Some(value) = found.strip_prefix("string ") {
            format!("the text {}", cut(value))
        } else {
            match found {
                "sequence" => "a list".to_string(),
                "map" => table.to_string(),
                "unit value" | "null" => "null".to_string(),
                other => other.to_string(),
            }
        }
    };
    if let Some(rest) = text.strip_prefix("invalid type: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {}", want(expected), found(got));
    }
    if let Some(rest) = text.strip_prefix("invalid value: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {}", want(expected), found(got));
    }
    if let Some(field) = text.strip_prefix("missing field ") {
        return format!("{field} is missing");
    }
    if let Some(rest) = text.strip_prefix("invalid length ")
        && let Some((count, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {count} items", want(expected));
    }
    match text {
        "wanted string or table" => "expected a quoted name".to_string(),
        "trailing characters" => "more text after the end of the JSON document".to_string(),
        "EOF while parsing a value"
        | "EOF while parsing an object"
        | "EOF while parsing a list" => {
            "the file ends in the middle of a value (cut short?)".to_string()
        }
        "expected value" => "this is not JSON here".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_people_write_them() {
        let bound = Bound { min: 0, max: 1000 };
        for (text, value) in [
            ("7", 7),
            ("1e3", 1000),
            ("1_000", 1000),
            (" 10 ", 10),
            ("0", 0),
        ] {
            assert_eq!(bound.parse(text), Ok(value), "{text}");
        }
        for (text, why) in [
            ("1e4", "out of range: use 0 to 1000"),
            ("-1", "out of range"),
            ("1.5", "not a whole number"),
            ("ten", "not a whole number"),
            ("", "not a whole number"),
            ("99999999999999999999999", "out of range"),
            ("nan", "not a whole number"),
            ("1e400", "not a whole number"),
        ] {
            let err = bound.parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn serde_words_become_the_users() {
        let rows = [
            (
                "invalid type: string \"9101\", expected i64",
                Dialect::Toml,
                "expected a whole number, found the text \"9101\"",
            ),
            (
                "invalid type: integer `5`, expected a string",
                Dialect::Toml,
                "expected a quoted string, found the number 5",
            ),
            (
                "invalid type: string \"raw\", expected a sequence",
                Dialect::Toml,
                "expected a list, found the text \"raw\"",
            ),
            (
                "invalid type: string \"x\", expected struct Version at line 1 column 3",
                Dialect::Json,
                "expected an object, found the text \"x\"",
            ),
            (
                "invalid type: map, expected a string",
                Dialect::Json,
                "expected a string, found an object",
            ),
            (
                "trailing characters at line 1 column 4",
                Dialect::Json,
                "more text after the end",
            ),
        ];
        for (message, dialect, words) in rows {
            let plain = plain_words(message, dialect);
            assert!(plain.contains(words), "{message}: {plain}");
            for word in ["i64", "struct", "sequence", " at line "] {
                assert!(!plain.contains(word), "{message}: {plain}");
            }
        }
    }
}
