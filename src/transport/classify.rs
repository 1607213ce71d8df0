//! The one place an OS error becomes a probe state. Pure: tested with constructed errors.
//!
//! Linux and Windows both report ICMP errors on a connected socket as errno values:
//! port unreachable → ECONNREFUSED (WSAECONNRESET on Windows UDP), host unreachable or
//! administratively prohibited (type 3 code 13, nftables `reject with icmp admin-prohibited`)
//! → EHOSTUNREACH. The errno cannot tell those two ICMP codes apart, so the evidence names both.
//!
//! Windows socket errors (WSAE*, 10000–11999) are read by their code, whatever platform runs
//! the tests: the same decisions as Linux, and the names a Windows admin searches for
//! (WSAECONNRESET, not ECONNRESET). WSAENETRESET on UDP is an ICMP time exceeded (a TTL that
//! ran out in a routing loop), with SIO_UDP_NETRESET on.

use std::io::{self, ErrorKind};

use crate::results::State;

/// Which socket call failed; the same errno means different things in different places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    TcpConnect,
    /// A UDP send before any datagram left: errors come from this host, not the network.
    UdpFirstSend,
    /// A later send or a receive: errors are ICMP messages queued from earlier datagrams.
    UdpAfterSend,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub state: State,
    pub errno: &'static str,
    pub icmp: Option<&'static str>,
    /// The host that sent the ICMP message, when the kernel said (Linux).
    pub icmp_from: Option<std::net::IpAddr>,
    pub summary: String,
}

impl Classified {
    /// The finding this error makes: its state, with errno and ICMP as evidence.
    pub fn finding(&self) -> crate::results::Finding {
        let mut evidence = crate::results::Evidence::new(self.summary.clone());
        evidence.errno = Some(self.errno);
        evidence.icmp = self.icmp;
        evidence.icmp_from = self.icmp_from;
        crate::results::Finding::new(self.state, evidence)
    }
}

/// What an ICMP destination-unreachable (or time-exceeded) message means for a probe, by
/// its exact type and code (RFC 792, RFC 1812, RFC 4443).
pub fn icmp_meaning(v6: bool, kind: u8, code: u8) -> (State, &'static str) {
    match (v6, kind, code) {
        (false, 3, 3) => (
            State::Closed,
            "destination unreachable: port unreachable (type 3 code 3)",
        ),
        (false, 3, 2) => (
            State::Closed,
            "destination unreachable: protocol unreachable (type 3 code 2)",
        ),
        (false, 3, 0) => (
            State::Filtered,
            "destination unreachable: network unreachable (type 3 code 0)",
        ),
        (false, 3, 1) => (
            State::Filtered,
            "destination unreachable: host unreachable (type 3 code 1)",
        ),
        (false, 3, 9) => (
            State::Filtered,
            "destination unreachable: network administratively prohibited (type 3 code 9)",
        ),
        (false, 3, 10) => (
            State::Filtered,
            "destination unreachable: host administratively prohibited (type 3 code 10)",
        ),
        (false, 3, 13) => (
            State::Filtered,
            "destination unreachable: communication administratively prohibited (type 3 code 13)",
        ),
        (false, 3, _) => (State::Filtered, "destination unreachable (type 3)"),
        (false, 11, _) => (State::Filtered, "time exceeded in transit (type 11)"),
        (true, 1, 4) => (
            State::Closed,
            "ICMPv6 destination unreachable: port unreachable (type 1 code 4)",
        ),
        (true, 1, 1) => (
            State::Filtered,
            "ICMPv6 destination unreachable: administratively prohibited (type 1 code 1)",
        ),
        (true, 1, 0) => (
            State::Filtered,
            "ICMPv6 destination unreachable: no route (type 1 code 0)",
        ),
        (true, 1, 3) => (
            State::Filtered,
            "ICMPv6 destination unreachable: address unreachable (type 1 code 3)",
        ),
        (true, 1, 5 | 6) => (
            State::Filtered,
            "ICMPv6 destination unreachable: policy reject (type 1)",
        ),
        (true, 1, _) => (State::Filtered, "ICMPv6 destination unreachable (type 1)"),
        (true, 3, _) => (State::Filtered, "ICMPv6 time exceeded (type 3)"),
        _ => (State::Filtered, "an ICMP error"),
    }
}

