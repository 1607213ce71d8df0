//! Turning the user's words into targets, with errors that name the bad value and its origin.

use std::fs::File;
use std::io::{BufRead, BufReader};

use crate::platform::text::TextReader;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use super::{Host, Origin, Target};
use crate::catalog::Role;

/// How many addresses one CIDR range may expand to without `--allow-large`.
pub const DEFAULT_RANGE_LIMIT: u128 = 65_536;
/// The hard ceiling with `--allow-large`: a /8 of IPv4.
pub const LARGE_RANGE_LIMIT: u128 = 1 << 24;

#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub allow_large: bool,
}

impl Limits {
    pub(super) fn max_range(self) -> u128 {
        if self.allow_large {
            LARGE_RANGE_LIMIT
        } else {
            DEFAULT_RANGE_LIMIT
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(
        "{origin}: '{}' is not a valid target: {reason}",
        crate::platform::text::shown(value)
    )]
    Invalid {
        origin: Origin,
        value: String,
        reason: &'static str,
    },
    #[error(
        "{origin}: '{}' has a bad port: {reason}",
        crate::platform::text::shown(value)
    )]
    BadPort {
        origin: Origin,
        value: String,
        reason: &'static str,
    },
    #[error(
        "{origin}: '{}' is not a valid CIDR range: {reason}",
        crate::platform::text::shown(value)
    )]
    BadCidr {
        origin: Origin,
        value: String,
        reason: &'static str,
    },
    #[error(
        "{origin}: range '{shown}' holds {count} addresses, over the limit of {limit}{advice}",
        shown = crate::platform::text::shown(value),
        advice = if *allow_large { "" } else { "; pass --allow-large to probe it" }
    )]
    TooLarge {
        origin: Origin,
        value: String,
        count: u128,
        limit: u128,
        allow_large: bool,
    },
    #[error("{origin}: cannot read target list '{path}': {source}")]
    ListFile {
        origin: Origin,
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{origin}: {path}:{line}: not {encoding} text; save the list as UTF-8 or UTF-16 \
         (Notepad's \"Unicode\")"
    )]
    NotText {
        origin: Origin,
        path: String,
        line: usize,
        encoding: &'static str,
    },
    #[error(
        "{origin}: target list '{path}' may not name another list ('{}')",
        crate::platform::text::shown(value)
    )]
    NestedList {
        origin: Origin,
        path: String,
        value: String,
    },
}

/// One printer item: a host, or a CIDR range kept as its first and last address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    Host(Host),
    Span(Span),
}

/// An inclusive address range from a CIDR, network and broadcast addresses already left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub first: u128,
    pub last: u128,
    pub v6: bool,
}

impl Span {
    pub fn addr(self, raw: u128) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::from(raw))
        } else {
            // A v4 span holds only 32-bit values.
            IpAddr::V4(Ipv4Addr::from(raw as u32))
        }
    }
}

/// Checks every line of an `@FILE` list once, without keeping the targets: the list is read
/// again, lazily, when the audit runs. Returns the file's path for that second reading.
/// Messages name the list `shown` when given (standard input's copy is "-").
pub(super) fn check_list_file_as(
    file: &str,
    shown: Option<&str>,
    origin: &Origin,
    base: Option<&Path>,
    limits: Limits,
    mut each: impl FnMut(&Item),
) -> Result<PathBuf, TargetError> {
    let path = match base {
        Some(dir) if Path::new(file).is_relative() => dir.join(file),
        _ => Path::new(file).to_path_buf(),
    };
    let shown = shown.map_or_else(|| path.display().to_string(), str::to_string);
    let list_error = |source| TargetError::ListFile {
        origin: origin.clone(),
        path: shown.clone(),
        source,
    };
    // UTF-8 or, as Notepad saves "Unicode", UTF-16 with a byte-order mark.
    let file = File::open(&path).map_err(list_error)?;
    let text = TextReader::new(BufReader::new(file)).map_err(list_error)?;
    let encoding = text.encoding().name();
    for (index, raw) in BufReader::new(text).lines().enumerate() {
        let raw = raw.map_err(|source| match source.kind() {
            std::io::ErrorKind::InvalidData => TargetError::NotText {
                origin: origin.clone(),
                path: shown.clone(),
                line: index + 1,
                encoding,
            },
            _ => list_error(source),
        })?;
        let Some(line) = list_line(&raw) else {
            continue;
        };
        let line_origin = Origin::ListFile {
            file: shown.clone(),
            line: index + 1,
        };
        if line.starts_with('@') {
            return Err(TargetError::NestedList {
                origin: line_origin,
                path: shown,
                value: line.to_string(),
            });
        }
        each(&parse_printer_item(line, &line_origin, limits)?);
    }
    Ok(path)
}

