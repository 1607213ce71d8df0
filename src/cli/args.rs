//! clap definitions: the single source of `--help`, and later of the man page and completions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::help::{
    CHECK_HELP, DEMO_HELP, DIFF_HELP, EXIT_CODES, LISTEN_HELP, LOCAL_HELP, MERGE_HELP, SEND_HELP,
};
use super::output::{ColorChoice, ListOutput, MatrixOutput};
use super::parse_duration;
use super::profile::SnmpVersion;
use super::sources::Defaults;
use super::targets::TargetArgs;
use super::timing::{TimingArgs, parse_retries};
use super::values::{parse_check, parse_port_override, port_flag, with_default};
use crate::catalog::CheckId;
use crate::clock::humanize;
use crate::probes::{SnmpAuth, SnmpPriv};
use crate::results::FailOn;

/// `--version`: the release and the commit it was built from (`build.rs`); `-V` and the man
/// page give the release alone.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("MVE_AUDIT_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "mve-audit",
    version,
    long_version = LONG_VERSION,
    about = "Audit network reachability of every port and protocol Lexmark Markvision Enterprise needs",
    long_about = None,
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit stand-ins started on 127.0.0.1 by this process: every state a cell can show, no
    /// root, nothing sent off this machine
    #[command(after_help = DEMO_HELP)]
    Demo(DemoArgs),
    /// Print every path MVE needs (the vendor's port table), with its oddities
    #[command(
        after_help = "Examples:\n  mve-audit catalog\n  mve-audit catalog --format json | jq -r '.paths[].id'"
    )]
    Catalog(CatalogArgs),
    /// Probe the paths from this host (the MVE server's role) toward printers and services
    #[command(after_help = CHECK_HELP)]
    Check(Box<CheckArgs>),
    /// Can this host own every port MVE listens on (UDP 9187, TCP 443, UDP 6100)? Names holders
    #[command(after_help = LOCAL_HELP)]
    Local(LocalArgs),
    /// Bind MVE's inbound ports, report what arrives, serve a console check page over HTTPS
    #[command(after_help = LISTEN_HELP)]
    Listen(ListenArgs),
    /// Send tagged probes to a listening `mve-audit listen` (run from a printer's network)
    #[command(after_help = SEND_HELP)]
    Send(SendArgs),
    /// One matrix from JSON reports taken at several vantage points (sites, subnets)
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// What changed between two JSON reports: cells that got worse, better, appeared or
    /// disappeared; exit 1 when a required cell got worse
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  mve-audit completions bash > /etc/bash_completion.d/mve-audit\n  mve-audit completions zsh > \"${fpath[1]}/_mve-audit\"\n  mve-audit completions powershell >> $PROFILE"
    )]
    Completions(CompletionsArgs),
    /// Print a manual page (roff): the tool's, or a subcommand's (mve-audit-check(1), …)
    #[command(
        after_help = "Examples:\n  mve-audit man > /usr/local/share/man/man1/mve-audit.1\n  mve-audit man check > /usr/local/share/man/man1/mve-audit-check.1\n  mve-audit man | man -l -"
    )]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub report: MatrixOutput,
    /// Write the report to FILE (atomically)
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Counts per check and the failures grouped by cause instead of the matrix
    #[arg(long, help_heading = "Output")]
    pub summary: bool,
    /// No notes on stderr (the stand-ins and the next steps)
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Read extra ports from a profile's [local] ports list
    #[arg(long, value_name = "FILE", env = "MVE_AUDIT_PROFILE")]
    pub profile: Option<PathBuf>,
    /// Another port to check, as PROTO/PORT (repeatable), e.g. --port tcp/8443
    #[arg(long = "port", value_name = "PROTO/PORT")]
    pub ports: Vec<crate::inbound::PortSpec>,
    #[command(flatten)]
    pub output: ListOutput,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// How long to listen, e.g. 30s, 5m; Ctrl-C stops earlier and still prints the summary
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s", allow_hyphen_values = true)]
    pub duration: Duration,
    /// Sources that should reach this server (printers, workstations), comma-separated
    #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
    pub expect: Vec<std::net::IpAddr>,
    /// The UDP port printers send alerts to
    #[arg(long, value_name = "PORT", default_value_t = CheckId::NpapAlerts.path().server_port(), value_parser = port_flag)]
    pub udp_port: u16,
    /// The TCP port of the web console
    #[arg(long, value_name = "PORT", default_value_t = CheckId::Console.path().server_port(), value_parser = port_flag)]
    pub tcp_port: u16,
    /// The local address to bind
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0")]
    pub bind: std::net::IpAddr,
    #[command(flatten)]
    pub output: MatrixOutput,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The host running `mve-audit listen`: HOST or an address
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// The server's UDP alert port
    #[arg(long, value_name = "PORT", default_value_t = CheckId::NpapAlerts.path().server_port(), value_parser = port_flag)]
    pub udp_port: u16,
    /// The server's console port
    #[arg(long, value_name = "PORT", default_value_t = CheckId::Console.path().server_port(), value_parser = port_flag)]
    pub tcp_port: u16,
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_duration,
        allow_hyphen_values = true,
        help = with_default("Wait per datagram and per connect", humanize(Defaults::TIMEOUT))
    )]
    pub timeout: Option<Duration>,
    /// Datagrams re-sent after silence
    #[arg(long, value_name = "N", default_value_t = Defaults::RETRIES, value_parser = parse_retries, allow_hyphen_values = true)]
    pub retries: u32,
    #[command(flatten)]
    pub output: MatrixOutput,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports from `check --format json` (two or more)
    #[arg(value_name = "REPORT.json", num_args = 1.., required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub report: MatrixOutput,
    /// Counts per check and the failures grouped by cause instead of the matrix
    #[arg(long)]
    pub summary: bool,
    /// Write the report to FILE (atomically)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 on warnings too (as --fail-on warn)
    #[arg(long, conflicts_with = "fail_on")]
    pub strict: bool,
    /// Which verdicts make a finished merge exit 1 [default: fail]
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier JSON report (`check --format json`; `-` for standard input)
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The later JSON report
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Output format
    #[arg(long, value_enum, ignore_case = true, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// When to colour the table
    #[arg(long, value_enum, ignore_case = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Write the comparison to FILE (atomically)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What `diff` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// A table for people
    Table,
    /// Every change, for programs
    Json,
    /// A Markdown table, for tickets
    Markdown,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (check, listen, …); the tool's page without it
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(flatten)]
    pub output: ListOutput,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Read targets, checks, ports and timing from a TOML profile; flags override it
    #[arg(long, value_name = "FILE", env = "MVE_AUDIT_PROFILE")]
    pub profile: Option<PathBuf>,

    #[command(flatten)]
    pub targets: TargetArgs,
    /// Allow CIDR ranges over 65,536 addresses (up to 16,777,216)
    #[arg(long, help_heading = "Targets")]
    pub allow_large: bool,

    /// Run only these checks (catalog ids, comma-separated; see `mve-audit catalog`)
    #[arg(long, value_name = "ID,...", value_delimiter = ',', value_parser = parse_check, help_heading = "Checks")]
    pub checks: Vec<CheckId>,
    /// Leave these checks out
    #[arg(long, value_name = "ID,...", value_delimiter = ',', value_parser = parse_check, help_heading = "Checks")]
    pub skip: Vec<CheckId>,
    /// Treat these "some printers" checks as required (e.g. lst,lst-handshake for secured fleets)
    #[arg(long, value_name = "ID,...", value_delimiter = ',', value_parser = parse_check, help_heading = "Checks")]
    pub require: Vec<CheckId>,
    /// Probe a check on another peer port (repeatable), e.g. --port raw=9101
    #[arg(long = "port", value_name = "ID=PORT", value_parser = parse_port_override, help_heading = "Checks")]
    pub ports: Vec<(CheckId, u16)>,
    /// SNMP version for the GET after engine discovery [default: 3 when a v3 user is set,
    /// else 2c]
    #[arg(
        long,
        value_name = "VERSION",
        value_enum,
        ignore_case = true,
        help_heading = "SNMP"
    )]
    pub snmp_version: Option<SnmpVersion>,
    /// SNMP v1/v2c community [default: public]; prefer the environment variable, which stays
    /// out of process lists
    #[arg(
        long,
        value_name = "COMMUNITY",
        env = "MVE_AUDIT_SNMP_COMMUNITY",
        hide_env_values = true,
        help_heading = "SNMP"
    )]
    pub snmp_community: Option<String>,
    /// SNMPv3 user; its keys come from MVE_AUDIT_SNMP_V3_AUTH_KEY and MVE_AUDIT_SNMP_V3_PRIV_KEY
    /// or the profile, never from a flag
    #[arg(
        long,
        value_name = "USER",
        env = "MVE_AUDIT_SNMP_V3_USER",
        help_heading = "SNMP"
    )]
    pub snmp_user: Option<String>,
    /// SNMPv3 authentication: md5, sha, sha224, sha256, sha384, sha512 [default: sha]
    #[arg(
        long,
        value_name = "PROTOCOL",
        env = "MVE_AUDIT_SNMP_V3_AUTH_PROTOCOL",
        help_heading = "SNMP"
    )]
    pub snmp_auth_protocol: Option<SnmpAuth>,
    /// SNMPv3 privacy: des, aes, aes192, aes256 [default: aes]
    #[arg(
        long,
        value_name = "PROTOCOL",
        env = "MVE_AUDIT_SNMP_V3_PRIV_PROTOCOL",
        help_heading = "SNMP"
    )]
    pub snmp_priv_protocol: Option<SnmpPriv>,

    /// Realm named in the Kerberos probe [default: a placeholder the KDC rejects]
    #[arg(long, value_name = "REALM", help_heading = "Checks")]
    pub kerberos_realm: Option<String>,

    #[command(flatten)]
    pub timing: TimingArgs,

    #[command(flatten)]
    pub report: MatrixOutput,
    /// Exit 1 on warnings too, not only on failed required checks (as --fail-on warn)
    #[arg(long, help_heading = "Output", conflicts_with = "fail_on")]
    pub strict: bool,
    /// Which verdicts make a finished audit exit 1 [default: fail]; a run that did not
    /// finish never exits 0 or 1
    #[arg(long, value_name = "LEVEL", help_heading = "Output")]
    pub fail_on: Option<FailOn>,
    /// Counts per check and the failures grouped by cause instead of the matrix (the default
    /// on a terminal when the matrix is taller than it)
    #[arg(long, help_heading = "Output", conflicts_with = "matrix")]
    pub summary: bool,
    /// The matrix even when it is taller than the terminal
    #[arg(long, help_heading = "Output")]
    pub matrix: bool,
    /// Only the targets with a cell that did not pass
    #[arg(long, help_heading = "Output")]
    pub failures_only: bool,
    /// Write the report to FILE (atomically: a temporary file renamed once complete)
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Name this vantage point (site, subnet) in the report, for `merge`
    #[arg(long, value_name = "NAME", help_heading = "Output")]
    pub vantage: Option<String>,
    /// No progress and no notes on stderr; errors still print
    #[arg(short, long, help_heading = "Output", conflicts_with = "verbose")]
    pub quiet: bool,
    /// More on stderr: -v the plan and the settings used, -vv every cell as it finishes
    #[arg(short, long, action = clap::ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,
    /// List the evidence of passing cells too, not only of those that warn or fail
    #[arg(long, help_heading = "Output")]
    pub details: bool,
    /// Print the plan (targets, checks, probes, packets) and the estimated duration, then
    /// exit without sending a packet or looking up a name
    #[arg(long, help_heading = "Output")]
    pub dry_run: bool,
    /// The arguments whose value came from their environment variable (set after parsing),
    /// so `-v` can say where each value came from.
    #[arg(skip)]
    pub from_env: std::collections::BTreeSet<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn port_overrides_parse_and_fail_clearly() {
        assert_eq!(parse_port_override("raw=9101"), Ok((CheckId::Raw, 9101)));
        let rows = [
            ("raw", "ID=PORT"),
            ("raw=0", "port 0"),
            ("raw=99999", "at most 65535"),
            ("telnet=23", "unknown check 'telnet'"),
            ("console=8443", "inbound"),
        ];
        for (text, why) in rows {
            let err = parse_port_override(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