const PORT_UNREACHABLE: &str = "destination unreachable: port unreachable (type 3 code 3)";
const HOST_OR_PROHIBITED: &str =
    "destination unreachable: host unreachable or administratively prohibited (type 3)";
const NET_UNREACHABLE: &str = "destination unreachable: network unreachable (type 3)";

pub fn classify(err: &io::Error, context: Context) -> Classified {
    let (kind, errno) = match err.raw_os_error().and_then(windows_error) {
        Some(WindowsError::NetReset) if context != Context::TcpConnect => {
            return Classified {
                state: State::Filtered,
                errno: "WSAENETRESET",
                icmp: Some("time exceeded in transit (type 11)"),
                icmp_from: None,
                summary: "ICMP time exceeded: the datagram's TTL ran out on the way (a routing \
                          loop or a path longer than its hop limit)"
                    .to_string(),
            };
        }
        // On TCP a dropped connection: nothing a connect probe can conclude from.
        Some(WindowsError::NetReset) => (ErrorKind::ConnectionAborted, "WSAENETRESET"),
        Some(WindowsError::Known(kind, name)) => (kind, name),
        None => (err.kind(), errno_name(err)),
    };
    let (state, icmp, summary) = match (kind, context) {
        (ErrorKind::ConnectionRefused, Context::TcpConnect) => (
            State::Closed,
            None,
            "TCP reset: nothing listens on the port".to_string(),
        ),
        (ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset, _) => (
            State::Closed,
            Some(PORT_UNREACHABLE),
            "ICMP port unreachable: nothing listens on the port".to_string(),
        ),
        (ErrorKind::HostUnreachable, Context::UdpFirstSend) => (
            State::Error,
            None,
            "this host has no route or neighbour for the address".to_string(),
        ),
        (ErrorKind::HostUnreachable, _) => (
            State::Filtered,
            Some(HOST_OR_PROHIBITED),
            "no route to host: ICMP host unreachable or administratively prohibited".to_string(),
        ),
        (ErrorKind::NetworkUnreachable, Context::UdpAfterSend) => (
            State::Filtered,
            Some(NET_UNREACHABLE),
            "ICMP network unreachable or prohibited".to_string(),
        ),
        (ErrorKind::NetworkUnreachable, _) => (
            State::Error,
            None,
            "network unreachable: this host has no route to the address".to_string(),
        ),
        (ErrorKind::TimedOut, Context::TcpConnect) => (
            State::Filtered,
            None,
            "the OS gave up waiting for a TCP answer".to_string(),
        ),
        (ErrorKind::PermissionDenied, _) => (
            State::Filtered,
            None,
            "refused by this host's own firewall or policy".to_string(),
        ),
        (ErrorKind::AddrNotAvailable, _) => (
            State::Error,
            None,
            "no local address can reach the target".to_string(),
        ),
        _ => (State::Error, None, format!("socket error: {err}")),
    };
    Classified {
        state,
        errno,
        icmp,
        icmp_from: None,
        summary,
    }
}

/// Refines a classification with the exact ICMP message, when the kernel queued one.
pub fn with_icmp(mut found: Classified, detail: Option<super::sys::IcmpDetail>) -> Classified {
    let Some(detail) = detail else {
        return found;
    };
    let (state, text) = icmp_meaning(detail.v6, detail.kind, detail.code);
    found.state = state;
    found.icmp = Some(text);
    found.icmp_from = detail.from;
    found.summary = match (state, detail.from) {
        (State::Closed, _) => "ICMP port unreachable: nothing listens on the port".to_string(),
        (_, Some(from)) => format!("ICMP from {from}: {text}"),
        (_, None) => format!("ICMP: {text}"),
    };
    found
}

