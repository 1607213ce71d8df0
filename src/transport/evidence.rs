//! Evidence every path built on these transports shares: what a UDP exchange that got no
//! reply says, what each exchange adds, and what a TCP port whose TLS went wrong says. Used
//! by the outward probes and by the inbound sender alike.

use std::net::SocketAddr;
use std::time::Duration;

use super::tls::{Handshake, Refusal};
use super::{UdpExchange, UdpOutcome};
use crate::clock::humanize;
use crate::results::{Evidence, Finding, State, Unproven};

/// A finding for an exchange that did not produce a reply: ICMP, silence or a local error.
pub fn no_reply(exchange: &UdpExchange, timeout: Duration) -> Finding {
    let (state, mut evidence) = match &exchange.outcome {
        UdpOutcome::Reply(bytes) => (
            State::Open,
            Evidence::new(format!("UDP reply of {} bytes", bytes.len())),
        ),
        UdpOutcome::Failed(found) => {
            let finding = found.finding();
            (finding.state, finding.evidence)
        }
        UdpOutcome::Silence => (
            State::OpenFiltered,
            Evidence::new(format!(
                "no reply and no ICMP error after {} datagram(s), {} each",
                exchange.attempts,
                humanize(timeout)
            )),
        ),
        UdpOutcome::Local(err) => (
            State::Error,
            Evidence::new(format!("could not open a UDP socket: {err}")),
        ),
    };
    stamp(&mut evidence, exchange);
    Finding::new(state, evidence)
}

/// Adds what every UDP exchange knows to its evidence.
pub fn stamp(evidence: &mut Evidence, exchange: &UdpExchange) {
    if exchange.attempts > 0 {
        evidence.set_rtt(exchange.rtt);
        evidence.attempts = Some(exchange.attempts);
    }
    evidence.source_port = exchange.source_port;
    evidence.notes.extend(exchange.source_note.clone());
}

pub fn reply_evidence(
    summary: String,
    peer: SocketAddr,
    bytes: &[u8],
    exchange: &UdpExchange,
) -> Evidence {
    let mut evidence = Evidence::new(summary).with_reply(peer, bytes);
    stamp(&mut evidence, exchange);
    evidence
}

/// A handshake that did not complete: the port is open, and what went wrong is the evidence.
pub fn tls_failure<S>(outcome: Handshake<S>) -> Finding {
    let no_handshake =
        |summary: String| Finding::unproven(Evidence::new(summary), Unproven::NoHandshake);
    match outcome {
        Handshake::Done(..) => Finding::new(State::Open, Evidence::new("TLS established")),
        // No byte back, only a close: nothing shows TLS is there. Old firmware that cannot
        // speak TLS 1.2 does this, and so does a service that turns this server away.
        Handshake::Incompatible(Refusal::Closed) => no_handshake(
            "TCP open, but the server closed the connection after our TLS ClientHello without \
             a word"
                .to_string(),
        )
        .warn(
            "the server closed the connection after our TLS ClientHello: a device that only \
             speaks TLS 1.0 does this (enable TLS 1.2 on it, or update its firmware), and so \
             does a service that turns this server away (check its access list)",
        ),
        Handshake::Incompatible(why) => {
            no_handshake(format!("TLS present but incompatible: {why}")).warn(format!(
                "TLS present but incompatible ({why}): the device may only offer TLS 1.0 or RSA \
                 key exchange; update its firmware or enable TLS 1.2 on it."
            ))
        }
        Handshake::NotTls(why) => Finding::unproven(
            Evidence::new(format!("TCP open, but the reply is not TLS ({why})")),
            Unproven::WrongProtocol,
        ),
        Handshake::Failed(why) => {
            no_handshake(format!("TCP open, but the TLS handshake failed: {why}"))
        }
    }
}
