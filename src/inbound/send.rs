//! `mve-audit send SERVER`: from a printer's side of the network (or a workstation), sends
//! tagged probes to a listening `mve-audit listen`: a datagram to UDP 9187 from source port
//! 9300 as a printer alert would, and an HTTPS request to the console port. Each path is
//! `verified` when the listener acknowledges its nonce.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::{ACK_TAG, PROBE_PATH, PROBE_TAG, alert_source_port, nonce_text};
use crate::results::{Evidence, Finding, State};
use crate::transport::evidence::{no_reply, stamp, tls_failure};
use crate::transport::stream::{ReadEnd, read_until, write_all};
use crate::transport::tls::{Handshake, handshake};
use crate::transport::{self, Pacer, SourcePort, TcpOutcome, UdpOptions, UdpOutcome};

#[derive(Debug, Clone)]
pub struct SendSettings {
    pub timeout: Duration,
    pub retries: u32,
}

/// The alert path: UDP from 9300 (when this host can bind it) to the server's 9187.
pub async fn alert(peer: SocketAddr, settings: &SendSettings) -> Finding {
    let nonce = nonce_text();
    let payload = format!("{PROBE_TAG} {nonce}");
    let options = UdpOptions {
        timeout: settings.timeout,
        retries: settings.retries,
        spacing: None,
        source: SourcePort::Fixed(alert_source_port()),
    };
    let pacer = Pacer::new(0, 0);
    let exchange = transport::exchange(peer, payload.as_bytes(), options, &pacer).await;
    match &exchange.outcome {
        UdpOutcome::Reply(bytes) => {
            let acked = bytes == format!("{ACK_TAG} {nonce}").as_bytes();
            let summary = if acked {
                format!("the listener acknowledged probe {nonce}")
            } else {
                format!(
                    "a reply of {} bytes, but not the listener's acknowledgement",
                    bytes.len()
                )
            };
            let mut evidence = Evidence::new(summary).with_reply(peer, bytes);
            stamp(&mut evidence, &exchange);
            evidence.fact("nonce", nonce);
            Finding::new(if acked { State::Verified } else { State::Open }, evidence)
        }
        _ => no_reply(&exchange, settings.timeout),
    }
}

/// The console path: HTTPS to the server's port, asking for the probe page.
pub async fn console(peer: SocketAddr, host: &str, settings: &SendSettings) -> Finding {
    let nonce = nonce_text();
    let pacer = Pacer::new(0, 0);
    let attempt = transport::connect(peer, settings.timeout, &pacer).await;
    let stream = match attempt.outcome {
        TcpOutcome::Connected(stream) => stream,
        TcpOutcome::TimedOut => {
            return Finding::new(State::Filtered, Evidence::new("no answer to the TCP SYN"));
        }
        TcpOutcome::Failed(err) => {
            return transport::classify(&err, transport::Context::TcpConnect).finding();
        }
        TcpOutcome::Local(err) => {
            return Finding::new(
                State::Error,
                Evidence::new(format!("could not open a TCP socket: {err}")),
            );
        }
    };
    let deadline = Instant::now() + settings.timeout * 3;
    let mut tls = match handshake(stream, host, settings.timeout * 2).await {
        Handshake::Done(tls, _) => tls,
        other => return tls_failure(other),
    };
    let request = format!(
        "GET {PROBE_PATH}?nonce={nonce} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mve-audit/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if write_all(&mut *tls, request.as_bytes(), deadline)
        .await
        .is_err()
    {
        return Finding::new(
            State::Open,
            Evidence::new("TLS up, but the request could not be sent"),
        );
    }
    let ack = format!("{ACK_TAG} {nonce}");
    let mut buf = Vec::new();
    let end = read_until(&mut *tls, &mut buf, 16 * 1024, deadline, |b| {
        b.windows(ack.len())
            .any(|w| w == ack.as_bytes())
            .then_some(())
    })
    .await;
    let mut evidence = match &end {
        ReadEnd::Done(()) => Evidence::new(format!(
            "the listener acknowledged probe {nonce} over HTTPS"
        )),
        other => Evidence::new(format!(
            "HTTPS answered, but without the acknowledgement: {}",
            other.describe()
        )),
    };
    evidence.fact("nonce", nonce);
    let state = if matches!(end, ReadEnd::Done(())) {
        State::Verified
    } else {
        State::Open
    };
    Finding::new(state, evidence)
}
