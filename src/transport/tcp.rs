//! TCP connect probes: open on a completed handshake, and nothing is ever written.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

use super::Pacer;

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
    let socket = match super::retry_when_out_of_descriptors(|| bound_socket(peer)).await {
        Ok(socket) => socket,
        Err(err) => {
            return TcpAttempt {
                outcome: TcpOutcome::Local(err),
                rtt: Duration::ZERO,
                source_port: None,
            };
        }
    };
    // Bound before connecting so the evidence names the source port even when the connect
    // fails: that is what a firewall log shows.
    let source_port = socket.local_addr().ok().map(|a| a.port());
    pacer.wait().await;
    let start = Instant::now();
    let outcome = match tokio::time::timeout(timeout, socket.connect(peer)).await {
        Ok(Ok(stream)) => TcpOutcome::Connected(stream),
        Ok(Err(err)) => TcpOutcome::Failed(err),
        Err(_) => TcpOutcome::TimedOut,
    };
    TcpAttempt {
        outcome,
        rtt: start.elapsed(),
        source_port,
    }
}

fn bound_socket(peer: SocketAddr) -> io::Result<TcpSocket> {
    let (socket, any) = match peer {
        SocketAddr::V4(_) => (
            TcpSocket::new_v4()?,
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        ),
        SocketAddr::V6(_) => (
            TcpSocket::new_v6()?,
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
        ),
    };
    socket.bind(any)?;
    Ok(socket)
}
