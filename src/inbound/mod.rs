//! The paths back to the MVE server: can this host own the ports MVE listens on (`local`),
//! what arrives on them (`listen`), and a paired sender that proves both paths end to end
//! (`send`). Who holds a port is asked of `platform::ports`.

pub mod listen;
pub mod local;
pub mod send;

use std::fmt;
use std::str::FromStr;

use crate::catalog::{CheckId, PeerSide, Transport};

/// Tags that pair a sender's probe with the listener's acknowledgement.
pub const PROBE_TAG: &str = "MVE-AUDIT-PROBE";
pub const ACK_TAG: &str = "MVE-AUDIT-ACK";
/// The HTTPS path a sender asks for.
pub const PROBE_PATH: &str = "/mve-audit/probe";

/// The port printers send alerts from (the catalog's npap-alerts row: 9300).
pub fn alert_source_port() -> u16 {
    match CheckId::NpapAlerts.path().peer {
        PeerSide::From { port } | PeerSide::Fixed { port } => port,
        PeerSide::UserDefined { default } => default,
        PeerSide::Any => 0,
    }
}

/// A port and its transport, written `udp/9187` or `tcp/443`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortSpec {
    pub transport: Transport,
    pub port: u16,
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.transport, self.port)
    }
}

/// Why a `PROTO/PORT` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortSpecError {
    #[error("'{0}' is not PROTO/PORT (e.g. tcp/8443)")]
    Shape(String),
    #[error("'{0}': the protocol is tcp or udp")]
    Protocol(String),
    #[error("'{text}': {reason}")]
    Port { text: String, reason: &'static str },
}

impl FromStr for PortSpec {
    type Err = PortSpecError;

    fn from_str(text: &str) -> Result<Self, PortSpecError> {
        let (proto, port) = text
            .split_once('/')
            .ok_or_else(|| PortSpecError::Shape(text.to_string()))?;
        let transport = match proto.to_ascii_lowercase().as_str() {
            "tcp" => Transport::Tcp,
            "udp" => Transport::Udp,
            _ => return Err(PortSpecError::Protocol(text.to_string())),
        };
        let port = crate::targets::parse_port(port).map_err(|reason| PortSpecError::Port {
            text: text.to_string(),
            reason,
        })?;
        Ok(PortSpec { transport, port })
    }
}

/// A nonce as text, for tags.
pub fn nonce_text() -> String {
    format!("{:08x}{:08x}", crate::wire::nonce(), crate::wire::nonce())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs_parse_and_refuse_clearly() {
        assert_eq!(
            "udp/9187".parse::<PortSpec>(),
            Ok(PortSpec {
                transport: Transport::Udp,
                port: 9187
            })
        );
        assert_eq!(
            "TCP/443".parse::<PortSpec>().unwrap().to_string(),
            "tcp/443"
        );
        for (bad, why) in [
            ("443", "PROTO/PORT"),
            ("sctp/1", "tcp or udp"),
            ("tcp/0", "port 0"),
        ] {
            let err = bad.parse::<PortSpec>().unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
