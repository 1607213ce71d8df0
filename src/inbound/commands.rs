//! The `local`, `listen` and `send` commands: settings in, a report out, an outcome for the
//! exit code. Reports reuse the matrix renderers.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::listen::{Arrival, ListenSettings};
use super::local;
use super::send::{self, SendSettings};
use crate::catalog::{CheckId, Role};
use crate::cli::{ConfigError, ListenArgs, LocalArgs, SendArgs};
use crate::report::{self, Cell, Format, ListFormat, Matrix, Style, TargetRow};
use crate::results::{Evidence, Finding, State, Verdict};
use crate::{Outcome, RunError, runtime, wants_color};

fn outcome(failed: bool) -> Outcome {
    if failed {
        Outcome::Failed
    } else {
        Outcome::Passed
    }
}

pub fn local(args: &LocalArgs) -> Result<Outcome, RunError> {
    let mut extra = args.ports.clone();
    if let Some(path) = &args.profile {
        let profile = crate::cli::load_profile(path).map_err(ConfigError::from)?;
        extra.extend(profile.local.ports.iter().map(|p| p.0));
    }
    let report = local::check(&local::mve_needs(&extra));
    let mut out = io::stdout().lock();
    match args.format {
        ListFormat::Table => {
            let style = Style {
                color: false,
                terminal: io::stdout().is_terminal(),
                details: false,
            };
            report::render_local_table(&report, style, &mut out)?;
        }
        ListFormat::Json => report::render_local_json(&report, &mut out)?,
    }
    out.flush()?;
    Ok(outcome(report.worst() == Verdict::Fail))
}

/// One cell of an inbound matrix: a pass when something arrived (verified for a tagged probe),
/// a failure when a path that should work did not.
fn inbound_cell(
    row: usize,
    target: &TargetRow,
    check: CheckId,
    port: u16,
    finding: Finding,
) -> Cell {
    let verdict = match finding.state {
        State::Verified | State::Open => Verdict::Pass,
        _ => Verdict::Fail,
    };
    let hint = (verdict == Verdict::Fail).then(|| match check {
        CheckId::NpapAlerts => format!(
            "Allow UDP {port} inbound to the MVE server from the printers (source port 9300); a \
             stateful firewall passes replies to MVE's requests but not unsolicited alerts."
        ),
        _ => format!("Allow TCP {port} inbound to the MVE server from the browsers' networks."),
    });
    Cell {
        row,
        target: target.target.clone(),
        address: target.address,
        check,
        transport: check.path().transport,
        port,
        required: true,
        state: finding.state,
        verdict,
        evidence: std::sync::Arc::new(finding.evidence),
        hint: hint.map(std::sync::Arc::from),
    }
}

fn render(matrix: &Matrix, format: Format, color: crate::cli::ColorChoice) -> io::Result<()> {
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let style = Style {
        color: wants_color(color, terminal),
        terminal,
        details: true,
    };
    let mut out = stdout.lock();
    matrix.render(format, style, &mut out)?;
    out.flush()
}

