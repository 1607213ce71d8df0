//! TOML profiles: targets by role, checks, port overrides and timing. Unknown keys and bad
//! values are errors that name the file, line and column.

use crate::platform::text::{self, Encoding};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use std::fmt;

use serde::de::{self, Deserializer};

use super::targets::TargetArgs;
use super::timing::TimingArgs;
use super::values::{Dialect, plain_words};
use super::values::{cut, parsed_text, payload_check, peer_check, scalar_text};
use crate::catalog::CheckId;
use crate::probes::{SnmpAuth, SnmpPriv};
use crate::targets::{Origin, ProfileKey, parse_port};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    #[serde(default)]
    pub targets: TargetArgs,
    #[serde(default)]
    pub checks: ProfileChecks,
    /// Peer port per check id.
    #[serde(default)]
    pub ports: BTreeMap<PeerCheck, PortValue>,
    #[serde(default)]
    pub timing: TimingArgs,
    #[serde(default)]
    pub kerberos: ProfileKerberos,
    #[serde(default)]
    pub snmp: ProfileSnmp,
    /// Request bytes, as hex, for the checks with no public wire format (npap, xmlnt, lst),
    /// captured from a real MVE server.
    #[serde(default)]
    pub payloads: BTreeMap<PayloadCheck, HexPayload>,
    #[serde(default)]
    pub local: ProfileLocal,
    /// The file, as named.
    #[serde(skip)]
    pub file: Option<String>,
    /// The line and column of each value, by dotted key (`snmp.version`) and of each array
    /// item (`targets.printers[1]`), so a value found wrong after parsing (a range too
    /// large, a user missing) is still named with its place.
    #[serde(skip)]
    pub places: BTreeMap<String, (usize, usize)>,
}

impl Profile {
    /// `site.toml:4:11: snmp.version`: where a key's value is.
    pub fn origin(&self, key: &str) -> Origin {
        self.origin_at(key, self.places.get(key).copied())
    }

    /// `site.toml:5:3: targets.printers`: where the `index`th item of a key's list is (the
    /// key's own place for a single value).
    pub fn item_origin(&self, key: &str, index: usize) -> Origin {
        let at = self
            .places
            .get(&format!("{key}[{index}]"))
            .or_else(|| self.places.get(key))
            .copied();
        self.origin_at(key, at)
    }

    fn origin_at(&self, key: &str, at: Option<(usize, usize)>) -> Origin {
        Origin::Profile(Box::new(ProfileKey {
            file: self.file.clone().unwrap_or_default(),
            key: key.to_string(),
            at,
        }))
    }
}

/// The place of every value of a profile, two tables deep, and of each array item.
fn places(text: &str) -> BTreeMap<String, (usize, usize)> {
    use toml::de::{DeTable, DeValue};
    let mut out = BTreeMap::new();
    let Ok(root) = DeTable::parse(text) else {
        return out;
    };
    let mut add = |key: String, value: &toml::Spanned<DeValue<'_>>| {
        out.insert(key.clone(), line_column(text, value.span().start));
        if let DeValue::Array(items) = value.get_ref() {
            for (index, item) in items.iter().enumerate() {
                out.insert(
                    format!("{key}[{index}]"),
                    line_column(text, item.span().start),
                );
            }
        }
    };
    for (name, value) in root.get_ref() {
        let name = name.get_ref().to_string();
        match value.get_ref() {
            DeValue::Table(table) => {
                for (key, inner) in table {
                    add(format!("{name}.{}", key.get_ref()), inner);
                }
            }
            _ => add(name, value),
        }
    }
    out
}

/// Ports `mve-audit local` checks besides MVE's own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileLocal {
    #[serde(default)]
    pub ports: Vec<PortSpecValue>,
}

/// `tcp/8443`, checked while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpecValue(pub crate::inbound::PortSpec);

impl<'de> Deserialize<'de> for PortSpecValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(PortSpecValue).map_err(de::Error::custom)
    }
}