/// The target on one line of a list, without its comment (and without the byte-order mark
/// a Windows editor puts before the first line); `None` for a blank line.
pub(super) fn list_line(raw: &str) -> Option<&str> {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let line = raw.split('#').next().unwrap_or_default().trim();
    (!line.is_empty()).then_some(line)
}

pub(super) fn parse_printer_item(
    item: &str,
    origin: &Origin,
    limits: Limits,
) -> Result<Item, TargetError> {
    let invalid = |reason| TargetError::Invalid {
        origin: origin.clone(),
        value: item.to_string(),
        reason,
    };
    if item.contains('/') {
        return parse_cidr(item, origin, limits).map(Item::Span);
    }
    if let Some((start, end)) = item.split_once('-')
        && let Ok(first) = start.parse::<Ipv4Addr>()
    {
        return last_octet_range(first, end)
            .map(Item::Span)
            .map_err(invalid);
    }
    let host = if let Some(inner) = item.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let addr: Ipv6Addr = inner
            .parse()
            .map_err(|_| invalid("not an IPv6 address inside [ ]"))?;
        Host::Addr(probe_address(IpAddr::V6(addr)).map_err(invalid)?)
    } else if let Ok(addr) = item.parse::<IpAddr>() {
        Host::Addr(probe_address(addr).map_err(invalid)?)
    } else if item.contains('%') {
        return Err(invalid(
            "a zone index (fe80::1%eth0) is not supported: give the printer's global or \
             unique-local address",
        ));
    } else if item.contains(':') {
        return Err(invalid(
            "printer targets take no port (ports belong to checks: use --port CHECK=PORT)",
        ));
    } else {
        parse_hostname(item).map_err(invalid)?
    };
    Ok(Item::Host(host))
}

/// An address a printer or service can have: not the unspecified address, a broadcast or
/// multicast group (a probe would reach every device, or none), an IPv6 link-local address
/// (which needs a zone), or an IPv4-mapped IPv6 address (which is the IPv4 one).
pub fn probe_address(addr: IpAddr) -> Result<IpAddr, &'static str> {
    match addr {
        IpAddr::V4(v4) if v4.is_unspecified() => {
            Err("0.0.0.0 is no host's address (it means 'any')")
        }
        IpAddr::V4(v4) if v4.is_broadcast() => {
            Err("255.255.255.255 is the broadcast address: it would reach every device")
        }
        IpAddr::V4(v4) if v4.is_multicast() => {
            Err("a multicast address (224.0.0.0/4) is a group, not a printer")
        }
        IpAddr::V6(v6) if v6.is_unspecified() => Err(":: is no host's address (it means 'any')"),
        IpAddr::V6(v6) if v6.is_multicast() => {
            Err("a multicast address (ff00::/8) is a group, not a printer")
        }
        IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => Err(
            "an IPv6 link-local address (fe80::/10) needs a zone, which is not supported: give \
             the printer's global or unique-local address",
        ),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
            Err("an IPv4-mapped IPv6 address: write it as the IPv4 address it holds")
        }
        other => Ok(other),
    }
}

/// `10.1.2.1-40`, nmap's last-octet range: from the address to the same network's `.40`.
fn last_octet_range(first: Ipv4Addr, end: &str) -> Result<Span, &'static str> {
    let end: u8 = end
        .parse()
        .map_err(|_| "a range ends with a last octet, 0 to 255 (e.g. 10.1.2.1-40)")?;
    let [a, b, c, start] = first.octets();
    if end < start {
        return Err("a range's last octet is smaller than its first");
    }
    Ok(Span {
        first: u128::from(u32::from(first)),
        last: u128::from(u32::from(Ipv4Addr::new(a, b, c, end))),
        v6: false,
    })
}