/// A Windows Sockets error code, as `classify` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WindowsError {
    Known(ErrorKind, &'static str),
    /// WSAENETRESET: on UDP an ICMP time exceeded, on TCP a connection dropped by keep-alive.
    NetReset,
}

/// The WSAE* codes that decide a probe's state (winerror.h), by number, so that Linux tests
/// cover the Windows mapping.
fn windows_error(code: i32) -> Option<WindowsError> {
    use ErrorKind::*;
    let (kind, name) = match code {
        10013 => (PermissionDenied, "WSAEACCES"),
        10022 => (InvalidInput, "WSAEINVAL"),
        10048 => (AddrInUse, "WSAEADDRINUSE"),
        10049 => (AddrNotAvailable, "WSAEADDRNOTAVAIL"),
        10050 => (NetworkDown, "WSAENETDOWN"),
        10051 => (NetworkUnreachable, "WSAENETUNREACH"),
        10052 => return Some(WindowsError::NetReset),
        10053 => (ConnectionAborted, "WSAECONNABORTED"),
        10054 => (ConnectionReset, "WSAECONNRESET"),
        10060 => (TimedOut, "WSAETIMEDOUT"),
        10061 => (ConnectionRefused, "WSAECONNREFUSED"),
        10064 => (HostUnreachable, "WSAEHOSTDOWN"),
        10065 => (HostUnreachable, "WSAEHOSTUNREACH"),
        _ => return None,
    };
    Some(WindowsError::Known(kind, name))
}

