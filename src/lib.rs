//! mve-audit: can this host reach every printer and service Markvision Enterprise needs, on
//! every port and protocol it needs?
//!
//! The data flows one way: catalog → plan → engine → probes → results → report.
//! `run` is the whole program; `main.rs` only maps its outcome to an exit code.
//!
//! `unsafe` is denied everywhere but the socket calls in `transport/sys.rs` and the Windows
//! system calls in `platform/windows.rs`.

#![deny(unsafe_code)]

pub mod catalog;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod engine;
pub mod fuzzing;
pub mod inbound;
pub mod platform;
pub mod probes;
pub mod report;
pub mod results;
pub mod targets;
pub mod transport;
pub mod wire;

use std::ffi::OsString;
use std::io;

use cli::{Cli, Command};
pub use commands::{Outcome, RunError};

/// Runs the program with these arguments, printing to stdout and stderr.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Outcome {
    let parsed = <Cli as clap::CommandFactory>::command()
        .try_get_matches_from(args)
        .and_then(|matches| {
            let mut cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches)?;
            if let (Command::Check(args), Some(("check", sub))) =
                (&mut cli.command, matches.subcommand())
            {
                args.from_env = from_env_ids(sub);
            }
            Ok(cli)
        });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout and usage errors to stderr.
            let _ = err.print();
            if let Some(variable) = from_environment(&err) {
                eprintln!("(the value came from the environment variable {variable})");
            }
            return if err.use_stderr() {
                Outcome::Usage
            } else {
                Outcome::Passed
            };
        }
    };
    let result = match cli.command {
        Command::Demo(args) => commands::demo(&args),
        Command::Catalog(args) => commands::catalog(&args),
        Command::Check(args) => commands::check(&args),
        Command::Local(args) => commands::local(&args),
        Command::Listen(args) => commands::listen(&args),
        Command::Send(args) => commands::send(&args),
        Command::Merge(args) => commands::merge(&args),
        Command::Diff(args) => commands::diff(&args),
        Command::Completions(args) => commands::completions(args.shell),
        Command::Man(args) => commands::man(args.subcommand.as_deref()),
    };
    match result {
        Ok(outcome) => outcome,
        Err(RunError::Config(err)) => {
            eprintln!("mve-audit: {err}");
            Outcome::Usage
        }
        Err(RunError::Merge(err)) => {
            eprintln!("mve-audit: {err}");
            Outcome::Usage
        }
        Err(RunError::Io(err)) if err.kind() == io::ErrorKind::BrokenPipe => {
            // `mve-audit … | head` stopped reading: nothing to print (no one reads stderr's
            // complaint either), but the run did not finish, so it never exits 0 or 1.
            Outcome::OutputClosed
        }
        Err(RunError::Io(err)) => {
            eprintln!("mve-audit: {err}");
            Outcome::Internal
        }
    }
}

/// The arguments of `check` whose value came from their environment variable, for `-v`.
fn from_env_ids(matches: &clap::ArgMatches) -> std::collections::BTreeSet<String> {
    matches
        .ids()
        .filter(|id| {
            matches.value_source(id.as_str()) == Some(clap::parser::ValueSource::EnvVariable)
        })
        .map(|id| id.as_str().to_string())
        .collect()
}

/// The environment variable a refused value came from, when it came from one: clap names the
/// flag, but the user may never have typed it.
fn from_environment(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let value = match err.get(ContextKind::InvalidValue)? {
        ContextValue::String(value) => value.clone(),
        _ => return None,
    };
    let arg = match err.get(ContextKind::InvalidArg)? {
        ContextValue::String(arg) => arg.clone(),
        _ => return None,
    };
    let long = arg
        .trim_start_matches('-')
        .split([' ', '='])
        .next()?
        .to_string();
    let command = <Cli as clap::CommandFactory>::command();
    command.get_subcommands().find_map(|sub| {
        let flag = sub
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()))?;
        let variable = flag.get_env()?.to_string_lossy().into_owned();
        (std::env::var_os(&variable)? == value.as_str()).then_some(variable)
    })
}
