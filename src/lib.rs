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

use cli::{CatalogArgs, CheckArgs, CheckConfig, Cli, ColorChoice, Command, build_config};
use engine::{Event, build_plan};
use probes::NetworkProber;
use report::{ListFormat, Matrix, Style};
use results::{State, Verdict};

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
    let matrix = runtime()?.block_on(audit(&config));

    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let style = Style {
        color: wants_color(config.color, terminal),
        terminal,
        details: config.details,
    };
    let mut out = stdout.lock();
    matrix.render(config.format, style, &mut out)?;
    out.flush()?;

    let failed = matrix
        .cells
        .iter()
        .any(|cell| fails_run(cell.verdict, config.strict));
    Ok(if failed {
        Outcome::Failed
    } else {
        Outcome::Passed
    })
}

/// The single-threaded runtime every command runs on: probing waits on the network, not the CPU.
pub(crate) fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Resolve, plan, probe, collect: everything between the configuration and the report.
async fn audit(config: &CheckConfig) -> Matrix {
    let started = Instant::now();
    let resolved =
        targets::resolve_all(config.targets.clone(), RESOLVE_PARALLEL, RESOLVE_LIMIT).await;
    let plan = build_plan(resolved, &config.selected, &config.ports);
    let mut findings = vec![None; plan.cells.len()];
    for (cell, finding) in plan.unresolved() {
        findings[cell] = Some(finding);
    }
    let jobs: Vec<_> = plan.jobs().collect();
    let total = jobs.len();
    let prober = Arc::new(NetworkProber::new(config.probe.clone()));
    let (events, mut received) = mpsc::channel(256);
    let engine = tokio::spawn(engine::run(jobs, prober, config.concurrency, events));
    let mut progress = Progress::new(total);
    while let Some(event) = received.recv().await {
        if let Event::Finished(job, finding) = event {
            progress.tick(matches!(finding.state, State::Open | State::Verified));
            findings[job.cell] = Some(*finding);
        }
    }
    progress.finish();
    // The engine ends when its last job has reported; a panic inside it leaves cells empty,
    // and the matrix shows those as errors.
    let _ = engine.await;
    Matrix::new(&plan, findings, &config.promoted, started.elapsed())
}

/// A one-line counter on stderr, only when stderr is a terminal.
struct Progress {
    total: usize,
    done: usize,
    answered: usize,
    shown: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            answered: 0,
            shown: io::stderr().is_terminal(),
        }
    }

    fn tick(&mut self, answered: bool) {
        self.done += 1;
        self.answered += usize::from(answered);
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
