//! `mve-audit demo`: what the tool is for, on any machine, without root and without a packet
//! leaving it. Stand-ins start in this process on 127.0.0.1 (ephemeral ports), one per state
//! a cell can show, and `check` audits them exactly as it audits a printer:
//!
//! | check | stand-in                                                        | state        |
//! |-------|-----------------------------------------------------------------|--------------|
//! | snmp  | an SNMP agent (async-snmp's own agent) answering v2c "public"   | verified     |
//! | https | the TLS console of `listen`, a real certificate made now        | verified     |
//! | http  | a plain HTTP responder                                          | verified     |
//! | npap  | a UDP socket that never answers                                 | open|filtered|
//! | ftp   | a TCP port that speaks SSH instead of FTP                       | open (wrong protocol) |
//! | raw   | a TCP port held but never listened on (a SYN is reset)          | closed       |
//!
//! A filtered cell needs a firewall that drops packets, which a demo without root cannot set
//! up; the README shows one. The demo exits 0 when every stand-in showed its state.

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_snmp::agent::Agent;
use async_snmp::handler::{
    BoxFuture, GetNextResult, GetResult, HandlerResult, MibHandler, RequestContext,
};
use async_snmp::{Oid, Value, VarBind, oid};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

use super::{Outcome, RunError};
use crate::catalog::CheckId;
use crate::cli::{Cli, Command, DemoArgs};
use crate::inbound::listen::{self, ListenSettings, Tally};
use crate::results::State;

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// The stand-ins' ports, once bound.
struct Ports {
    snmp: u16,
    https: u16,
    http: u16,
    npap: u16,
    ftp: u16,
    raw: u16,
}

impl Ports {
    /// What each check should show, and what stood in for the service.
    fn expected(&self) -> [(CheckId, u16, &'static [State], &'static str); 6] {
        [
            (
                CheckId::Snmp,
                self.snmp,
                &[State::Verified],
                "an SNMP agent answering v2c community \"public\"",
            ),
            (
                CheckId::Https,
                self.https,
                &[State::Verified],
                "a TLS server with a certificate made for this run",
            ),
            (
                CheckId::Http,
                self.http,
                &[State::Verified],
                "a plain HTTP responder",
            ),
            (
                CheckId::Npap,
                self.npap,
                &[State::OpenFiltered],
                "a UDP socket that never answers",
            ),
            (
                CheckId::Ftp,
                self.ftp,
                &[State::Open],
                "a TCP port that speaks SSH, not FTP",
            ),
            (
                CheckId::Raw,
                self.raw,
                &[State::Closed],
                "a TCP port nobody listens on",
            ),
        ]
    }
}

/// sysDescr, sysObjectID and sysName of the demo agent.
struct DemoMib;

const SYSTEM: [(&[u32], &str); 3] = [
    (
        &[1, 3, 6, 1, 2, 1, 1, 1, 0],
        "mve-audit demo agent (not a printer)",
    ),
    (&[1, 3, 6, 1, 2, 1, 1, 2, 0], ""),
    (&[1, 3, 6, 1, 2, 1, 1, 5, 0], "mve-audit-demo"),
];

fn system_value(index: usize) -> Value {
    match index {
        1 => Value::ObjectIdentifier(oid!(1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
        _ => Value::OctetString(SYSTEM[index].1.as_bytes().to_vec().into()),
    }
}

impl MibHandler for DemoMib {
    fn get<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        oid: &'a Oid,
    ) -> BoxFuture<'a, HandlerResult<GetResult>> {
        Box::pin(async move {
            let found = SYSTEM
                .iter()
                .position(|(arcs, _)| oid.arcs() == *arcs)
                .map(system_value);
            Ok(found.map_or(GetResult::NoSuchObject, GetResult::Value))
        })
    }

    fn get_next<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        oid: &'a Oid,
    ) -> BoxFuture<'a, HandlerResult<GetNextResult>> {
        Box::pin(async move {
            let next = SYSTEM
                .iter()
                .enumerate()
                .find(|(_, (arcs, _))| Oid::from_slice(arcs) > *oid)
                .map(|(index, (arcs, _))| VarBind::new(Oid::from_slice(arcs), system_value(index)));
            Ok(next.map_or(GetNextResult::EndOfMibView, GetNextResult::Value))
        })
    }
}

/// Answers every connection with `reply` once the client has spoken (or at once when `first`),
/// then closes it.
async fn responder(listener: TcpListener, reply: &'static [u8], first: bool) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        tokio::spawn(async move {
            if !first {
                let mut buf = [0u8; 2048];
                let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
            }
            let _ = stream.write_all(reply).await;
            let _ = stream.shutdown().await;
        });
    }
}

const HTTP_REPLY: &[u8] =
    b"HTTP/1.1 200 OK\r\nServer: mve-audit-demo\r\nContent-Type: text/plain\r\n\
Content-Length: 33\r\nConnection: close\r\n\r\nmve-audit demo: not a printer.\r\n\r\n";
const SSH_BANNER: &[u8] = b"SSH-2.0-mve-audit-demo\r\n";

