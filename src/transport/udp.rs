//! UDP probes through a connected socket, so the kernel hands ICMP errors back as errno values
//! and only datagrams from the probed address and port are read.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::{Classified, Context, Pacer, classify, sys, with_icmp};

/// Which local port a probe leaves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcePort {
    Ephemeral,
    /// MVE's own source port (9187 for NPAP/XMLNT, 6100 for LST), when it is free.
    Fixed(u16),
}

#[derive(Debug, Clone, Copy)]
pub struct UdpOptions {
    /// How long to wait for an answer after each datagram.
    pub timeout: Duration,
    /// Datagrams sent after the first one, when the first gets no answer.
    pub retries: u32,
    /// The wait after each datagram but the last, when it is shorter than `timeout`: a second
    /// look on a lossy path sends its datagrams closer together (any answer still counts
    /// until the end). The last datagram always waits `timeout`.
    pub spacing: Option<Duration>,
    pub source: SourcePort,
}

/// How a UDP exchange ended.
#[derive(Debug)]
pub enum UdpOutcome {
    /// A datagram came back from the probed address and port.
    Reply(Vec<u8>),
    /// The OS reported an error, usually an ICMP message.
    Failed(Classified),
    /// Nothing came back after every attempt.
    Silence,
    /// The socket could not be made, bound or connected.
    Local(io::Error),
}

#[derive(Debug)]
pub struct UdpExchange {
    pub outcome: UdpOutcome,
    /// Time from the datagram that got the answer to the answer.
    pub rtt: Duration,
    pub source_port: Option<u16>,
    pub attempts: u32,
    /// Set when a fixed source port could not be used, saying why.
    pub source_note: Option<String>,
}

/// The largest reply read: any UDP datagram fits (65,507 bytes of payload at most), so no
/// answer is cut (a SQL Browser list of many instances, a large mDNS answer), and Windows,
/// which fails a receive into a smaller buffer with WSAEMSGSIZE instead of truncating as
/// Linux does, reads the same bytes. It lives on the stack only during the receive; the reply
/// is copied out at its own length.
const MAX_REPLY: usize = 64 * 1024;

/// Sends `payload` to `peer` up to `1 + retries` times and waits for an answer.
///
/// One function on purpose: thousands of these futures are in flight in a fleet run, and
/// split into nested `async fn`s (the wait for an answer, the attempts) the future grows from
/// 632 to 800–984 bytes. `probes::tests::probes_in_flight_stay_small` holds the bound.
pub async fn exchange(
    peer: SocketAddr,
    payload: &[u8],
    options: UdpOptions,
    pacer: &Pacer,
) -> UdpExchange {
    let _turn = match options.source {
        SourcePort::Fixed(port) if !sys::SHARES_SOURCE_PORT => Some(take_turn(port).await),
        _ => None,
    };
    let made = super::retry_when_out_of_descriptors(|| connected_socket(peer, options.source));
    let (socket, source_note) = match made.await {
        Ok(pair) => pair,
        Err(err) => {
            return UdpExchange {
                outcome: UdpOutcome::Local(err),
                rtt: Duration::ZERO,
                source_port: None,
                attempts: 0,
                source_note: None,
            };
        }
    };
    let source_port = socket.local_addr().ok().map(|a| a.port());
    let mut attempts = 0;
    let mut rtt = Duration::ZERO;
    // Whether some silence so far is proof: no error can have been rate-limited away.
    let mut conclusive = false;
    let outcome = 'attempts: loop {
        let charge = if attempts <= options.retries {
            pacer.wait_udp(peer.ip()).await
        } else if !conclusive && attempts == options.retries + 1 {
            // The host sends errors and none of our datagrams had a token it could prove:
            // one more, when it has one.
            pacer.confirm(peer.ip()).await
        } else {
            break UdpOutcome::Silence;
        };
        let context = if attempts == 0 {
            Context::UdpFirstSend
        } else {
            Context::UdpAfterSend
        };
        attempts += 1;
        let sent_at = Instant::now();
        if let Err(err) = socket.send(payload).await {
            rtt = sent_at.elapsed();
            let found = classify(&err, context);
            charge.spent();
            break UdpOutcome::Failed(with_icmp(found, sys::read_icmp_detail(&socket)));
        }
        let wait = match options.spacing {
            Some(gap) if attempts <= options.retries => gap.min(options.timeout),
            _ => options.timeout,
        };
        let deadline = sent_at + wait;
        loop {
            match listen_until(&socket, deadline).await {
                Heard::Nothing => {
                    conclusive |= charge.silent();
                    continue 'attempts;
                }
                Heard::Error(err) => {
                    rtt = sent_at.elapsed();
                    charge.spent();
                    let found = classify(&err, Context::UdpAfterSend);
                    break 'attempts UdpOutcome::Failed(with_icmp(
                        found,
                        sys::read_icmp_detail(&socket),
                    ));
                }
                // A connected socket only delivers datagrams from its peer; checking again
                // costs nothing and keeps the rule visible.
                Heard::Datagram(bytes, from) if same_endpoint(from, peer) => {
                    rtt = sent_at.elapsed();
                    break 'attempts UdpOutcome::Reply(bytes);
                }
                Heard::Datagram(..) => continue,
            }
        }
    };
    UdpExchange {
        outcome,
        rtt,
        source_port,
        attempts,
        source_note,
    }
}

