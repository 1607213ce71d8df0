//! mve-audit: can this host reach every printer and service Markvision Enterprise needs, on
//! every port and protocol it needs?
//!
//! The data flows one way: catalog → plan → engine → probes → results → report.
//! `run` is the whole program; `main.rs` only maps its outcome to an exit code.
//!
//! `unsafe` is denied everywhere but the Linux socket calls in `transport/sys.rs`.

#![deny(unsafe_code)]

pub mod catalog;
pub mod cli;
pub mod engine;
pub mod inbound;
pub mod probes;
pub mod report;
pub mod results;
pub mod targets;
pub mod transport;
pub mod wire;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::sync::mpsc;

use catalog::CheckId;
use cli::{CatalogArgs, CheckArgs, CheckConfig, Cli, ColorChoice, Command, build_config};
use engine::estimate::{self, Estimate, Timing};
use engine::{Plan, build_plan};
use probes::NetworkProber;
use report::{Collector, ListFormat, Sink, Streamer, Style};
use results::{State, Verdict};
use targets::TargetSet;

/// How a run ended; `main` turns this into the process exit code, and nothing else does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every required check passed.
    Passed,
    /// A required check failed (or, with `--strict`, a check warned).
    Failed,
    /// Bad flags, targets, ports or profile.
    Usage,
    /// The audit could not run.
    Internal,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::Failed => 1,
            Outcome::Usage => 2,
            Outcome::Internal => 3,
        }
    }
}

/// How long one name may take to resolve.
const RESOLVE_LIMIT: Duration = Duration::from_secs(10);
/// Names resolved at once.
const RESOLVE_PARALLEL: usize = 32;

/// Runs the program with these arguments, printing to stdout and stderr.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Outcome {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout and usage errors to stderr.
            let _ = err.print();
            return if err.use_stderr() {
                Outcome::Usage
            } else {
                Outcome::Passed
            };
        }
    };
    let result = match cli.command {
        Command::Catalog(args) => catalog(&args),
        Command::Check(args) => check(&args),
        Command::Local(args) => inbound::commands::local(&args),
        Command::Listen(args) => inbound::commands::listen(&args),
        Command::Send(args) => inbound::commands::send(&args),
    };
    match result {
        Ok(outcome) => outcome,
        Err(RunError::Config(err)) => {
            eprintln!("mve-audit: {err}");
            Outcome::Usage
        }
        Err(RunError::Io(err)) if err.kind() == io::ErrorKind::BrokenPipe => {
            // `mve-audit … | head` closing the pipe early is not an error.
            Outcome::Passed
        }
        Err(RunError::Io(err)) => {
            eprintln!("mve-audit: {err}");
            Outcome::Internal
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    #[error(transparent)]
    Config(#[from] cli::ConfigError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn catalog(args: &CatalogArgs) -> Result<Outcome, RunError> {
    let mut out = io::stdout().lock();
    match args.format {
        ListFormat::Table => report::render_catalog_table(
            Style {
                color: false,
                terminal: io::stdout().is_terminal(),
                details: false,
            },
            &mut out,
        )?,
        ListFormat::Json => report::render_catalog_json(&mut out)?,
    }
    out.flush()?;
    Ok(Outcome::Passed)
}

fn check(args: &CheckArgs) -> Result<Outcome, RunError> {
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
        report::render_dry_run(
            &estimate,
            &probes,
            timing,
            fd_limit,
            config.format,
            &mut out,
        )?;
        out.flush()?;
        return Ok(Outcome::Passed);
    }
    if estimate.probes >= LARGE_RUN {
        eprintln!("mve-audit: {}", report::estimate_line(&estimate, timing));
    }

    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let style = Style {
        color: wants_color(config.color, terminal),
        terminal,
        details: config.details,
    };
    let started = Instant::now();
    let runtime = runtime()?;
    let summary = match Streamer::new(config.format, &config.promoted, stdout.lock())? {
        Some(mut streamer) => {
            runtime.block_on(audit(&config, &plan, slots, estimate.probes, &mut streamer))?;
            let summary = streamer.summary();
            streamer.finish(started.elapsed())?;
            summary
        }
        None => {
            let mut collector = Collector::new(
                &plan.columns,
                &config.promoted,
                config.format,
                config.details,
            );
            runtime.block_on(audit(
                &config,
                &plan,
                slots,
                estimate.probes,
                &mut collector,
            ))?;
            let matrix = collector.finish(started.elapsed());
            let mut out = stdout.lock();
            matrix.render(config.format, style, &mut out)?;
            out.flush()?;
            matrix.summary()
        }
    };
    let failed = [(Verdict::Fail, summary.fail), (Verdict::Warn, summary.warn)]
        .into_iter()
        .any(|(verdict, cells)| cells > 0 && fails_run(verdict, config.strict));
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Passed
    })
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

/// The single-threaded runtime every command runs on: probing waits on the network, not the CPU.
pub(crate) fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
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

pub(crate) fn wants_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Whether a verdict fails the run.
pub fn fails_run(verdict: Verdict, strict: bool) -> bool {
    verdict == Verdict::Fail || (strict && verdict == Verdict::Warn)
}
