//! The subcommands: each turns its settings into a report and an outcome for the exit code,
//! over the shared services below (catalog, targets, engine, probes, inbound, report). Only
//! here do flags meet the terminal.

mod catalog;
mod check;
mod demo;
mod diff;
mod listen;
mod local;
mod merge;
mod output;
mod send;

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use crate::catalog::CheckId;
use crate::cli::{self, ColorChoice};
use crate::platform::signals::Interrupt;
use crate::report::{Collector, Format, Keep, Matrix, Sink, Style};
use crate::results::{Done, FailOn};

pub use catalog::catalog;
pub use check::check;
pub use demo::demo;
pub use diff::diff;
pub use listen::listen;
pub use local::local;
pub use merge::{MergeError, merge};
pub use send::send;

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
    /// A request to stop (a signal, a console event) cut the run short; a partial report
    /// was written.
    Interrupted(Interrupt),
    /// Whoever read the report stopped reading (`mve-audit … | head -1`): the run was cut
    /// short, and says so with the shell's code for a closed pipe (128 + SIGPIPE).
    OutputClosed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::Failed => 1,
            Outcome::Usage => 2,
            Outcome::Internal => 3,
            Outcome::Interrupted(interrupt) => interrupt.exit_code(),
            Outcome::OutputClosed => 141,
        }
    }
}

impl Outcome {
    /// `Failed` when any cell fails the run, else `Passed`.
    pub(crate) fn of_run(failed: bool) -> Outcome {
        if failed {
            Outcome::Failed
        } else {
            Outcome::Passed
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] cli::ConfigError),
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Merge(#[from] MergeError),
}

/// `mve-audit completions SHELL`: the completion script, from the clap definitions.
pub fn completions(shell: clap_complete::Shell) -> Result<Outcome, RunError> {
    let mut command = <cli::Cli as clap::CommandFactory>::command();
    // Into memory first: clap_complete panics on a write error, and a closed pipe
    // (`mve-audit completions bash | head`) must end as every other command's does (141).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "mve-audit", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(Outcome::Passed)
}

/// `mve-audit man`: the manual page, from the clap definitions.
/// The tool's manual page, or a subcommand's (`mve-audit-check(1)`), each with the
/// environment and the exit status.
pub fn man(subcommand: Option<&str>) -> Result<Outcome, RunError> {
    let command = <cli::Cli as clap::CommandFactory>::command();
    let page = match subcommand {
        None => command,
        Some(name) => {
            let Some(sub) = command.find_subcommand(name) else {
                let known: Vec<String> = command
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .filter(|n| n != "help")
                    .collect();
                eprintln!(
                    "mve-audit: man: no subcommand '{name}' (known: {})",
                    known.join(", ")
                );
                return Ok(Outcome::Usage);
            };
            sub.clone()
                .display_name(format!("mve-audit-{name}"))
                .bin_name(format!("mve-audit {name}"))
        }
    };
    // The release alone, as `-V` gives it: the commit of `--version` would change the page
    // (and its snapshot) with every commit.
    let page = page.long_version(None::<&'static str>);
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(page).render(&mut out)?;
    out.write_all(cli::man_sections().as_bytes())?;
    out.flush()?;
    Ok(Outcome::Passed)
}

/// The single-threaded runtime every command runs on: probing waits on the network, not the CPU.
pub(crate) fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

pub(crate) fn wants_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => {
            // Asked for all the same; on an old Windows console the escapes show as text.
            let _ = crate::platform::console::ansi_colors_ready();
            true
        }
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                && crate::platform::console::ansi_colors_ready()
        }
    }
}

/// The two paths toward this server, as `listen` and `send` show them: verdicts and hints
/// from the same rules as every other cell, all evidence kept.
fn inbound_matrix(cells: impl IntoIterator<Item = Done>, took: Duration) -> Matrix {
    let columns = [CheckId::NpapAlerts, CheckId::Console];
    let mut collector = Collector::new(&columns, &[], Keep::All);
    for done in cells {
        // A collector never fails to keep a cell.
        let _ = collector.cell(done);
    }
    collector.finish(took, None)
}

/// Prints an inbound matrix (every cell with its evidence); the run fails when a cell does.
fn render(matrix: &Matrix, format: Format, color: ColorChoice) -> Result<Outcome, RunError> {
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let style = Style {
        color: wants_color(color, terminal),
        terminal,
        details: true,
        width: terminal_width(),
        ..Style::default()
    };
    let mut out = stdout.lock();
    matrix.render(format, style, &mut out)?;
    out.flush()?;
    let failed = matrix
        .cells
        .iter()
        .any(|c| c.verdict.fails_run(FailOn::Fail));
    Ok(Outcome::of_run(failed))
}

/// The view for a terminal of `size`: a matrix taller than the screen, or wider than it can
/// be drawn without breaking words, becomes the summary unless `--matrix` or `--summary`
/// chose; a matrix asked for on a narrow terminal is drawn at its natural width (the terminal
/// wraps whole lines) rather than one character per line.
pub(crate) fn terminal_style(
    matrix: &crate::report::Matrix,
    size: Option<(u16, u16)>,
    chosen: Option<bool>,
) -> crate::report::Style {
    let taller = size.is_some_and(|(_, height)| matrix.rows.len() + 8 > usize::from(height));
    let narrow = size.is_some_and(|(width, _)| !matrix.fits_width(width));
    let summary = chosen.unwrap_or(taller || narrow);
    crate::report::Style {
        summary,
        width: size
            .map(|(width, _)| width)
            .filter(|width| summary || matrix.fits_width(*width)),
        ..crate::report::Style::default()
    }
}

/// The width of the terminal stderr writes to, when it reports one.
pub(crate) fn terminal_size_of_stderr() -> Option<u16> {
    terminal_size::terminal_size_of(std::io::stderr()).map(|(width, _)| width.0)
}

/// The terminal's width and height, when stdout is one that reports them.
pub(crate) fn terminal_size() -> Option<(u16, u16)> {
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, h)| (w.0, h.0))
        .filter(|(w, h)| *w > 0 && *h > 0)
}

pub(crate) fn terminal_width() -> Option<u16> {
    terminal_size().map(|(w, _)| w)
}