/// What the wait for an answer needs of a socket: a wait until the OS reports it readable or
/// holding an error, and one receive that never blocks. A trait so that a test can hand the
/// wait a socket that misbehaves (`tests::a_socket_ready_without_data_cannot_spin`).
pub(crate) trait Inbox {
    /// Waits until the socket is reported readable or holding an error (ICMP). The report may
    /// be wrong: the receive that follows can still find nothing.
    async fn ready(&self) -> io::Result<()>;
    /// Takes one datagram and its sender, or the pending error; `WouldBlock` when there is
    /// nothing after all (and then forgets the report, so `ready` waits for a new one).
    fn try_receive(&self) -> io::Result<(Vec<u8>, SocketAddr)>;
    /// An error the socket holds that no receive reported (SO_ERROR), taken without sending.
    fn pending_error(&self) -> Option<io::Error>;
}

impl Inbox for UdpSocket {
    async fn ready(&self) -> io::Result<()> {
        // ERROR too: on Linux an ICMP error queued with IP_RECVERR wakes the socket with
        // EPOLLERR, not as readable. The same interest on both platforms; where an error
        // wakes nothing (Wine 8), `pending_error` finds it.
        UdpSocket::ready(self, Interest::READABLE | Interest::ERROR)
            .await
            .map(drop)
    }

    fn try_receive(&self) -> io::Result<(Vec<u8>, SocketAddr)> {
        // One interest at a time: tokio's `try_io` finds no readiness at all for a combined
        // interest (its mask of READABLE | ERROR is empty), and would never call `receive`.
        // Each call that finds nothing forgets its own report.
        match self.try_io(Interest::READABLE, || receive(self)) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.try_io(Interest::ERROR, || receive(self))
            }
            other => other,
        }
    }

    fn pending_error(&self) -> Option<io::Error> {
        self.take_error().ok().flatten()
    }
}

/// How a wait for an answer ended.
#[derive(Debug)]
pub(crate) enum Heard {
    Datagram(Vec<u8>, SocketAddr),
    /// The receive failed: an ICMP error, or a local one.
    Error(io::Error),
    /// The deadline came first.
    Nothing,
}

/// Reports of readiness in a row that found nothing before the wait backs off. One is normal
/// (a report raced with another reader, or Windows' AFD poll woke for a datagram the stack
/// then dropped); many in a row is a socket that says "ready" and never has data, which
/// under Wine 8 happened about 20,000 times a second and hung the run.
const EMPTY_WAKES_BEFORE_BACKOFF: u32 = 4;
/// The longest pause between receives on a socket that keeps reporting readiness without
/// data: an answer that does arrive is read at most this late.
const MOST_BACKOFF: Duration = Duration::from_millis(20);

