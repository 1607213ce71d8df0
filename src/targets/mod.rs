//! Target parsing (hostnames, IPv4, IPv6, CIDR ranges, `@FILE` lists, `HOST[:PORT]`) and
//! one concurrent round of name resolution. Targets are validated up front and produced
//! lazily, so memory follows the work in flight, not the size of the fleet.

mod parse;
mod resolve;
mod set;

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::catalog::Role;

pub use parse::{Limits, TargetError, parse_port, parse_service, probe_address};
pub use resolve::{Addresses, ResolveError, Resolved, lookup, resolve_names};
pub use set::{TargetSet, Targets};

/// Where a target value came from, so an error can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag such as `--printers`.
    Flag(&'static str),
    /// The flag of a service role, `--smtp` for `Role::Smtp`.
    RoleFlag(Role),
    /// A key of a profile file (boxed: origins travel inside every target error).
    Profile(Box<ProfileKey>),
    /// A line of an `@FILE` target list.
    ListFile { file: String, line: usize },
}

/// A profile's key, with the value's line and column when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileKey {
    pub file: String,
    pub key: String,
    pub at: Option<(usize, usize)>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::RoleFlag(role) => write!(f, "--{role}"),
            Origin::Profile(place) => match place.at {
                Some((line, column)) => {
                    write!(f, "{}:{line}:{column}: {}", place.file, place.key)
                }
                None => write!(f, "{}: {}", place.file, place.key),
            },
            Origin::ListFile { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// A host as the user named it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    Addr(IpAddr),
    Name(String),
}

impl Host {
    /// The name to resolve, if this host is one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Host::Addr(_) => None,
            Host::Name(name) => Some(name),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Addr(addr) => write!(f, "{addr}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

impl Serialize for Host {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One thing to probe: a host in a role, with the port the user gave for it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub role: Role,
    pub host: Host,
    /// A port given with the host (`--smtp mail:2525`); it wins over `--port`.
    pub port: Option<u16>,
    /// A SQL Server named instance (`--sqlserver db\MVE`), whose TCP port the SQL Server
    /// Browser hands out.
    pub instance: Option<std::sync::Arc<str>>,
    /// The URL of a certificate authority (`--ca https://ca/certsrv/mscep/mscep.dll`): its
    /// scheme and path; `host` and `port` are its authority.
    pub url: Option<std::sync::Arc<str>>,
}

impl Target {
    /// A target of `role` at `host` (and `port`, when one was written with it), naming no
    /// instance and no URL: the one place a new field of a target gets its default.
    pub fn new(role: Role, host: Host, port: Option<u16>) -> Target {
        Target {
            role,
            host,
            port,
            instance: None,
            url: None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(instance) = &self.instance {
            return write!(f, "{}\\{instance}", self.host);
        }
        if let Some(url) = &self.url {
            return f.write_str(url);
        }
        match (self.port, &self.host) {
            (None, host) => write!(f, "{host}"),
            (Some(port), Host::Addr(IpAddr::V6(addr))) => write!(f, "[{addr}]:{port}"),
            (Some(port), host) => write!(f, "{host}:{port}"),
        }
    }
}
