//! `mve-audit listen`: binds the server's inbound ports (UDP 9187 for printer alerts, TCP 443
//! for the console), reports every arrival, acknowledges tagged probes from `mve-audit send`,
//! and serves a minimal HTTPS page (self-signed, generated at start) saying who reached it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::{ACK_TAG, PROBE_PATH, PROBE_TAG, alert_source_port};
use crate::catalog::{CheckId, Transport};
use crate::transport::stream::{ReadEnd, read_until, write_all};

#[derive(Debug, Clone)]
pub struct ListenSettings {
    pub bind: IpAddr,
    pub udp_port: u16,
    pub tcp_port: u16,
}

/// Something that reached the listener.
#[derive(Debug, Clone, Serialize)]
pub struct Arrival {
    pub path: CheckId,
    pub from: SocketAddr,
    pub size: usize,
    /// What it probably is.
    pub guess: String,
    /// The tag of an `mve-audit send` probe, when it was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Milliseconds since the listener started.
    pub at_ms: u128,
}

/// How many distinct (source, path) pairs a tally keeps besides the expected sources: past
/// it, arrivals are only counted. Each pair costs a few hundred bytes whatever its traffic.
pub const MAX_SOURCES: usize = 1024;

/// What arrived from one source on one path: counts and the first, last and first tagged
/// arrival, so memory follows the sources (capped), not the arrivals.
#[derive(Debug, Clone)]
pub struct Seen {
    pub count: u64,
    pub bytes: u64,
    pub first: Arrival,
    pub last: Arrival,
    /// The first arrival that carried a sender's tag.
    pub tagged: Option<Arrival>,
    /// Arrivals since the last time the command printed this source.
    pub unprinted: u64,
}

/// Everything that arrived, bounded: a flood or a broadcast storm costs counters, not memory.
#[derive(Debug, Default)]
pub struct Tally {
    /// By source address (canonical: an IPv4-mapped IPv6 source is its IPv4) and path, in
    /// order of first arrival.
    pub seen: Vec<((IpAddr, CheckId), Seen)>,
    index: std::collections::HashMap<(IpAddr, CheckId), usize>,
    expected: Vec<IpAddr>,
    /// Pairs tracked for sources that were not expected.
    others: usize,
    /// Arrivals from sources past `MAX_SOURCES`, counted only, by path.
    pub untracked: std::collections::BTreeMap<CheckId, u64>,
}

impl Tally {
    /// A tally that always tracks `expected`, however many other sources arrive.
    pub fn new(expected: &[IpAddr]) -> Tally {
        Tally {
            expected: expected.iter().map(|ip| ip.to_canonical()).collect(),
            ..Tally::default()
        }
    }

    pub fn add(&mut self, arrival: Arrival) {
        let key = (arrival.from.ip().to_canonical(), arrival.path);
        let at = match self.index.get(&key) {
            Some(at) => *at,
            None => {
                let expected = self.expected.contains(&key.0);
                if !expected && self.others >= MAX_SOURCES {
                    *self.untracked.entry(arrival.path).or_default() += 1;
                    return;
                }
                self.others += usize::from(!expected);
                self.index.insert(key, self.seen.len());
                self.seen.push((
                    key,
                    Seen {
                        count: 0,
                        bytes: 0,
                        first: arrival.clone(),
                        last: arrival.clone(),
                        tagged: None,
                        unprinted: 0,
                    },
                ));
                self.seen.len() - 1
            }
        };
        let Some((_, seen)) = self.seen.get_mut(at) else {
            return;
        };
        seen.count += 1;
        seen.unprinted += 1;
        seen.bytes += arrival.size as u64;
        if seen.tagged.is_none() && arrival.nonce.is_some() {
            seen.tagged = Some(arrival.clone());
        }
        seen.last = arrival;
    }
}

/// A tally shared by the listener (which adds) and the command (which prints and reports).
pub type SharedTally = Arc<std::sync::Mutex<Tally>>;

fn add(tally: &SharedTally, arrival: Arrival) {
    tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .add(arrival);
}