/// SNMP credentials; a profile is a file, so it may hold secrets (keep it private).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileSnmp {
    pub version: Option<SnmpVersion>,
    pub community: Option<Secret>,
    pub user: Option<NonEmpty>,
    pub auth_protocol: Option<SnmpAuth>,
    pub auth_key: Option<Secret>,
    pub priv_protocol: Option<SnmpPriv>,
    pub priv_key: Option<Secret>,
}

/// A credential from a profile. Its parse errors never repeat the value (serde's own message
/// would: "invalid type: integer `12345`"), and its `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl de::Visitor<'_> for Text {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quoted string")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Secret, E> {
                if value.trim().is_empty() {
                    return Err(E::custom("the value is empty: give one or drop the key"));
                }
                Ok(Secret(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(E::custom(
                    "a secret is a quoted string (the value is not shown)",
                ))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(E::custom(
                    "a secret is a quoted string (the value is not shown)",
                ))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(E::custom(
                    "a secret is a quoted string (the value is not shown)",
                ))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(E::custom(
                    "a secret is a quoted string (the value is not shown)",
                ))
            }
        }
        d.deserialize_any(Text)
    }
}

/// The SNMP version of the GET: the same names on the command line and in a profile, where
/// `version = 3` and `version = "3"` both read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SnmpVersion {
    #[value(name = "1")]
    V1,
    #[value(name = "2c", alias = "2C")]
    V2c,
    #[value(name = "3")]
    V3,
}

impl std::str::FromStr for SnmpVersion {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        <SnmpVersion as clap::ValueEnum>::from_str(text.trim(), true)
            .map_err(|_| format!("'{}' is not an SNMP version: use 1, 2c or 3", cut(text)))
    }
}

impl<'de> Deserialize<'de> for SnmpVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_text(d, "an SNMP version: 1, 2c or 3")?
            .parse()
            .map_err(de::Error::custom)
    }
}

/// Bytes written as hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexPayload(pub Vec<u8>);

impl<'de> Deserialize<'de> for HexPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::wire::lexmark::parse_hex_payload(&text)
            .map(HexPayload)
            .map_err(de::Error::custom)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileChecks {
    /// Run only these; absent means every check that has a target.
    pub only: Option<Vec<CheckId>>,
    #[serde(default)]
    pub skip: Vec<CheckId>,
    /// "Some printers" checks this site requires.
    #[serde(default)]
    pub require: Vec<CheckId>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileKerberos {
    pub realm: Option<NonEmpty>,
}

/// A peer port, checked while parsing so the error carries the value's position: `raw =
/// 9101` and `raw = "9101"` read as `--port raw=9101` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortValue(pub u16);

impl<'de> Deserialize<'de> for PortValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = scalar_text(d, "a port number")?;
        parse_port(&text)
            .map(PortValue)
            .map_err(|why| de::Error::custom(format!("bad port {}: {why}", cut(&text))))
    }
}

/// A `[ports]` key: a check with a peer port, refused as `--port` refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PeerCheck(pub CheckId);

impl<'de> Deserialize<'de> for PeerCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_text::<D, String>(d, "a check id")
            .and_then(|text| peer_check(&text).map(PeerCheck).map_err(de::Error::custom))
    }
}

/// A `[payloads]` key: a check that sends a captured payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PayloadCheck(pub CheckId);

impl<'de> Deserialize<'de> for PayloadCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed_text::<D, String>(d, "a check id").and_then(|text| {
            payload_check(&text)
                .map(PayloadCheck)
                .map_err(de::Error::custom)
        })
    }
}

/// Text that may not be blank (a realm, a user, a community), refused where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmpty(pub String);

impl std::ops::Deref for NonEmpty {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: String = parsed_text(d, "a quoted string")?;
        if text.trim().is_empty() {
            return Err(de::Error::custom(
                "the value is empty: give one or drop the key",
            ));
        }
        Ok(NonEmpty(text))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}{}: {source}", from_env(path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: the profile is not {} text: save it as UTF-8 (or UTF-16, Notepad's \"Unicode\")",
        .encoding.name()
    )]
    NotText { path: PathBuf, encoding: Encoding },
    #[error("{path}:{line}:{column}: {}", plain_words(.source.message(), Dialect::Toml))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: {}", plain_words(.source.message(), Dialect::Toml))]
    InvalidAnywhere {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
}

