//! `mve-audit listen`: what arrives on the ports printers and browsers use toward the MVE
//! server, as a matrix of sources × paths.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use std::sync::{Arc, Mutex};

use super::{Outcome, RunError, inbound_matrix, render, runtime};
use crate::catalog::{CheckId, Role};
use crate::cli::{ConfigError, ListenArgs};
use crate::clock::humanize;
use crate::inbound::listen::{self, ListenSettings, MAX_SOURCES, Seen, SharedTally, Tally};
use crate::report::{Format, Matrix};
use crate::results::{Done, Evidence, Finding, State};

/// At most this many arrival lines on stderr a second; the rest are summed in one line.
const LINES_PER_SECOND: usize = 20;

pub fn listen(args: &ListenArgs) -> Result<Outcome, RunError> {
    let settings = ListenSettings {
        bind: args.bind,
        udp_port: args.udp_port,
        tcp_port: args.tcp_port,
    };
    let started = Instant::now();
    let runtime = runtime()?;
    let tally: SharedTally = Arc::new(Mutex::new(Tally::new(&args.expect)));
    runtime.block_on(async {
        let listener = listen::bind(&settings).await.map_err(ConfigError::from)?;
        eprintln!(
            "mve-audit: listening on udp/{} and tcp/{} (https) for {}; Ctrl-C stops",
            listener.udp_addr().map_or(0, |a| a.port()),
            listener.tcp_addr().map_or(0, |a| a.port()),
            humanize(args.duration)
        );
        let serving = tokio::spawn(listener.run(tally.clone()));
        let stop = tokio::time::sleep(args.duration);
        tokio::pin!(stop);
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = &mut stop => break,
                signal = crate::platform::signals::interrupted() => {
                    eprintln!("mve-audit: {signal}; summary so far:");
                    break;
                }
                _ = ticks.tick() => print_arrivals(&tally),
            }
        }
        serving.abort();
        print_arrivals(&tally);
        Ok::<_, RunError>(())
    })?;
    let tally = tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let took = started.elapsed();
    let matrix = listen_matrix(&args.expect, &tally, &settings, took);
    let format = args.output.format_for(None);
    if matrix.cells.is_empty() && format == Format::Table {
        // Not "nothing to check": the listening was the check, and nothing came.
        println!(
            "Nothing arrived on udp/{} or tcp/{} in {}. Name the sources that should reach \
             this server with --expect ADDR,... to make their silence a failure.",
            settings.udp_port,
            settings.tcp_port,
            humanize(took)
        );
        return Ok(Outcome::Passed);
    }
    render(&matrix, format, args.output.color)
}

/// One stderr line per source and path that sent something since the last call, at most
/// `LINES_PER_SECOND` of them: a flood costs a line a second, not a line a datagram.
fn print_arrivals(tally: &SharedTally) {
    let mut tally = tally
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut printed = 0;
    let mut more = (0u64, 0u64);
    for ((ip, path), seen) in &mut tally.seen {
        if seen.unprinted == 0 {
            continue;
        }
        if printed < LINES_PER_SECOND {
            let what = if seen.unprinted == 1 {
                format!("({} bytes)", seen.last.size)
            } else {
                format!("({} arrivals)", seen.unprinted)
            };
            eprintln!("arrival: {path} from {ip} {what}: {}", seen.last.guess);
            printed += 1;
        } else {
            more.0 += 1;
            more.1 += seen.unprinted;
        }
        seen.unprinted = 0;
    }
    if more.0 > 0 {
        eprintln!(
            "arrival: … and {} arrivals from {} more sources",
            more.1, more.0
        );
    }
}

/// The paths `listen` watches, with the port each is bound to: the matrix's columns.
fn paths(settings: &ListenSettings) -> [(CheckId, u16); 2] {
    [
        (CheckId::NpapAlerts, settings.udp_port),
        (CheckId::Console, settings.tcp_port),
    ]
}

/// The label of the row that counts the arrivals of sources past `MAX_SOURCES`.
const MORE_SOURCES: &str = "… and more sources";

