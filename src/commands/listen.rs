//! `mve-audit listen`: what arrives on the ports printers and browsers use toward the MVE
//! server, as a matrix of sources × paths.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Outcome, RunError, inbound_matrix, render, runtime};
use crate::catalog::{CheckId, Role};
use crate::cli::{ConfigError, ListenArgs};
use crate::clock::humanize;
use crate::inbound::listen::{self, Arrival, ListenSettings};
use crate::report::Matrix;
use crate::results::{Done, Evidence, Finding, State};

pub fn listen(args: &ListenArgs) -> Result<Outcome, RunError> {
    let settings = ListenSettings {
        bind: args.bind,
        udp_port: args.udp_port,
        tcp_port: args.tcp_port,
    };
    let started = Instant::now();
    let runtime = runtime()?;
    let arrivals: Vec<Arrival> = runtime.block_on(async {
        let listener = listen::bind(&settings).await.map_err(ConfigError::from)?;
        eprintln!(
            "mve-audit: listening on udp/{} and tcp/{} (https) for {}; Ctrl-C stops",
            listener.udp_addr().map_or(0, |a| a.port()),
            listener.tcp_addr().map_or(0, |a| a.port()),
            humanize(args.duration)
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let serving = tokio::spawn(listener.run(tx));
        let mut seen = Vec::new();
        let stop = tokio::time::sleep(args.duration);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                signal = crate::platform::signals::interrupted() => {
                    eprintln!("mve-audit: {signal}; summary so far:");
                    break;
                }
                Some(arrival) = rx.recv() => {
                    eprintln!(
                        "arrival: {} from {} ({} bytes): {}",
                        arrival.path, arrival.from, arrival.size, arrival.guess
                    );
                    seen.push(arrival);
                }
            }
        }
        serving.abort();
        Ok::<_, RunError>(seen)
    })?;
    let matrix = listen_matrix(&args.expect, &arrivals, &settings, started.elapsed());
    render(&matrix, args.output.format, args.output.color)
}

/// Rows: every expected source, then any other source that arrived. Columns: the two paths.
fn listen_matrix(
    expect: &[IpAddr],
    arrivals: &[Arrival],
    settings: &ListenSettings,
    took: Duration,
) -> Matrix {
    let mut sources: Vec<IpAddr> = expect.to_vec();
    for arrival in arrivals {
        let ip = arrival.from.ip().to_canonical();
        if !sources.contains(&ip) {
            sources.push(ip);
        }
    }
    let mut cells = Vec::new();
    for (row, ip) in sources.iter().enumerate() {
        let expected = expect.contains(ip);
        for (check, port) in [
            (CheckId::NpapAlerts, settings.udp_port),
            (CheckId::Console, settings.tcp_port),
        ] {
            let here: Vec<&Arrival> = arrivals
                .iter()
                .filter(|a| a.path == check && a.from.ip().to_canonical() == *ip)
                .collect();
            let finding = match here.iter().find(|a| a.nonce.is_some()).or(here.first()) {
                Some(arrival) => arrived(arrival, here.len()),
                None if expected => Finding::new(
                    State::OpenFiltered,
                    Evidence::new(format!("nothing arrived from {ip} in {}", humanize(took))),
                ),
                None => continue,
            };
            cells.push(Done {
                row,
                label: ip.to_string().into(),
                role: Role::Server,
                address: Some(*ip),
                check,
                port,
                finding,
            });
        }
    }
    inbound_matrix(cells, took)
}

/// What arrived on one path from one source: verified when it carried a sender's tag.
fn arrived(arrival: &Arrival, count: usize) -> Finding {
    let state = if arrival.nonce.is_some() {
        State::Verified
    } else {
        State::Open
    };
    let mut evidence = Evidence::new(format!(
        "{count} arrival(s); first from {}: {}",
        arrival.from, arrival.guess
    ));
    evidence.fact("arrivals", count);
    evidence.fact("first_from", arrival.from.to_string());
    evidence.fact("first_at_ms", arrival.at_ms as u64);
    Finding::new(state, evidence)
}
