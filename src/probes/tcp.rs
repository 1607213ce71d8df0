//! What every TCP driver shares. After a completed handshake, each driver speaks just enough
//! of its protocol to prove a real service answers; nothing logs in, nothing is written to RAW
//! 9100. Every driver takes any byte stream (a socket, a TLS session, an in-memory pipe in the
//! tests), so each of its outcomes is tested without a network. This file holds the steps
//! they share: asking, reading a reply, the TLS handshake, and what an unconfirmed or foreign
//! answer says.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use crate::clock::date_text;
use crate::results::{Evidence, Finding, State, Unproven, hex_head};
use crate::transport::stream::{ReadEnd, read_until, write_all};
use crate::transport::tls::{Handshake, TlsFacts, handshake};
use crate::wire::text;

/// A byte stream a driver can talk over.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Stream for S {}

/// Replies larger than this are not needed to classify anything.
pub(super) const MAX_REPLY: usize = 64 * 1024;
/// The most read of a text reply (HTTP head, FTP or SMTP reply).
pub(super) const MAX_TEXT: usize = 16 * 1024;

/// A connection that answered, but not with the protocol expected (or not in time).
pub(super) fn unconfirmed<T>(expected: &str, end: &ReadEnd<T>, reply: &[u8]) -> Finding {
    let mut evidence = Evidence::new(format!(
        "TCP open, but no {expected} answer: {}",
        end.describe()
    ));
    let why = if reply.is_empty() {
        Unproven::NoAnswer
    } else {
        evidence.reply_len = Some(reply.len());
        evidence.reply_head = Some(hex_head(reply, 16));
        Unproven::CutShort
    };
    Finding::unproven(evidence, why)
}

pub(super) fn not_protocol(expected: &str, reply: &[u8]) -> Finding {
    let shown = reply.get(..reply.len().min(40)).unwrap_or_default();
    let mut evidence = Evidence::new(format!(
        "TCP open, but the answer is not {expected}: {:?}",
        String::from_utf8_lossy(shown)
    ));
    evidence.reply_len = Some(reply.len());
    evidence.reply_head = Some(hex_head(reply, 16));
    Finding::unproven(evidence, Unproven::WrongProtocol)
}

/// Sends `request`, then reads until `done` accepts the reply; `Err` is the finding of a
/// request that could not be sent.
pub(super) async fn ask<S: Stream, T>(
    stream: &mut S,
    request: &[u8],
    max: usize,
    deadline: Instant,
    done: impl FnMut(&[u8]) -> Option<T>,
) -> Result<(ReadEnd<T>, Vec<u8>), Finding> {
    if let Err(err) = write_all(stream, request, deadline).await {
        return Err(Finding::new(
            State::Open,
            Evidence::new(format!(
                "TCP open, but the request could not be sent: {err}"
            )),
        ));
    }
    let mut buf = Vec::new();
    let end = read_until(stream, &mut buf, max, deadline, done).await;
    Ok((end, buf))
}

/// Reads one FTP/SMTP reply, leaving in `buf` what follows it.
pub(super) async fn reply<S: Stream>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> ReadEnd<Result<text::Reply, text::TextError>> {
    let end = read_until(
        stream,
        buf,
        MAX_TEXT,
        deadline,
        |b| match text::parse_reply(b) {
            Err(text::TextError::Incomplete) => None,
            Ok((reply, _)) => Some(Ok(reply)),
            Err(err) => Some(Err(err)),
        },
    )
    .await;
    if let ReadEnd::Done(Ok(_)) = &end
        && let Ok((_, used)) = text::parse_reply(buf)
    {
        buf.drain(..used);
    }
    end
}

/// A TLS handshake within what is left of `deadline`.
pub(super) async fn tls<S: Stream>(stream: S, name: &str, deadline: Instant) -> Handshake<S> {
    handshake(
        stream,
        name,
        deadline.saturating_duration_since(Instant::now()),
    )
    .await
}

/// A short TLS line for a summary.
pub fn tls_summary(facts: &TlsFacts) -> String {
    match &facts.cert {
        Some(cert) => format!(
            "{} {}, certificate {} until {}",
            facts.version,
            facts.cipher,
            if cert.self_issued {
                "self-signed"
            } else {
                "issued"
            },
            date_text(cert.not_after)
        ),
        None => format!("{} {}", facts.version, facts.cipher),
    }
}