fn parse_cidr(item: &str, origin: &Origin, limits: Limits) -> Result<Span, TargetError> {
    let bad = |reason| TargetError::BadCidr {
        origin: origin.clone(),
        value: item.to_string(),
        reason,
    };
    let (addr, prefix) = item.split_once('/').ok_or_else(|| bad("missing '/'"))?;
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| bad("the part before '/' is not an IP address"))?;
    let prefix: u8 = prefix
        .parse()
        .map_err(|_| bad("the prefix length is not a number"))?;
    // A range of groups or of "any": refused as its addresses would be.
    let special = match addr {
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast() || u32::from(v4) >> 24 == 0,
        IpAddr::V6(v6) => v6.is_multicast() || v6.segments()[0] & 0xffc0 == 0xfe80,
    };
    if special {
        return Err(bad(
            "the range holds no printer addresses (unspecified, multicast, broadcast or \
             link-local space)",
        ));
    }
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > bits {
        return Err(bad(if bits == 32 {
            "an IPv4 prefix length is at most 32"
        } else {
            "an IPv6 prefix length is at most 128"
        }));
    }
    let host_bits = u32::from(bits - prefix);
    let count = 1u128.checked_shl(host_bits).unwrap_or(u128::MAX);
    let limit = limits.max_range();
    if count > limit {
        return Err(TargetError::TooLarge {
            origin: origin.clone(),
            value: item.to_string(),
            count,
            limit,
            allow_large: limits.allow_large,
        });
    }
    Ok(match addr {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
            let first = u32::from(v4) & mask;
            let last = first | !mask;
            // A /31 or /32 has no network or broadcast address (RFC 3021); larger ranges skip
            // both, so a range never sends to a subnet broadcast.
            let (first, last) = if host_bits >= 2 {
                (first + 1, last - 1)
            } else {
                (first, last)
            };
            Span {
                first: u128::from(first),
                last: u128::from(last),
                v6: false,
            }
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
            let first = u128::from(v6) & mask;
            if first == 0 {
                return Err(bad(
                    "the range holds ::, the unspecified address: start it at ::1",
                ));
            }
            Span {
                first,
                last: first | !mask,
                v6: true,
            }
        }
    })
}

/// Parses a service target `HOST[:PORT]`, IPv6 as `[ADDR]:PORT` (or a bare address).
pub fn parse_service(value: &str, role: Role, origin: &Origin) -> Result<Target, TargetError> {
    let value = value.trim();
    let invalid = |reason| TargetError::Invalid {
        origin: origin.clone(),
        value: value.to_string(),
        reason,
    };
    if role == Role::Ca {
        return parse_ca(value, origin);
    }
    if value.contains("://") {
        return Err(invalid(
            "write the server as HOST or HOST:PORT, not a URL (e.g. ldap.example.com:389)",
        ));
    }
    if let Some((host, instance)) = value.split_once('\\') {
        if role != Role::Sqlserver {
            return Err(invalid("a backslash belongs to no host name"));
        }
        if instance.contains(':') {
            return Err(invalid(
                "give HOST\\INSTANCE (the SQL Server Browser hands out its port) or HOST:PORT, \
                 not both",
            ));
        }
        crate::wire::mcsqlr::check_instance_name(instance).map_err(|why| match why {
            crate::wire::mcsqlr::InstanceNameError::Length => {
                invalid("an instance name is 1 to 16 characters")
            }
            crate::wire::mcsqlr::InstanceNameError::Characters => {
                invalid("an instance name holds letters, digits, _, $ and # only")
            }
        })?;
        let mut target = parse_service(host, role, origin)?;
        if target.port.is_some() {
            return Err(invalid(
                "give HOST\\INSTANCE (the SQL Server Browser hands out its port) or HOST:PORT, \
                 not both",
            ));
        }
        target.instance = Some(std::sync::Arc::from(instance));
        return Ok(target);
    }
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| invalid("'[' without a closing ']'"))?;
        let addr: Ipv6Addr = inner
            .parse()
            .map_err(|_| invalid("not an IPv6 address inside [ ]"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| invalid("expected ':PORT' after the closing ']'"))?,
            ),
        };
        (
            Host::Addr(probe_address(IpAddr::V6(addr)).map_err(invalid)?),
            port,
        )
    } else if let Ok(addr) = value.parse::<Ipv4Addr>() {
        (
            Host::Addr(probe_address(IpAddr::V4(addr)).map_err(invalid)?),
            None,
        )
    } else if value.parse::<Ipv6Addr>().is_ok() {
        // `::1:25` is an IPv6 address, and also what `::1` port 25 looks like written badly.
        return Err(invalid(
            "write an IPv6 service in brackets, [ADDR] or [ADDR]:PORT (e.g. [::1]:25)",
        ));
    } else {
        let (host, port) = match value.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        };
        if host.contains(':') {
            return Err(invalid("write an IPv6 address with a port as [ADDR]:PORT"));
        }
        let host = match host.parse::<Ipv4Addr>() {
            Ok(v4) => Host::Addr(probe_address(IpAddr::V4(v4)).map_err(invalid)?),
            Err(_) => parse_hostname(host).map_err(invalid)?,
        };
        (host, port)
    };
    let port = port
        .map(|text| {
            parse_port(text).map_err(|reason| TargetError::BadPort {
                origin: origin.clone(),
                value: value.to_string(),
                reason,
            })
        })
        .transpose()?;
    Ok(Target::new(role, host, port))
}