/// Waits for one datagram or error until `deadline`, and never past it: the deadline is
/// checked after every receive as well as raced against every wait, so a socket that is
/// always "ready" (a wait that never yields) still ends on time; and readiness without data
/// backs off (1, 2, 4 … 20 ms), so it cannot spin the CPU meanwhile.
pub(crate) async fn listen_until(inbox: &impl Inbox, deadline: Instant) -> Heard {
    let mut empty = 0u32;
    loop {
        // Where the OS may hold an ICMP error without reporting the socket ready (Wine 8
        // does), the wait looks at the socket's error every so often; everywhere it looks
        // once more before calling the wait silent.
        let until = sys::PENDING_ERROR_POLL
            .map_or(deadline, |every| (Instant::now() + every).min(deadline));
        match tokio::time::timeout_at(until, inbox.ready()).await {
            Err(_) => {
                if let Some(err) = inbox.pending_error() {
                    return Heard::Error(err);
                }
                if Instant::now() >= deadline {
                    return Heard::Nothing;
                }
                continue;
            }
            Ok(Err(err)) => return Heard::Error(err),
            Ok(Ok(())) => {}
        }
        match inbox.try_receive() {
            Ok((bytes, from)) => return Heard::Datagram(bytes, from),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                empty += 1;
            }
            Err(err) => return Heard::Error(err),
        }
        // Readiness without data is, under Wine 8, an ICMP error that its receive does not
        // report (it says "would block") but SO_ERROR holds; Linux and Windows hand the error
        // to the receive, and then this finds nothing.
        if let Some(err) = inbox.pending_error() {
            return Heard::Error(err);
        }
        if Instant::now() >= deadline {
            return Heard::Nothing;
        }
        if empty >= EMPTY_WAKES_BEFORE_BACKOFF {
            let shift = (empty - EMPTY_WAKES_BEFORE_BACKOFF).min(5);
            let pause = (Duration::from_millis(1) * (1 << shift)).min(MOST_BACKOFF);
            tokio::time::sleep_until((Instant::now() + pause).min(deadline)).await;
        } else {
            // A wait that reports readiness without ever yielding still lets the timers and
            // the other probes run.
            tokio::task::yield_now().await;
        }
    }
}

/// Reads one datagram and its sender in one call, or the pending error. The buffer lives on
/// the stack only for the call, so a probe waiting on silence holds none, and the reply is
/// copied out at its own length.
fn receive(socket: &UdpSocket) -> io::Result<(Vec<u8>, SocketAddr)> {
    let (bytes, from) = sys::recv_from::<MAX_REPLY>(&SockRef::from(socket))?;
    let from = from
        .as_socket()
        .ok_or_else(|| io::Error::from(io::ErrorKind::AddrNotAvailable))?;
    Ok((bytes, from))
}

/// Compares endpoints, treating an IPv4-mapped IPv6 address as the IPv4 address it maps.
fn same_endpoint(a: SocketAddr, b: SocketAddr) -> bool {
    let canon = |s: SocketAddr| (s.ip().to_canonical(), s.port());
    canon(a) == canon(b)
}

fn connected_socket(
    peer: SocketAddr,
    source: SourcePort,
) -> io::Result<(UdpSocket, Option<String>)> {
    let (socket, note) = match source {
        SourcePort::Ephemeral => (bind(peer, 0, false)?, None),
        SourcePort::Fixed(port) => match bind(peer, port, true) {
            Ok(socket) => (socket, None),
            Err(err) => {
                let socket = bind(peer, 0, false)?;
                let used = socket.local_addr()?.as_socket().map_or(0, |a| a.port());
                let why = match err.kind() {
                    io::ErrorKind::AddrInUse => "is held by another program".to_string(),
                    io::ErrorKind::PermissionDenied => "needs a privilege we lack".to_string(),
                    _ => format!("could not be bound ({err})"),
                };
                let note = format!(
                    "source-port rule untested: UDP {port} {why}, sent from ephemeral port {used}"
                );
                (socket, Some(note))
            }
        },
    };
    socket.connect(&peer.into())?;
    let (socket, note) = if talks_to_itself(&socket, peer) {
        // Probing this very host on the port we send from (LST: 6100 → 6100) would deliver
        // our own datagram back to us and read as a reply.
        let ephemeral = bind(peer, 0, false)?;
        ephemeral.connect(&peer.into())?;
        let note = format!(
            "source-port rule untested: UDP {} is the probed port on this same host, \
             sent from an ephemeral port",
            peer.port()
        );
        (ephemeral, Some(note))
    } else {
        (socket, note)
    };
    socket.set_nonblocking(true)?;
    let socket = UdpSocket::from_std(socket.into())?;
    Ok((socket, note))
}

fn talks_to_itself(socket: &Socket, peer: SocketAddr) -> bool {
    socket
        .local_addr()
        .ok()
        .and_then(|local| local.as_socket())
        .is_some_and(|local| same_endpoint(local, peer))
}

fn bind(peer: SocketAddr, port: u16, shared: bool) -> io::Result<Socket> {
    let (domain, local) = match peer {
        SocketAddr::V4(_) => (
            Domain::IPV4,
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
        ),
        SocketAddr::V6(_) => (
            Domain::IPV6,
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)),
        ),
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if peer.is_ipv6() {
        // Keeps [::]:9187 from also claiming 0.0.0.0:9187.
        socket.set_only_v6(true)?;
    }
    if shared {
        sys::share_source_port(&socket)?;
    }
    // Exact ICMP type and code in the evidence; without it the errno alone decides.
    let _ = sys::enable_icmp_details(&socket, peer.is_ipv6());
    socket.bind(&local.into())?;
    Ok(socket)
}