/// The conventional name of an error, for evidence that a person can search for.
fn errno_name(err: &io::Error) -> &'static str {
    match err.kind() {
        ErrorKind::ConnectionRefused => "ECONNREFUSED",
        ErrorKind::ConnectionReset => "ECONNRESET",
        ErrorKind::HostUnreachable => "EHOSTUNREACH",
        ErrorKind::NetworkUnreachable => "ENETUNREACH",
        ErrorKind::TimedOut => "ETIMEDOUT",
        ErrorKind::PermissionDenied => super::sys::permission_errno(err),
        ErrorKind::AddrInUse => "EADDRINUSE",
        ErrorKind::AddrNotAvailable => "EADDRNOTAVAIL",
        ErrorKind::InvalidInput => "EINVAL",
        _ => "EIO",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Windows codes decide as their Linux counterparts do, and keep their own names.
    #[test]
    fn windows_socket_errors_map_like_their_linux_counterparts() {
        use Context::*;
        let rows = [
            // ICMP port unreachable on a connected UDP socket (SIO_UDP_CONNRESET on).
            (
                10054,
                UdpAfterSend,
                State::Closed,
                "WSAECONNRESET",
                Some(PORT_UNREACHABLE),
            ),
            (10061, TcpConnect, State::Closed, "WSAECONNREFUSED", None),
            (10060, TcpConnect, State::Filtered, "WSAETIMEDOUT", None),
            (
                10065,
                UdpAfterSend,
                State::Filtered,
                "WSAEHOSTUNREACH",
                Some(HOST_OR_PROHIBITED),
            ),
            (10065, UdpFirstSend, State::Error, "WSAEHOSTUNREACH", None),
            (
                10051,
                UdpAfterSend,
                State::Filtered,
                "WSAENETUNREACH",
                Some(NET_UNREACHABLE),
            ),
            (10051, TcpConnect, State::Error, "WSAENETUNREACH", None),
            (10013, UdpFirstSend, State::Filtered, "WSAEACCES", None),
            (10049, TcpConnect, State::Error, "WSAEADDRNOTAVAIL", None),
            (
                10052,
                UdpAfterSend,
                State::Filtered,
                "WSAENETRESET",
                Some("time exceeded in transit (type 11)"),
            ),
            (10052, TcpConnect, State::Error, "WSAENETRESET", None),
        ];
        for (code, context, state, name, icmp) in rows {
            let found = classify(&io::Error::from_raw_os_error(code), context);
            assert_eq!(
                (found.state, found.errno, found.icmp),
                (state, name, icmp),
                "{code} in {context:?}"
            );
        }
        // Linux's own codes are never read as Windows ones (a Linux build's check: on
        // Windows, 111 is no socket error at all).
        #[cfg(target_os = "linux")]
        {
            let refused = classify(&io::Error::from_raw_os_error(111), Context::UdpAfterSend);
            assert_eq!(refused.errno, "ECONNREFUSED");
        }
    }

    #[test]
    fn errors_map_to_states() {
        use Context::*;
        use ErrorKind::*;
        let rows = [
            (
                ConnectionRefused,
                TcpConnect,
                State::Closed,
                "ECONNREFUSED",
                false,
            ),
            (
                ConnectionRefused,
                UdpAfterSend,
                State::Closed,
                "ECONNREFUSED",
                true,
            ),
            (
                ConnectionReset,
                UdpAfterSend,
                State::Closed,
                "ECONNRESET",
                true,
            ),
            (
                HostUnreachable,
                TcpConnect,
                State::Filtered,
                "EHOSTUNREACH",
                true,
            ),
            (
                HostUnreachable,
                UdpAfterSend,
                State::Filtered,
                "EHOSTUNREACH",
                true,
            ),
            (
                HostUnreachable,
                UdpFirstSend,
                State::Error,
                "EHOSTUNREACH",
                false,
            ),
            (
                NetworkUnreachable,
                TcpConnect,
                State::Error,
                "ENETUNREACH",
                false,
            ),
            (
                NetworkUnreachable,
                UdpAfterSend,
                State::Filtered,
                "ENETUNREACH",
                true,
            ),
            (TimedOut, TcpConnect, State::Filtered, "ETIMEDOUT", false),
            (
                AddrNotAvailable,
                TcpConnect,
                State::Error,
                "EADDRNOTAVAIL",
                false,
            ),
            (Other, TcpConnect, State::Error, "EIO", false),
        ];
        for (kind, context, state, errno, icmp) in rows {
            let got = classify(&io::Error::from(kind), context);
            assert_eq!(got.state, state, "{kind:?} in {context:?}");
            assert_eq!(got.errno, errno, "{kind:?} in {context:?}");
            assert_eq!(got.icmp.is_some(), icmp, "{kind:?} in {context:?}");
        }
    }

    #[test]
    fn exact_icmp_codes_decide_the_state() {
        let rows = [
            (false, 3, 3, State::Closed, "code 3"),
            (
                false,
                3,
                13,
                State::Filtered,
                "administratively prohibited (type 3 code 13)",
            ),
            (false, 3, 1, State::Filtered, "host unreachable"),
            (false, 11, 0, State::Filtered, "time exceeded"),
            (
                true,
                1,
                4,
                State::Closed,
                "port unreachable (type 1 code 4)",
            ),
            (true, 1, 1, State::Filtered, "administratively prohibited"),
            (true, 1, 3, State::Filtered, "address unreachable"),
        ];
        for (v6, kind, code, state, text) in rows {
            let (got, words) = icmp_meaning(v6, kind, code);
            assert_eq!(got, state, "v6={v6} {kind}/{code}");
            assert!(words.contains(text), "{words}");
        }
    }

    #[test]
    fn port_unreachable_names_the_icmp_code() {
        let got = classify(
            &io::Error::from(ErrorKind::ConnectionRefused),
            Context::UdpAfterSend,
        );
        assert_eq!(got.icmp, Some(PORT_UNREACHABLE));
        assert!(got.summary.contains("ICMP port unreachable"));
    }
}
