//! Flag values clap cannot check by itself, each refused with a typed error naming the value;
//! and the report's formats bound to clap here, so `report` does not depend on the command line.

use crate::catalog::CheckId;
use crate::report::{Format, ListFormat};
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
    #[error("'{text}': {reason}")]
    Port { text: String, reason: &'static str },
}

pub fn parse_port_override(text: &str) -> Result<(CheckId, u16), PortOverrideError> {
    let (id, port) = text
        .split_once('=')
        .ok_or_else(|| PortOverrideError::Shape(text.to_string()))?;
    let check = parse_check(id)?;
    if check.path().peer.default_port().is_none() {
        return Err(PortOverrideError::Inbound(check));
    }
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

impl clap::ValueEnum for ListFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &ListFormat::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}
