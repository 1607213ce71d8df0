//! TCP connect probes: open on a completed handshake, and nothing is ever written.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{Pacer, sys};

/// How a connect attempt ended.
#[derive(Debug)]
pub enum TcpOutcome {
    Connected(TcpStream),
    /// No answer within the probe timeout.
    TimedOut,
    /// The OS reported an error: RST, ICMP, local trouble.
    Failed(io::Error),
    /// The socket could not even be made or bound.
    Local(io::Error),
}

/// The result of one connect, with what the evidence needs.
#[derive(Debug)]
pub struct TcpAttempt {
    pub outcome: TcpOutcome,
    pub rtt: Duration,
    pub source_port: Option<u16>,
}

/// Connects to `peer` within `timeout`, after waiting for a packet slot.
pub async fn connect(peer: SocketAddr, timeout: Duration, pacer: &Pacer) -> TcpAttempt {
    let socket = match super::retry_when_out_of_descriptors(|| new_socket(peer)).await {
        Ok(socket) => socket,
        Err(err) => {
            return TcpAttempt {
                outcome: TcpOutcome::Local(err),
                rtt: Duration::ZERO,
                source_port: None,
            };
        }
    };
    pacer.wait().await;
    let start = Instant::now();
    // A non-blocking connect with no bind first: the kernel picks the source port at connect
    // time, unique per destination (a bind to port 0 must find a port free for every
    // destination, which slows to a crawl once a fleet run has left thousands of TIME_WAIT
    // sockets). The port is known as soon as the SYN is on its way, so the evidence names it
    // even when the connect fails: that is what a firewall log shows.
    if let Err(err) = socket.connect(&peer.into())
        && !sys::connect_in_progress(&err)
    {
        return TcpAttempt {
            outcome: TcpOutcome::Failed(err),
            rtt: start.elapsed(),
            source_port: None,
        };
    }
    let source_port = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port());
    let stream = match TcpStream::from_std(socket.into()) {
        Ok(stream) => stream,
        Err(err) => {
            return TcpAttempt {
                outcome: TcpOutcome::Local(err),
                rtt: start.elapsed(),
                source_port,
            };
        }
    };
    let outcome = match tokio::time::timeout(timeout, stream.writable()).await {
        Err(_) => TcpOutcome::TimedOut,
        Ok(Err(err)) => TcpOutcome::Failed(err),
        Ok(Ok(())) => match stream.take_error() {
            Ok(Some(err)) | Err(err) => TcpOutcome::Failed(err),
            Ok(None) => match stream.peer_addr() {
                Ok(_) => TcpOutcome::Connected(stream),
                // Writable but not connected: the error is the reason.
                Err(err) => TcpOutcome::Failed(err),
            },
        },
    };
    TcpAttempt {
        outcome,
        rtt: start.elapsed(),
        source_port,
    }
}

/// A connect whose SYNs are not all left to the kernel: `attempts` connects to `peer`, each
/// started `timeout / (attempts + 1)` after the one before, all within `timeout`; the first
/// that gets an answer (a handshake, a reset, an ICMP error) decides, and the others are
/// dropped (closed) unanswered or answered. It is for a second look on a path that loses
/// packets: with a 2 s timeout the kernel alone sends two SYNs (at 0 and 1 s); three attempts
/// started at 0, 0.5 and 1 s send five before the deadline (0, 0.5 and 1 s, and the kernel's
/// re-sends at 1 and 1.5 s), so a port that answers is found unless every one of them, or its
/// answer, is lost. Only a silence of all of them is `TimedOut`.
pub async fn connect_staggered(
    peer: SocketAddr,
    timeout: Duration,
    pacer: &Pacer,
    attempts: u32,
) -> TcpAttempt {
    type Attempt<'a> = Pin<Box<dyn Future<Output = TcpAttempt> + Send + 'a>>;
    let start = Instant::now();
    let deadline = start + timeout;
    let gap = timeout / (attempts.max(1) + 1);
    let mut running: Vec<Attempt<'_>> = Vec::new();
    let mut started = 0;
    let mut next = start;
    loop {
        if started < attempts.max(1) && Instant::now() >= next {
            let left = deadline.saturating_duration_since(Instant::now());
            running.push(Box::pin(connect(peer, left, pacer)));
            started += 1;
            next += gap;
        }
        let more = started < attempts.max(1);
        let first_done = std::future::poll_fn(|cx| {
            for (i, attempt) in running.iter_mut().enumerate() {
                if let Poll::Ready(done) = attempt.as_mut().poll(cx) {
                    return Poll::Ready((i, done));
                }
            }
            Poll::Pending
        });
        let finished = tokio::select! {
            done = first_done => Some(done),
            () = tokio::time::sleep_until(next), if more => None,
        };
        let Some((i, done)) = finished else { continue };
        drop(running.swap_remove(i));
        match done.outcome {
            TcpOutcome::TimedOut if !running.is_empty() || more => {}
            TcpOutcome::TimedOut => {
                return TcpAttempt {
                    rtt: start.elapsed(),
                    ..done
                };
            }
            _ => return done,
        }
    }
}

fn new_socket(peer: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(peer), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}