pub fn listen(args: &ListenArgs) -> Result<Outcome, RunError> {
    let settings = ListenSettings {
        bind: args.bind,
        udp_port: args.udp_port,
        tcp_port: args.tcp_port,
    };
    let started = Instant::now();
    let runtime = runtime()?;
    let arrivals: Vec<Arrival> = runtime.block_on(async {
        let listener = super::listen::bind(&settings)
            .await
            .map_err(ConfigError::from)?;
        eprintln!(
            "mve-audit: listening on udp/{} and tcp/{} (https) for {}; Ctrl-C stops",
            listener.udp_addr().map_or(0, |a| a.port()),
            listener.tcp_addr().map_or(0, |a| a.port()),
            crate::probes::humanize(args.duration)
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let serving = tokio::spawn(listener.run(tx));
        let mut seen = Vec::new();
        let stop = tokio::time::sleep(args.duration);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("mve-audit: interrupted; summary so far:");
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
    render(&matrix, args.format, args.color)?;
    let failed = matrix.cells.iter().any(|c| c.verdict == Verdict::Fail);
    Ok(outcome(failed))
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
    let columns = vec![CheckId::NpapAlerts, CheckId::Console];
    let rows: Vec<TargetRow> = sources
        .iter()
        .map(|ip| TargetRow {
            target: ip.to_string().into(),
            role: Role::Server,
            address: Some(*ip),
        })
        .collect();
    let mut cells = Vec::new();
    for (index, (ip, row)) in sources.iter().zip(&rows).enumerate() {
        let expected = expect.contains(ip);
        for check in &columns {
            let port = if *check == CheckId::NpapAlerts {
                settings.udp_port
            } else {
                settings.tcp_port
            };
            let here: Vec<&Arrival> = arrivals
                .iter()
                .filter(|a| a.path == *check && a.from.ip().to_canonical() == *ip)
                .collect();
            let finding = match here.iter().find(|a| a.nonce.is_some()).or(here.first()) {
                Some(arrival) => {
                    let state = if arrival.nonce.is_some() {
                        State::Verified
                    } else {
                        State::Open
                    };
                    let mut evidence = Evidence::new(format!(
                        "{} arrival(s); first from {}: {}",
                        here.len(),
                        arrival.from,
                        arrival.guess
                    ));
                    evidence.fact("arrivals", here.len());
                    evidence.fact("first_from", arrival.from.to_string());
                    evidence.fact("first_at_ms", arrival.at_ms as u64);
                    Finding::new(state, evidence)
                }
                None if expected => Finding::new(
                    State::OpenFiltered,
                    Evidence::new(format!(
                        "nothing arrived from {ip} in {}",
                        crate::probes::humanize(took)
                    )),
                ),
                None => continue,
            };
            cells.push(inbound_cell(index, row, *check, port, finding));
        }
    }
    Matrix {
        rows,
        columns,
        cells,
        duration: took,
    }
}

pub fn send(args: &SendArgs) -> Result<Outcome, RunError> {
    let started = Instant::now();
    let settings = SendSettings {
        timeout: args.timeout,
        retries: args.retries,
    };
    let runtime = runtime()?;
    let (address, alert, console) = runtime.block_on(async {
        let address = resolve(&args.server).await?;
        let alert = send::alert(SocketAddr::new(address, args.udp_port), &settings).await;
        let console = send::console(
            SocketAddr::new(address, args.tcp_port),
            &args.server,
            &settings,
        )
        .await;
        Ok::<_, RunError>((address, alert, console))
    })?;
    let row = TargetRow {
        target: args.server.as_str().into(),
        role: Role::Server,
        address: Some(address),
    };
    let cells = vec![
        inbound_cell(0, &row, CheckId::NpapAlerts, args.udp_port, alert),
        inbound_cell(0, &row, CheckId::Console, args.tcp_port, console),
    ];
    let matrix = Matrix {
        rows: vec![row],
        columns: vec![CheckId::NpapAlerts, CheckId::Console],
        cells,
        duration: started.elapsed(),
    };
    render(&matrix, args.format, args.color)?;
    Ok(outcome(
        matrix.cells.iter().any(|c| c.verdict == Verdict::Fail),
    ))
}

async fn resolve(server: &str) -> Result<IpAddr, RunError> {
    if let Ok(ip) = server.parse::<IpAddr>() {
        return Ok(ip);
    }
    let bad = |reason: String| {
        RunError::Config(ConfigError::Server {
            server: server.to_string(),
            reason,
        })
    };
    let found = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::lookup_host((server, 0)),
    )
    .await
    .map_err(|_| bad("the name did not resolve in time".into()))?
    .map_err(|e| bad(format!("the name did not resolve: {e}")))?;
    let addrs: BTreeMap<u8, IpAddr> = found.map(|a| (u8::from(a.is_ipv6()), a.ip())).collect();
    addrs
        .values()
        .next()
        .copied()
        .ok_or_else(|| bad("the name has no address".into()))
}
