//! Scripted peers for the drivers' unit tests: the far end of an in-memory stream runs a
//! script (plain or inside TLS), and a UDP peer answers each datagram by a rule, so every
//! outcome of a driver is tested without a network or root.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::{AsyncSnmp, Datagrams, NetworkProber, ProbeSettings, SnmpCredentials};
use crate::catalog::CheckId;
use crate::engine::{Job, Row, Timing};
use crate::targets::{Host, Target};
use crate::transport::{Context, Pacer, UdpExchange, UdpOptions, UdpOutcome, classify};

/// The deadline every driver test gives: with the clock paused, silence reaches it at once.
pub fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(4)
}

/// The client end of a stream whose server end runs `serve`.
pub fn pipe<F, Fut>(serve: F) -> DuplexStream
where
    F: FnOnce(DuplexStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(serve(server));
    client
}

/// One step of a script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send these bytes.
    Say(Vec<u8>),
    /// Read one request (whatever one read returns).
    HearOne,
    /// Keep the connection open and say nothing more.
    Stall,
    /// Send these bytes one at a time, this long apart.
    Drip(Vec<u8>, Duration),
    /// Send this many bytes of `x` with no line end (an endless banner).
    Endless(usize),
}

/// Runs `script` on `stream`, then closes it.
pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, script: Vec<Step>) {
    if play(&mut stream, script).await {
        let _ = stream.shutdown().await;
    }
}

/// Runs `script`; false when the client went away first.
async fn play<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, script: Vec<Step>) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    for step in script {
        match step {
            Step::Say(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return false;
                }
            }
            Step::HearOne => {
                if matches!(stream.read(&mut buf).await, Ok(0) | Err(_)) {
                    return false;
                }
            }
            Step::Stall => std::future::pending::<()>().await,
            Step::Drip(bytes, every) => {
                for byte in bytes {
                    tokio::time::sleep(every).await;
                    if stream.write_all(&[byte]).await.is_err() {
                        return false;
                    }
                }
            }
            Step::Endless(count) => {
                let chunk = vec![b'x'; 4096];
                for _ in 0..count.div_ceil(chunk.len()) {
                    if stream.write_all(&chunk).await.is_err() {
                        return false;
                    }
                }
            }
        }
    }
    true
}

/// A plain peer running `script`.
pub fn scripted(script: Vec<Step>) -> DuplexStream {
    pipe(|server| run(server, script))
}

/// A peer that answers a TLS handshake with a self-signed certificate for `name`, valid for
/// `days` more days (negative: expired that long ago), then runs `script` inside TLS.
pub fn tls_scripted(name: &str, days: i64, script: Vec<Step>) -> DuplexStream {
    let acceptor = acceptor(name, days);
    pipe(|server| async move {
        if let Ok(session) = acceptor.accept(server).await {
            run(session, script).await;
        }
    })
}

/// A peer that runs `plain` in the clear, then a TLS handshake on the same connection (as
/// after STARTTLS), then `inside` within TLS.
pub fn starttls_scripted(plain: Vec<Step>, name: &str, inside: Vec<Step>) -> DuplexStream {
    let acceptor = acceptor(name, 365);
    pipe(|mut server| async move {
        if play(&mut server, plain).await
            && let Ok(session) = acceptor.accept(server).await
        {
            run(session, inside).await;
        }
    })
}

fn acceptor(name: &str, days: i64) -> TlsAcceptor {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let now = std::time::SystemTime::now();
    let shift = Duration::from_secs(days.unsigned_abs() * 86_400);
    let not_after = if days >= 0 { now + shift } else { now - shift };
    params.not_before = (now - Duration::from_secs(400 * 86_400)).into();
    params.not_after = not_after.into();
    let cert = params.self_signed(&key).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// What a scripted UDP peer does with one datagram.
#[derive(Debug, Clone)]
pub enum Datagram {
    Reply(Vec<u8>),
    /// Nothing comes back, after every retry.
    Silence,
    /// ICMP port unreachable.
    Closed,
    /// This host could not make the socket.
    Local,
}

/// A UDP peer that answers each datagram by what `answer` makes of its port and payload.
pub struct ScriptedUdp<F>(pub F);

impl<F> Datagrams for ScriptedUdp<F>
where
    F: Fn(u16, &[u8]) -> Datagram + Send + Sync + 'static,
{
    fn exchange(
        &self,
        peer: SocketAddr,
        payload: &[u8],
        options: UdpOptions,
        _pacer: &Pacer,
    ) -> impl Future<Output = UdpExchange> + Send {
        let answer = (self.0)(peer.port(), payload);
        let (outcome, attempts) = match answer {
            Datagram::Reply(bytes) => (UdpOutcome::Reply(bytes), 1),
            Datagram::Silence => (UdpOutcome::Silence, 1 + options.retries),
            Datagram::Closed => {
                let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
                (
                    UdpOutcome::Failed(classify(&refused, Context::UdpAfterSend)),
                    1,
                )
            }
            Datagram::Local => (
                UdpOutcome::Local(io::Error::from(io::ErrorKind::AddrNotAvailable)),
                0,
            ),
        };
        std::future::ready(UdpExchange {
            outcome,
            rtt: Duration::from_millis(3),
            source_port: Some(40_000),
            attempts,
            source_note: None,
        })
    }
}

/// Probe settings for the drivers' tests: v2c "public", no pacing.
pub fn settings() -> ProbeSettings {
    ProbeSettings {
        timing: Timing {
            timeout: Duration::from_secs(2),
            retries: 1,
            rate: 0,
            host_rate: 0,
        },
        kerberos_realm: "LAB.TEST".into(),
        snmp: SnmpCredentials::V2c {
            community: "public".into(),
        },
        payloads: BTreeMap::new(),
    }
}

/// A prober whose datagrams go to `answer`.
pub fn udp_prober<F>(answer: F) -> NetworkProber<AsyncSnmp, ScriptedUdp<F>>
where
    F: Fn(u16, &[u8]) -> Datagram + Send + Sync + 'static,
{
    NetworkProber::with_parts(settings(), AsyncSnmp::default(), ScriptedUdp(answer))
}

/// A job for `check` toward a documentation address on `port`, for scripted peers only: no
/// packet is sent to it.
pub fn job(check: CheckId, port: u16) -> Job {
    job_to(check, SocketAddr::new(IpAddr::from([192, 0, 2, 9]), port))
}

/// A job for `check` toward `peer`.
pub fn job_to(check: CheckId, peer: SocketAddr) -> Job {
    let addr = peer.ip();
    let row = Arc::new(Row {
        resolved_note: None,
        index: 0,
        target: Target::new(check.path().role, Host::Addr(addr), None),
        addr: Ok(addr),
        label: Arc::from(addr.to_string()),
        host: Arc::from(addr.to_string()),
    });
    Job {
        row,
        check,
        peer,
        again: false,
    }
}
