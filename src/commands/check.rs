//! `mve-audit check`: configuration → plan → engine → sink → report, streaming.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Outcome, RunError, runtime, wants_color};
use crate::catalog::CheckId;
use crate::cli::{CheckArgs, CheckConfig, build_config};
use crate::engine::estimate::{self, Estimate, Timing};
use crate::engine::{self, Plan, build_plan};
use crate::probes::NetworkProber;
use crate::report::{Collector, Sink, Streamer, Style, Summary};
use crate::results::{State, Verdict};
use crate::targets::{self, TargetSet};
use crate::transport;

/// How long one name may take to resolve.
const RESOLVE_LIMIT: Duration = Duration::from_secs(10);
/// Names resolved at once.
const RESOLVE_PARALLEL: usize = 32;

pub fn check(args: &CheckArgs) -> Result<Outcome, RunError> {
    let config = build_config(args)?;
    for check in &config.inbound_requested {
        eprintln!(
            "mve-audit: '{check}' is an inbound path (toward this server): `check` cannot probe it"
        );
    }
    // Before sizing the slots: the descriptors a fleet run needs, as many as the system allows.
    let fd_limit = transport::sys::raise_fd_limit();
    let plan = build_plan(config.targets.roles(), &config.selected, &config.ports);
    let timing = Timing {
        timeout: config.probe.timeout,
        retries: config.probe.retries,
        rate: config.probe.rate,
    };
    let slots = estimate::slots(&plan.columns, timing, fd_limit, config.concurrency);
    let (targets, probes) = count(&plan, &config.targets);
    let estimate = Estimate::new(targets, &probes, timing, slots);
    if config.dry_run {
        let mut out = io::stdout().lock();
        let format = config.format;
        super::dry_run::render_dry_run(&estimate, &probes, timing, fd_limit, format, &mut out)?;
        out.flush()?;
        return Ok(Outcome::Passed);
    }
    if estimate.probes >= LARGE_RUN {
        let line = super::dry_run::estimate_line(&estimate, timing);
        eprintln!("mve-audit: {line}");
    }
    let summary = probe_and_report(&config, &plan, slots, estimate.probes)?;
    let failed = [(Verdict::Fail, summary.fail), (Verdict::Warn, summary.warn)]
        .into_iter()
        .any(|(verdict, cells)| cells > 0 && verdict.fails_run(config.strict));
    Ok(Outcome::of_run(failed))
}

/// Probes, streaming each cell (jsonl, csv) or collecting them for the matrix (the others).
fn probe_and_report(
    config: &CheckConfig,
    plan: &Plan,
    slots: usize,
    total: u64,
) -> Result<Summary, RunError> {
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let style = Style {
        color: wants_color(config.color, terminal),
        terminal,
        details: config.details,
    };
    let started = Instant::now();
    let runtime = runtime()?;
    if let Some(mut streamer) = Streamer::new(config.format, &config.promoted, stdout.lock())? {
        runtime.block_on(audit(config, plan, slots, total, &mut streamer))?;
        let summary = streamer.summary();
        streamer.finish(started.elapsed())?;
        return Ok(summary);
    }
    let mut collector = Collector::new(
        &plan.columns,
        &config.promoted,
        config.format,
        config.details,
    );
    runtime.block_on(audit(config, plan, slots, total, &mut collector))?;
    let matrix = collector.finish(started.elapsed());
    let mut out = stdout.lock();
    matrix.render(config.format, style, &mut out)?;
    out.flush()?;
    Ok(matrix.summary())
}

/// Runs at or over this many probes print their estimate on stderr before they start.
const LARGE_RUN: u64 = 5_000;

/// Targets, and probes per check, of a run: one walk over the targets, no name resolved.
fn count(plan: &Plan, targets: &TargetSet) -> (u64, Vec<(CheckId, u64)>) {
    let mut per_check: Vec<(CheckId, u64)> = plan.columns.iter().map(|c| (*c, 0)).collect();
    let mut rows = 0;
    for target in targets.iter() {
        let mut any = false;
        for (check, n) in &mut per_check {
            if check.path().role == target.role {
                *n += 1;
                any = true;
            }
        }
        rows += u64::from(any);
    }
    (rows, per_check)
}

/// Resolve, plan, probe: everything between the configuration and the report. Each finished
/// cell goes to `sink` as it arrives; a sink that cannot write (a closed pipe) stops the run.
async fn audit(
    config: &CheckConfig,
    plan: &Plan,
    slots: usize,
    total: u64,
    sink: &mut dyn Sink,
) -> io::Result<()> {
    let addresses =
        targets::resolve_names(config.targets.names(), RESOLVE_PARALLEL, RESOLVE_LIMIT).await;
    let work = plan.work(plan.rows(config.targets.iter(), &addresses));
    let prober = Arc::new(NetworkProber::new(config.probe.clone()));
    let (events, mut received) = mpsc::channel(256);
    let engine = engine::run(work, prober, slots, events);
    let consume = async move {
        let mut progress = Progress::new(total);
        while let Some(done) = received.recv().await {
            progress.tick(matches!(done.finding.state, State::Open | State::Verified));
            if let Err(err) = sink.cell(*done) {
                progress.finish();
                // Dropping the receiver tells the engine to stop.
                return Err(err);
            }
        }
        progress.finish();
        Ok(())
    };
    let ((), consumed) = tokio::join!(engine, consume);
    consumed
}

/// A one-line counter on stderr, only when stderr is a terminal.
struct Progress {
    total: u64,
    done: u64,
    answered: u64,
    shown: bool,
}

impl Progress {
    fn new(total: u64) -> Progress {
        Progress {
            total,
            done: 0,
            answered: 0,
            shown: io::stderr().is_terminal(),
        }
    }

    fn tick(&mut self, answered: bool) {
        self.done += 1;
        self.answered += u64::from(answered);
        if self.shown {
            eprint!(
                "\rprobing: {}/{} done, {} answered ",
                self.done, self.total, self.answered
            );
        }
    }

    fn finish(&self) {
        if self.shown && self.done > 0 {
            eprint!("\r\x1b[K");
        }
    }
}