/// The bound sockets, ready to run.
pub struct Listener {
    udp: UdpSocket,
    tcp: TcpListener,
    tls: TlsAcceptor,
    started: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot bind {what} {addr}: {source}{held}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: io::Error,
        /// `; held by nginx (pid 812)` when the port's holder is known.
        held: String,
    },
    #[error("cannot make the console certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot make the console certificate: {0}")]
    CertificateKey(&'static str),
    #[error("cannot set up the console's TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// At most this many console connections are served at once.
const MAX_CONNECTIONS: usize = 64;

pub async fn bind(settings: &ListenSettings) -> Result<Listener, ListenError> {
    let udp_addr = SocketAddr::new(settings.bind, settings.udp_port);
    let tcp_addr = SocketAddr::new(settings.bind, settings.tcp_port);
    let udp = UdpSocket::bind(udp_addr)
        .await
        .map_err(|source| ListenError::Bind {
            what: "UDP",
            addr: udp_addr,
            held: held_by(Transport::Udp, udp_addr.port(), &source),
            source,
        })?;
    // Best effort: without it a reply to a sender that left costs a receive error on Windows.
    let _ = crate::transport::sys::ignore_icmp_errors(socket2::SockRef::from(&udp));
    let tcp = TcpListener::bind(tcp_addr)
        .await
        .map_err(|source| ListenError::Bind {
            what: "TCP",
            addr: tcp_addr,
            held: held_by(Transport::Tcp, tcp_addr.port(), &source),
            source,
        })?;
    Ok(Listener {
        udp,
        tcp,
        tls: acceptor()?,
        started: Instant::now(),
    })
}

/// Who holds a port that could not be bound, as `local` names it: `; held by nginx (pid 812)`.
fn held_by(transport: Transport, port: u16, err: &io::Error) -> String {
    if err.kind() != io::ErrorKind::AddrInUse {
        return String::new();
    }
    let holders = crate::platform::ports::holders(transport, port);
    if holders.is_empty() {
        return String::new();
    }
    let names: Vec<String> = holders
        .iter()
        .map(|h| format!("{} (pid {})", h.name, h.pid))
        .collect();
    format!("; held by {}", names.join(", "))
}

fn acceptor() -> Result<TlsAcceptor, ListenError> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec!["mve-audit-console".to_string()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mve-audit console check");
    let cert = params.self_signed(&key)?;
    let key_der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der())
        .map_err(ListenError::CertificateKey)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key_der)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl Listener {
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp.local_addr().ok()
    }

    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp.local_addr().ok()
    }

    /// Serves until dropped, counting each arrival in `tally`.
    pub async fn run(self, tally: SharedTally) {
        let started = self.started;
        let udp = self.udp;
        let udp_tally = tally.clone();
        let datagrams = async move {
            let mut buf = vec![0u8; 2048];
            loop {
                let Ok((len, from)) = udp.recv_from(&mut buf).await else {
                    // A persistent error must not spin: pause before reading again.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let nonce = tagged(&buf[..len], PROBE_TAG.as_bytes());
                if let Some(nonce) = &nonce {
                    let _ = udp
                        .send_to(format!("{ACK_TAG} {nonce}").as_bytes(), from)
                        .await;
                }
                let guess = match nonce {
                    Some(_) => "mve-audit send probe".to_string(),
                    None if from.port() == alert_source_port() => {
                        format!("NPAP alert? (from source port {})", alert_source_port())
                    }
                    None => "unknown datagram".to_string(),
                };
                add(
                    &udp_tally,
                    Arrival {
                        path: CheckId::NpapAlerts,
                        from,
                        size: len,
                        guess,
                        nonce,
                        at_ms: started.elapsed().as_millis(),
                    },
                );
            }
        };
        let tcp = self.tcp;
        let tls = self.tls;
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let connections = async move {
            loop {
                let Ok((stream, from)) = tcp.accept().await else {
                    // Out of descriptors, say: pause rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    continue; // over the limit: the connection is dropped
                };
                let tls = tls.clone();
                let tally = tally.clone();
                let local = stream.local_addr().ok();
                tokio::spawn(async move {
                    serve(stream, from, local, tls, started, &tally).await;
                    drop(permit);
                });
            }
        };
        tokio::join!(datagrams, connections);
    }
}

/// The nonce after `tag ` in a payload (network input): at most 64 letters and digits.
pub fn tagged(payload: &[u8], tag: &[u8]) -> Option<String> {
    let rest = payload.strip_prefix(tag)?.strip_prefix(b" ")?;
    let nonce: String = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .take(64)
        .map(|&b| char::from(b))
        .collect();
    (!nonce.is_empty()).then_some(nonce)
}