/// Where sockets cannot share a fixed port, probes from it take turns.
async fn take_turn(port: u16) -> tokio::sync::OwnedMutexGuard<()> {
    static TURNS: OnceLock<Mutex<HashMap<u16, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let lock = {
        let mut turns = TURNS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        turns.entry(port).or_default().clone()
    };
    lock.lock_owned().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply from another port of the same host does not count, and a flood of replies to
    /// one datagram ends the exchange on the first with nothing else kept.
    /// A spaced schedule (a second look) sends its datagrams `spacing` apart, not a timeout
    /// apart: a peer that answers only the third datagram is heard within a fraction of the
    /// timeout, and the answer counts as the third attempt's.
    #[tokio::test]
    async fn a_spaced_schedule_sends_its_datagrams_closer_together() {
        let responder = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = responder.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 64];
            for n in 1..=3 {
                let (_, from) = responder.recv_from(&mut buf).await.unwrap();
                if n == 3 {
                    responder.send_to(b"third", from).await.unwrap();
                }
            }
        });
        let options = UdpOptions {
            timeout: Duration::from_secs(3),
            retries: 2,
            spacing: Some(Duration::from_millis(100)),
            source: SourcePort::Ephemeral,
        };
        let start = std::time::Instant::now();
        let exchange = super::exchange(peer, b"probe", options, &Pacer::new(0, 0)).await;
        assert!(
            matches!(exchange.outcome, UdpOutcome::Reply(ref bytes) if bytes == b"third"),
            "{exchange:?}"
        );
        assert_eq!(exchange.attempts, 3);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "two spacings, not two timeouts: {:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn replies_from_elsewhere_do_not_count_and_a_flood_is_one_reply() {
        let responder = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let impostor = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = responder.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let (_, from) = responder.recv_from(&mut buf).await.unwrap();
            impostor.send_to(b"spoofed", from).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            for _ in 0..1000 {
                let _ = responder.send_to(b"real", from).await;
            }
        });
        let options = UdpOptions {
            timeout: Duration::from_secs(2),
            retries: 0,
            spacing: None,
            source: SourcePort::Ephemeral,
        };
        let exchange = super::exchange(peer, b"probe", options, &Pacer::new(0, 0)).await;
        match exchange.outcome {
            UdpOutcome::Reply(bytes) => assert_eq!(bytes, b"real"),
            other => panic!("{other:?}"),
        }
        assert_eq!(exchange.attempts, 1);
    }

    /// A socket that reports readiness without data, forever, and whose wait never yields:
    /// the nearest build of what Wine 8 did (an AFD poll saying "readable" to a receive that
    /// says "would block", about 20,000 times a second). Counts the receives it was asked for.
    struct AlwaysReady {
        receives: std::cell::Cell<u32>,
        /// Whether the wait yields once before reporting (a socket the runtime polls again)
        /// or reports at once without ever yielding.
        yields: bool,
        /// A datagram to deliver on this receive, if any.
        answer_on: Option<u32>,
    }

    impl Inbox for AlwaysReady {
        async fn ready(&self) -> io::Result<()> {
            if self.yields {
                tokio::task::yield_now().await;
            }
            Ok(())
        }

        fn try_receive(&self) -> io::Result<(Vec<u8>, SocketAddr)> {
            let n = self.receives.get() + 1;
            self.receives.set(n);
            if self.answer_on == Some(n) {
                return Ok((b"late".to_vec(), "127.0.0.1:9".parse().unwrap()));
            }
            Err(io::ErrorKind::WouldBlock.into())
        }

        fn pending_error(&self) -> Option<io::Error> {
            None
        }
    }

    /// A socket that reports readiness, has nothing to receive, and holds an error (Wine's
    /// closed UDP port): the error is the answer, at once.
    struct HoldsAnError;

    impl Inbox for HoldsAnError {
        async fn ready(&self) -> io::Result<()> {
            Ok(())
        }

        fn try_receive(&self) -> io::Result<(Vec<u8>, SocketAddr)> {
            Err(io::ErrorKind::WouldBlock.into())
        }

        fn pending_error(&self) -> Option<io::Error> {
            Some(io::ErrorKind::ConnectionRefused.into())
        }
    }

    /// A socket that never reports readiness yet holds an error (Wine 8's closed UDP port,
    /// on most probes): the error is read before the wait is called silent.
    struct QuietButHoldsAnError;

    impl Inbox for QuietButHoldsAnError {
        async fn ready(&self) -> io::Result<()> {
            std::future::pending().await
        }

        fn try_receive(&self) -> io::Result<(Vec<u8>, SocketAddr)> {
            Err(io::ErrorKind::WouldBlock.into())
        }

        fn pending_error(&self) -> Option<io::Error> {
            Some(io::ErrorKind::ConnectionRefused.into())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_held_without_readiness_is_read_by_the_deadline() {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(2);
        let heard = listen_until(&QuietButHoldsAnError, deadline).await;
        assert!(
            matches!(heard, Heard::Error(ref e) if e.kind() == io::ErrorKind::ConnectionRefused),
            "{heard:?}"
        );
        let by = sys::PENDING_ERROR_POLL.unwrap_or(Duration::from_secs(2));
        assert_eq!(start.elapsed(), by);
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_held_by_the_socket_is_read_without_a_receive() {
        let start = Instant::now();
        let heard = listen_until(&HoldsAnError, start + Duration::from_secs(2)).await;
        assert!(
            matches!(heard, Heard::Error(ref e) if e.kind() == io::ErrorKind::ConnectionRefused),
            "{heard:?}"
        );
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    /// The deadline wins over a socket that is always "ready", whether or not its wait
    /// yields, and the wait backs off instead of spinning: about 30 receives in a 2 s wait,
    /// where a plain loop would make millions.
    #[tokio::test(start_paused = true)]
    async fn a_socket_ready_without_data_cannot_spin() {
        for yields in [false, true] {
            let inbox = AlwaysReady {
                receives: std::cell::Cell::new(0),
                yields,
                answer_on: None,
            };
            let start = Instant::now();
            let deadline = start + Duration::from_secs(2);
            let heard = listen_until(&inbox, deadline).await;
            assert!(matches!(heard, Heard::Nothing), "{heard:?}");
            assert_eq!(Instant::now(), deadline, "ends exactly at its deadline");
            let receives = inbox.receives.get();
            assert!(
                (5..=120).contains(&receives),
                "yields {yields}: {receives} receives in 2 s"
            );
        }
    }

    /// Backing off loses nothing: a datagram that arrives after many empty reports is read,
    /// at most one pause late.
    #[tokio::test(start_paused = true)]
    async fn a_datagram_after_empty_reports_is_still_read() {
        let inbox = AlwaysReady {
            receives: std::cell::Cell::new(0),
            yields: false,
            answer_on: Some(12),
        };
        let start = Instant::now();
        let heard = listen_until(&inbox, start + Duration::from_secs(2)).await;
        assert!(
            matches!(heard, Heard::Datagram(ref b, _) if b == b"late"),
            "{heard:?}"
        );
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
    }

    /// On a real socket the one-call receive tells the sender and the bytes; the pending ICMP
    /// error of a closed port comes back as an error, not as readiness without data.
    #[tokio::test]
    async fn a_real_socket_gives_the_sender_with_the_datagram_and_the_error_of_a_closed_port() {
        let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let ours = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        ours.connect(peer.local_addr().unwrap()).await.unwrap();
        peer.send_to(b"hello", ours.local_addr().unwrap())
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        match listen_until(&ours, deadline).await {
            Heard::Datagram(bytes, from) => {
                assert_eq!(bytes, b"hello");
                assert_eq!(from, peer.local_addr().unwrap());
            }
            other => panic!("{other:?}"),
        }
        // A port nobody holds: the ICMP port unreachable comes back as an error without a
        // second datagram: from the receive (Linux: ECONNREFUSED; Windows: WSAECONNRESET) or
        // from SO_ERROR where the receive says "would block" (Wine 8: WSAECONNREFUSED).
        let gone = peer.local_addr().unwrap();
        drop(peer);
        ours.send(b"anyone?").await.unwrap();
        let deadline = Instant::now() + Duration::from_millis(500);
        let err = match listen_until(&ours, deadline).await {
            Heard::Error(err) => err,
            other => panic!("{gone}: {other:?}"),
        };
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
            ),
            "{gone}: {err:?}"
        );
    }

    #[test]
    fn mapped_addresses_compare_equal() {
        let v4: SocketAddr = "127.0.0.1:161".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:161".parse().unwrap();
        let other_port: SocketAddr = "127.0.0.1:162".parse().unwrap();
        assert!(same_endpoint(v4, mapped));
        assert!(!same_endpoint(v4, other_port));
    }
}
