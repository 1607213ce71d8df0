//! Thin async drivers: a transport exchange plus a codec's request bytes, turned into one
//! finding with its evidence. Which driver runs is decided by the catalog's `probe` field.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::catalog::{CheckId, MveSide, Probe};
use crate::engine::Prober;
use crate::results::{Evidence, Finding, State};
use crate::transport::{
    self, Context, Pacer, SourcePort, TcpOutcome, UdpOptions, UdpOutcome, classify,
};
use crate::wire::{dns, kerberos, snmp};

/// Settings every probe shares.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Per connect, and per datagram's wait for an answer.
    pub timeout: Duration,
    /// UDP datagrams re-sent after a silent first one.
    pub retries: u32,
    /// Packets per second across all probes; 0 for no limit.
    pub rate: u32,
    /// The realm named in the Kerberos AS-REQ.
    pub kerberos_realm: String,
}

/// The real prober: sockets on this host's network.
#[derive(Debug)]
pub struct NetworkProber {
    settings: ProbeSettings,
    pacer: Pacer,
}

impl NetworkProber {
    pub fn new(settings: ProbeSettings) -> NetworkProber {
        let pacer = Pacer::new(settings.rate);
        NetworkProber { settings, pacer }
    }

    async fn tcp(&self, peer: SocketAddr) -> Finding {
        let attempt = transport::connect(peer, self.settings.timeout, &self.pacer).await;
        let (state, mut evidence) = match attempt.outcome {
            TcpOutcome::Connected(_stream) => {
                // Dropping the stream closes it: not a byte is written (RAW 9100 must never
                // receive print data).
                (State::Open, Evidence::new("TCP handshake completed"))
            }
            TcpOutcome::TimedOut => (
                State::Filtered,
                Evidence::new(format!(
                    "no answer to the TCP SYN within {}",
                    humanize(self.settings.timeout)
                )),
            ),
            TcpOutcome::Failed(err) => {
                let found = classify(&err, Context::TcpConnect);
                let mut evidence = Evidence::new(found.summary);
                evidence.errno = Some(found.errno);
                evidence.icmp = found.icmp;
                (found.state, evidence)
            }
            TcpOutcome::Local(err) => (
                State::Error,
                Evidence::new(format!("could not open a TCP socket: {err}")),
            ),
        };
        evidence = evidence.with_rtt(attempt.rtt);
        evidence.source_port = attempt.source_port;
        Finding::new(state, evidence)
    }

    async fn udp(&self, check: CheckId, peer: SocketAddr) -> Finding {
        let source = match check.path().mve_side {
            MveSide::Source(port) => SourcePort::Fixed(port),
            MveSide::Ephemeral | MveSide::Listens(_) => SourcePort::Ephemeral,
        };
        let options = UdpOptions {
            timeout: self.settings.timeout,
            retries: self.settings.retries,
            source,
        };
        let payload = self.request(check);
        let exchange = transport::exchange(peer, &payload, options, &self.pacer).await;
        let (state, mut evidence) = match exchange.outcome {
            UdpOutcome::Reply(bytes) => (
                State::Open,
                Evidence::new(format!("UDP reply of {} bytes from {peer}", bytes.len()))
                    .with_reply(peer, &bytes),
            ),
            UdpOutcome::Failed(found) => {
                let mut evidence = Evidence::new(found.summary);
                evidence.errno = Some(found.errno);
                evidence.icmp = found.icmp;
                (found.state, evidence)
            }
            UdpOutcome::Silence => (
                State::OpenFiltered,
                Evidence::new(format!(
                    "no reply and no ICMP error after {} datagram(s), {} each",
                    exchange.attempts,
                    humanize(self.settings.timeout)
                )),
            ),
            UdpOutcome::Local(err) => (
                State::Error,
                Evidence::new(format!("could not open a UDP socket: {err}")),
            ),
        };
        if exchange.attempts > 0 {
            evidence = evidence.with_rtt(exchange.rtt);
            evidence.attempts = Some(exchange.attempts);
        }
        evidence.source_port = exchange.source_port;
        evidence.notes.extend(exchange.source_note);
        Finding::new(state, evidence)
    }

    /// The datagram each UDP check sends.
    fn request(&self, check: CheckId) -> Vec<u8> {
        match check {
            CheckId::Snmp => snmp::discovery_request(nonce() & 0x7fff_ffff, nonce() & 0x7fff_ffff),
            CheckId::Mdns => dns::ptr_query(nonce() as u16, dns::SERVICES),
            CheckId::Kerberos => kerberos::as_request(&self.settings.kerberos_realm, nonce()),
            // No public wire format: an empty datagram carries no command a printer could act
            // on (DESIGN.md §3).
            _ => Vec::new(),
        }
    }
}

impl Prober for NetworkProber {
    async fn probe(&self, check: CheckId, peer: SocketAddr) -> Finding {
        match check.path().probe {
            Probe::Connect => self.tcp(peer).await,
            Probe::UdpRequest | Probe::UdpBlind => self.udp(check, peer).await,
            Probe::Inbound => Finding::new(
                State::Error,
                Evidence::new("an inbound path is tested with `mve-audit listen`"),
            ),
        }
    }
}

/// A fresh id for request and message ids: unpredictable enough that a stale or spoofed reply
/// is unlikely to match, with no dependency on a random-number crate.
fn nonce() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    nanos.wrapping_mul(2_654_435_761) ^ count.wrapping_mul(0x9e37_79b9) ^ std::process::id()
}

/// `1.5s`, `500ms`: the way durations are written on the command line.
pub fn humanize(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