async fn serve(
    stream: tokio::net::TcpStream,
    from: SocketAddr,
    local: Option<SocketAddr>,
    tls: TlsAcceptor,
    started: Instant,
    tally: &SharedTally,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let Ok(Ok(mut tls)) = tokio::time::timeout_at(deadline, tls.accept(stream)).await else {
        add(
            tally,
            Arrival {
                path: CheckId::Console,
                from,
                size: 0,
                guess: "TCP connection without a TLS handshake".into(),
                nonce: None,
                at_ms: started.elapsed().as_millis(),
            },
        );
        return;
    };
    let mut request = Vec::new();
    let end = read_until(&mut tls, &mut request, 8192, deadline, |b| {
        b.windows(4).position(|w| w == b"\r\n\r\n")
    })
    .await;
    let line = String::from_utf8_lossy(request.split(|&b| b == b'\n').next().unwrap_or_default())
        .trim()
        .to_string();
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let nonce = path
        .strip_prefix(PROBE_PATH)
        .and_then(|q| q.strip_prefix("?nonce="))
        .and_then(|n| tagged(format!("x {n}").as_bytes(), b"x"));
    let host = local.map_or_else(|| "this server".to_string(), |a| a.to_string());
    let body = match &nonce {
        Some(nonce) => format!("{ACK_TAG} {nonce}\n"),
        None => format!(
            "<!doctype html><title>mve-audit console check</title>\
             <h1>The MVE console port answers</h1>\
             <p>You reached {host} over HTTPS from {}.</p>\
             <p>Served by <code>mve-audit listen</code>; MVE is not installed here yet.</p>\n",
            from.ip()
        ),
    };
    let kind = if nonce.is_some() {
        "text/plain"
    } else {
        "text/html; charset=utf-8"
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = write_all(&mut tls, response.as_bytes(), deadline).await;
    let guess = match (&nonce, &end) {
        (Some(_), _) => "mve-audit send probe".to_string(),
        (None, ReadEnd::Done(_)) => format!("HTTPS request: {line}"),
        (None, other) => format!("TLS connection, {}", other.describe()),
    };
    add(
        tally,
        Arrival {
            path: CheckId::Console,
            from,
            size: request.len(),
            guess,
            nonce,
            at_ms: started.elapsed().as_millis(),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(from: &str, nonce: Option<&str>) -> Arrival {
        Arrival {
            path: CheckId::NpapAlerts,
            from: from.parse().unwrap(),
            size: 64,
            guess: "unknown datagram".into(),
            nonce: nonce.map(Into::into),
            at_ms: 0,
        }
    }

    /// Past `MAX_SOURCES` pairs only counts grow; an expected source is tracked whenever it
    /// arrives; a tagged arrival is kept however many untagged ones follow.
    #[test]
    fn a_tally_is_bounded_by_sources_not_arrivals() {
        let expected: IpAddr = "10.0.0.1".parse().unwrap();
        let mut tally = Tally::new(&[expected]);
        for n in 0..(MAX_SOURCES as u32 + 500) {
            let ip = std::net::Ipv4Addr::from(0x0b00_0000 + n);
            for _ in 0..3 {
                tally.add(arrival(&format!("{ip}:9300"), None));
            }
        }
        assert_eq!(tally.seen.len(), MAX_SOURCES);
        assert_eq!(
            tally.untracked.clone().into_iter().collect::<Vec<_>>(),
            [(CheckId::NpapAlerts, 500 * 3)]
        );
        tally.add(arrival("10.0.0.1:9300", Some("abc")));
        tally.add(arrival("10.0.0.1:9300", None));
        let (_, seen) = tally.seen.last().unwrap();
        assert_eq!(seen.count, 2);
        assert_eq!(seen.tagged.as_ref().unwrap().nonce.as_deref(), Some("abc"));
        // An IPv4-mapped IPv6 source is its IPv4 address.
        tally.add(arrival("[::ffff:10.0.0.1]:9300", None));
        assert_eq!(tally.seen.last().unwrap().1.count, 3);
    }

    #[test]
    fn tags_yield_bounded_alphanumeric_nonces() {
        assert_eq!(
            tagged(b"MVE-AUDIT-PROBE ab12", PROBE_TAG.as_bytes()).as_deref(),
            Some("ab12")
        );
        assert_eq!(
            tagged(b"MVE-AUDIT-PROBE ab12;rm", PROBE_TAG.as_bytes()).as_deref(),
            Some("ab12")
        );
        assert_eq!(tagged(b"MVE-AUDIT-PROBE ", PROBE_TAG.as_bytes()), None);
        assert_eq!(tagged(b"hello", PROBE_TAG.as_bytes()), None);
        let long = format!("{PROBE_TAG} {}", "a".repeat(500));
        assert_eq!(
            tagged(long.as_bytes(), PROBE_TAG.as_bytes()).unwrap().len(),
            64
        );
    }
}