/// Rows: every expected source, then any other source that arrived. Columns: the two paths.
fn listen_matrix(
    expect: &[IpAddr],
    tally: &Tally,
    settings: &ListenSettings,
    took: Duration,
) -> Matrix {
    let mut sources: Vec<IpAddr> = expect.iter().map(|ip| ip.to_canonical()).collect();
    for ((ip, _), _) in &tally.seen {
        if !sources.contains(ip) {
            sources.push(*ip);
        }
    }
    let mut cells = Vec::new();
    for (row, ip) in sources.iter().enumerate() {
        let expected = expect.iter().any(|e| e.to_canonical() == *ip);
        for (check, port) in paths(settings) {
            let here = tally
                .seen
                .iter()
                .find(|((from, path), _)| from == ip && *path == check)
                .map(|(_, seen)| seen);
            let finding = match here {
                Some(seen) => arrived(seen),
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
    // Past the first MAX_SOURCES sources, arrivals are counted, not kept: one last row says
    // how many, per path, in every format.
    let row = sources.len();
    for (check, port) in paths(settings) {
        let Some(arrivals) = tally.untracked.get(&check) else {
            continue;
        };
        let mut evidence = Evidence::new(format!(
            "{arrivals} arrival(s) from sources past the first {MAX_SOURCES}: counted, not listed"
        ));
        evidence.fact("arrivals", *arrivals);
        cells.push(Done {
            row,
            label: MORE_SOURCES.into(),
            role: Role::Server,
            address: None,
            check,
            port,
            finding: Finding::new(State::Open, evidence),
        });
    }
    let mut matrix = inbound_matrix(cells, took);
    let untracked: u64 = tally.untracked.values().sum();
    if untracked > 0 {
        eprintln!(
            "mve-audit: … and {untracked} more arrivals from sources past the first \
             {MAX_SOURCES}: counted, not listed (the last row)"
        );
    }
    matrix.duration = took;
    matrix
}

/// What arrived on one path from one source: verified when it carried a sender's tag.
fn arrived(seen: &Seen) -> Finding {
    let shown = seen.tagged.as_ref().unwrap_or(&seen.first);
    let state = if seen.tagged.is_some() {
        State::Verified
    } else {
        State::Open
    };
    let mut evidence = Evidence::new(format!(
        "{} arrival(s); first from {}: {}",
        seen.count, shown.from, shown.guess
    ));
    evidence.fact("arrivals", seen.count);
    evidence.fact("bytes", seen.bytes);
    evidence.fact("first_from", seen.first.from.to_string());
    evidence.fact("first_at_ms", seen.first.at_ms as u64);
    evidence.fact("last_at_ms", seen.last.at_ms as u64);
    Finding::new(state, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::listen::Arrival;

    fn from(ip: std::net::Ipv4Addr, path: CheckId) -> Arrival {
        Arrival {
            path,
            from: std::net::SocketAddr::from((ip, 40000)),
            size: 64,
            guess: "unknown datagram".into(),
            nonce: None,
            at_ms: 0,
        }
    }

    /// A storm from more sources than a tally keeps: a row per kept source, the expected one
    /// still there, and one last row that counts the rest per path, as a fact in the report.
    #[test]
    fn sources_past_the_cap_are_one_counted_row() {
        let expected: IpAddr = "192.0.2.1".parse().unwrap();
        let mut tally = Tally::new(&[expected]);
        for n in 0..(MAX_SOURCES as u32 + 300) {
            let ip = std::net::Ipv4Addr::from(0x0b00_0000 + n);
            tally.add(from(ip, CheckId::NpapAlerts));
            tally.add(from(ip, CheckId::NpapAlerts));
        }
        let settings = ListenSettings {
            bind: "127.0.0.1".parse().unwrap(),
            udp_port: 9187,
            tcp_port: 443,
        };
        let matrix = listen_matrix(&[expected], &tally, &settings, Duration::from_secs(1));
        assert_eq!(matrix.rows.len(), 1 + MAX_SOURCES + 1);
        assert_eq!(matrix.rows[0].address, Some(expected));
        let last = matrix.rows.last().unwrap();
        assert_eq!(&*last.target, MORE_SOURCES);
        let counted: Vec<&crate::report::Cell> = matrix
            .cells
            .iter()
            .filter(|c| c.row == matrix.rows.len() - 1)
            .collect();
        assert_eq!(counted.len(), 1, "only the path that had them");
        assert_eq!(counted[0].check, CheckId::NpapAlerts);
        assert_eq!(counted[0].port, 9187);
        assert_eq!(counted[0].evidence.facts["arrivals"], 600);
        let mut json = Vec::new();
        matrix
            .render(Format::Json, Default::default(), &mut json)
            .unwrap();
        let json = String::from_utf8(json).unwrap();
        assert!(
            json.contains("sources past the first 1024"),
            "in the report"
        );
    }
}