/// Reads and checks a profile file.
/// ` (from MVE_AUDIT_PROFILE)` when the profile was named by the environment variable.
fn from_env(path: &Path) -> &'static str {
    match std::env::var_os(PROFILE_VARIABLE) {
        Some(value) if Path::new(&value) == path => " (from MVE_AUDIT_PROFILE)",
        _ => "",
    }
}

/// The environment variable that names a profile, as `--profile` does.
pub const PROFILE_VARIABLE: &str = "MVE_AUDIT_PROFILE";

pub fn load_profile(path: &Path) -> Result<Profile, ProfileError> {
    let bytes = std::fs::read(path).map_err(|source| ProfileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // UTF-8 or UTF-16 as Windows editors save them; the byte-order mark is not TOML.
    let (text, _) = text::read_to_string(&bytes).map_err(|encoding| ProfileError::NotText {
        path: path.to_path_buf(),
        encoding,
    })?;
    parse_profile(&text, path)
}

pub fn parse_profile(text: &str, path: &Path) -> Result<Profile, ProfileError> {
    let mut profile: Profile = toml::from_str(text).map_err(|err| match err.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            ProfileError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                source: Box::new(err),
            }
        }
        None => ProfileError::InvalidAnywhere {
            path: path.to_path_buf(),
            source: Box::new(err),
        },
    })?;
    profile.file = Some(path.display().to_string());
    profile.places = places(text);
    Ok(profile)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Profile, String> {
        parse_profile(text, Path::new("site.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_profile_parses() {
        let profile = parse(
            r#"
[targets]
printers = ["192.0.2.0/28", "@fleet.txt"]
smtp = "mail.example.test:2525"

[checks]
skip = ["xmlnt"]
require = ["lst", "lst-handshake"]

[ports]
raw = 9101

[timing]
timeout = "1500ms"
retries = 1
concurrency = 32
rate = 100

[kerberos]
realm = "EXAMPLE.TEST"

[snmp]
version = "3"
user = "mve"
auth-protocol = "sha256"
auth-key = "secret-one"

[payloads]
npap = "00 01 02"
"#,
        )
        .unwrap();
        assert_eq!(profile.targets.printers.len(), 2);
        assert_eq!(
            profile.targets.services[&crate::catalog::Role::Smtp],
            ["mail.example.test:2525"]
        );
        assert_eq!(profile.checks.skip, [CheckId::Xmlnt]);
        assert_eq!(profile.ports[&PeerCheck(CheckId::Raw)], PortValue(9101));
        assert_eq!(
            profile.timing.timeout,
            Some(std::time::Duration::from_millis(1500))
        );
        assert_eq!(profile.kerberos.realm.as_deref(), Some("EXAMPLE.TEST"));
        assert_eq!(profile.snmp.version, Some(SnmpVersion::V3));
        assert_eq!(
            profile.payloads[&PayloadCheck(CheckId::Npap)],
            HexPayload(vec![0, 1, 2])
        );
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let rows = [
            (
                "[targets]\nprinter = [\"a\"]\n",
                "site.toml:2:1:",
                "unknown field `printer`",
            ),
            ("[timing]\ntimeout = \"2\"\n", "site.toml:2:11:", "no unit"),
            ("[ports]\nraw = 0\n", "site.toml:2:7:", "port 0"),
            ("[ports]\ntelnet = 23\n", "site.toml:2:1:", "telnet"),
            (
                "[timing]\nretries = 99\n",
                "site.toml:2:11:",
                "out of range",
            ),
            ("[checks]\nskip = [\"fax\"]\n", "site.toml:2:9:", "fax"),
            ("[targets\n", "site.toml:1:9:", "unclosed table"),
            ("[payloads]\nnpap = \"0g\"\n", "site.toml:2:8:", "not hex"),
            (
                "[snmp]\nversion = \"2\"\n",
                "site.toml:2:11:",
                "use 1, 2c or 3",
            ),
        ];
        for (text, place, why) in rows {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(place), "{text:?}: {err}");
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