/// Binds every stand-in and serves them until `stop` fires; sends the ports once bound.
async fn stand_ins(
    bound: std::sync::mpsc::Sender<Result<Ports, String>>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let setup = async {
        let any = SocketAddr::from((LOOPBACK, 0));
        let agent = Agent::builder()
            .bind(any.to_string())
            .community(b"public")
            .handler(oid!(1, 3, 6, 1, 2, 1, 1), Arc::new(DemoMib))
            .allow_all_access()
            .build()
            .await
            .map_err(|e| format!("SNMP agent: {e}"))?;
        let console = listen::bind(&ListenSettings {
            bind: LOOPBACK.into(),
            udp_port: 0,
            tcp_port: 0,
        })
        .await
        .map_err(|e| format!("TLS console: {e}"))?;
        let http = TcpListener::bind(any)
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        let ftp = TcpListener::bind(any)
            .await
            .map_err(|e| format!("SSH: {e}"))?;
        let silent = UdpSocket::bind(any)
            .await
            .map_err(|e| format!("UDP: {e}"))?;
        // A TCP port bound and never listened on: a SYN to it is reset, and no other process
        // can take the port while the demo holds it.
        let closed = socket2::Socket::new(
            socket2::Domain::for_address(any),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .and_then(|socket| socket.bind(&any.into()).map(|()| socket))
        .map_err(|e| format!("closed port: {e}"))?;
        let raw = closed
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port());
        let port = |addr: std::io::Result<SocketAddr>| addr.map(|a| a.port()).unwrap_or(0);
        let ports = Ports {
            snmp: agent.local_addr().port(),
            https: console.tcp_addr().map_or(0, |a| a.port()),
            http: port(http.local_addr()),
            npap: port(silent.local_addr()),
            ftp: port(ftp.local_addr()),
            raw,
        };
        Ok::<_, String>((ports, agent, console, http, ftp, (silent, closed)))
    };
    match setup.await {
        Err(err) => {
            let _ = bound.send(Err(err));
        }
        Ok((ports, agent, console, http, ftp, held)) => {
            let _ = bound.send(Ok(ports));
            let tally = Arc::new(std::sync::Mutex::new(Tally::new(&[])));
            tokio::select! {
                _ = agent.run() => {}
                () = console.run(tally) => {}
                () = responder(http, HTTP_REPLY, false) => {}
                () = responder(ftp, SSH_BANNER, true) => {}
                _ = stop => {}
            }
            drop(held);
        }
    }
}

pub fn demo(args: &DemoArgs) -> Result<Outcome, RunError> {
    let (bound_tx, bound_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => runtime.block_on(stand_ins(bound_tx, stop_rx)),
            Err(err) => {
                let _ = bound_tx.send(Err(format!("runtime: {err}")));
            }
        }
    });
    let ports = match bound_rx.recv() {
        Ok(Ok(ports)) => ports,
        Ok(Err(err)) => {
            return Err(RunError::Io(std::io::Error::other(format!(
                "the demo's stand-ins could not start: {err}"
            ))));
        }
        Err(_) => {
            return Err(RunError::Io(std::io::Error::other(
                "the demo's stand-ins stopped before they started",
            )));
        }
    };
    let expected = ports.expected();
    let mut argv: Vec<String> = ["mve-audit", "check", "--printers", "127.0.0.1", "--checks"]
        .map(String::from)
        .into();
    argv.push(
        expected
            .iter()
            .map(|(check, ..)| check.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    for (check, port, ..) in &expected {
        argv.push("--port".into());
        argv.push(format!("{check}={port}"));
    }
    argv.extend(["--timeout", "1s", "--retries", "1"].map(String::from));
    let mut check_args = match <Cli as clap::Parser>::try_parse_from(&argv).map(|cli| cli.command) {
        Ok(Command::Check(check_args)) => check_args,
        _ => {
            return Err(RunError::Io(std::io::Error::other(
                "the demo's own check arguments did not parse",
            )));
        }
    };
    check_args.report = args.report;
    check_args.output = args.output.clone();
    check_args.matrix = !args.summary;
    check_args.summary = args.summary;
    check_args.quiet = args.quiet;
    if !args.quiet {
        eprintln!(
            "mve-audit demo: auditing stand-ins on 127.0.0.1 (this process, ephemeral ports); \
             nothing leaves this machine"
        );
    }
    let record = RefCell::new(Vec::new());
    let outcome = super::check::check_recorded(&check_args, Some(&record));
    let _ = stop_tx.send(());
    let _ = server.join();
    let outcome = outcome?;
    if matches!(outcome, Outcome::Interrupted(_) | Outcome::OutputClosed) {
        return Ok(outcome);
    }
    let seen = record.into_inner();
    let mut wrong = Vec::new();
    if !args.quiet {
        eprintln!("\nWhat stood in for each service:");
    }
    for (check, port, states, what) in &expected {
        let state = seen.iter().find(|(c, _)| c == check).map(|(_, s)| *s);
        let shown = state.map_or("not run".to_string(), |s| s.to_string());
        if !args.quiet {
            eprintln!("  {:<6} port {port:<5} {what}: {shown}", check.as_str());
        }
        if !state.is_some_and(|s| states.contains(&s)) {
            wrong.push(format!("{check} was {shown}"));
        }
    }
    if !wrong.is_empty() {
        eprintln!(
            "mve-audit demo: a stand-in did not show its state ({}): something on this machine \
             interferes with loopback (a firewall on lo?)",
            wrong.join(", ")
        );
        return Ok(Outcome::Internal);
    }
    if !args.quiet {
        eprintln!(
            "\nEvery state above is what a printer or service would show. Next, audit yours:\n  \
             mve-audit check --printers ADDRESS[,ADDRESS…] --dry-run   (the plan)\n  \
             mve-audit check --printers ADDRESS[,ADDRESS…]             (the audit)"
        );
    }
    Ok(Outcome::Passed)
}