/// A certificate authority: an `http` or `https` URL, its host checked like any other. A
/// password in the URL is never echoed back.
fn parse_ca(value: &str, origin: &Origin) -> Result<Target, TargetError> {
    let invalid = |reason| TargetError::Invalid {
        origin: origin.clone(),
        value: crate::wire::http::redacted(value),
        reason,
    };
    let url = crate::wire::http::Url::parse(value).map_err(|err| {
        invalid(match err {
            crate::wire::http::UrlError::Credentials => {
                "mve-audit sends no credentials to a CA: give its URL without 'user:password@'"
            }
            crate::wire::http::UrlError::Control => {
                "a URL holds no space or control character (write a space as %20)"
            }
            _ => {
                "a CA is named by its URL: https://HOST[:PORT]/PATH (SCEP, e.g. \
                 /certsrv/mscep/mscep.dll; EST, /.well-known/est; CEP/CES, …/service.svc/CEP)"
            }
        })
    })?;
    let host = match url.host.parse::<IpAddr>() {
        Ok(addr) => Host::Addr(probe_address(addr).map_err(invalid)?),
        Err(_) => parse_hostname(&url.host).map_err(invalid)?,
    };
    Ok(Target {
        url: Some(std::sync::Arc::from(url.shown())),
        ..Target::new(Role::Ca, host, Some(url.port))
    })
}

/// A peer port: 1 to 65535.
pub fn parse_port(text: &str) -> Result<u16, &'static str> {
    match text.trim().parse::<u32>() {
        Ok(0) => Err("port 0 cannot be probed; use 1 to 65535"),
        Ok(port) => u16::try_from(port).map_err(|_| "a port is at most 65535"),
        Err(_) if text.trim().is_empty() => Err("the port is empty"),
        Err(_) => Err("the port is not a number"),
    }
}

/// A DNS name by RFC 1123 rules (underscores tolerated: some sites use them in A records).
fn parse_hostname(text: &str) -> Result<Host, &'static str> {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() {
        return Err("empty host name");
    }
    if name.len() > 253 {
        return Err("a host name is at most 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("a host name has an empty label ('..')");
        }
        if label.len() > 63 {
            return Err("a host name label is at most 63 characters");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a host name label cannot start or end with '-'");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(
                "not an IP address, and a host name holds only letters, digits, '-' and '.'",
            );
        }
    }
    // The resolver would read `127.1`, `0x7f.1` or `010.0.0.1` as an address (inet_aton's
    // old forms), never as a name: refuse them rather than probe a surprising address.
    let numeric = |label: &str| {
        let hex = label
            .strip_prefix("0x")
            .or_else(|| label.strip_prefix("0X"));
        match hex {
            Some(digits) => digits.bytes().all(|b| b.is_ascii_hexdigit()),
            None => label.bytes().all(|b| b.is_ascii_digit()),
        }
    };
    if name.split('.').next_back().is_some_and(numeric) {
        return Err(
            "not a canonical IPv4 address (write all four parts in decimal, e.g. \
                    10.0.0.1) and not a host name (a name's last label is not a number)",
        );
    }
    Ok(Host::Name(text.to_string()))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
