//! clap definitions: the single source of `--help`, and later of the man page and completions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::parse_duration;
use crate::catalog::CheckId;
use crate::report::{Format, ListFormat};
use crate::targets::parse_port;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  every required check passed (warnings allowed unless --strict)
  1  a required check failed (or, with --strict, any check warned)
  2  usage or configuration error: bad flag, target, port, duration or profile
  3  internal error: the audit could not run (e.g. output could not be written)";

#[derive(Debug, Parser)]
#[command(
    name = "mve-audit",
    version,
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
    /// Print every path MVE needs (the vendor's port table), with its oddities
    Catalog(CatalogArgs),
    /// Probe the paths from this host (the MVE server's role) toward printers and services
    #[command(after_help = EXIT_CODES)]
    Check(Box<CheckArgs>),
    /// Can this host own every port MVE listens on (UDP 9187, TCP 443, UDP 6100)? Names holders
    #[command(after_help = EXIT_CODES)]
    Local(LocalArgs),
    /// Bind MVE's inbound ports, report what arrives, serve a console check page over HTTPS
    #[command(after_help = EXIT_CODES)]
    Listen(ListenArgs),
    /// Send tagged probes to a listening `mve-audit listen` (run from a printer's network)
    #[command(after_help = EXIT_CODES)]
    Send(SendArgs),
}

#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Read extra ports from a profile's [local] ports list
    #[arg(long, value_name = "FILE", env = "MVE_AUDIT_PROFILE")]
    pub profile: Option<PathBuf>,
    /// Another port to check, as PROTO/PORT (repeatable), e.g. --port tcp/8443
    #[arg(long = "port", value_name = "PROTO/PORT")]
    pub ports: Vec<crate::inbound::PortSpec>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// How long to listen, e.g. 30s, 5m; Ctrl-C stops earlier and still prints the summary
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s")]
    pub duration: Duration,
    /// Sources that should reach this server (printers, workstations), comma-separated
    #[arg(long, value_name = "ADDR,...", value_delimiter = ',')]
    pub expect: Vec<std::net::IpAddr>,
    /// The UDP port printers send alerts to
    #[arg(long, value_name = "PORT", default_value_t = 9187)]
    pub udp_port: u16,
    /// The TCP port of the web console
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    pub tcp_port: u16,
    /// The local address to bind
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0")]
    pub bind: std::net::IpAddr,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// When to colour the table
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The host running `mve-audit listen`: HOST or an address
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// The server's UDP alert port
    #[arg(long, value_name = "PORT", default_value_t = 9187)]
    pub udp_port: u16,
    /// The server's console port
    #[arg(long, value_name = "PORT", default_value_t = 443)]
    pub tcp_port: u16,
    /// Wait per datagram and per connect
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "2s")]
    pub timeout: Duration,
    /// Datagrams re-sent after silence
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// When to colour the table
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Read targets, checks, ports and timing from a TOML profile; flags override it
    #[arg(long, value_name = "FILE", env = "MVE_AUDIT_PROFILE")]
    pub profile: Option<PathBuf>,

    /// Printers: hostnames, IPv4/IPv6 addresses, CIDR ranges, @FILE (repeatable, comma-separated)
    #[arg(long, value_name = "TARGETS", help_heading = "Targets")]
    pub printers: Vec<String>,
    /// SQL Server database (default port 1433)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    pub sqlserver: Vec<String>,
    /// Firebird database (default port 3050)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    pub firebird: Vec<String>,
    /// Mail server for e-mail alerts (default port 25)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    pub smtp: Vec<String>,
    /// LDAP directory (default port 389)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    pub ldap: Vec<String>,
    /// LDAPS directory (default port 636)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    pub ldaps: Vec<String>,
    /// Kerberos KDC (default port 88/udp)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    pub kerberos: Vec<String>,
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
    /// SNMP version for the GET after engine discovery: 1, 2c or 3 [default: 3 when a v3 user
    /// is set, else 2c]
    #[arg(long, value_name = "VERSION", value_parser = ["1", "2c", "3"], help_heading = "SNMP")]
    pub snmp_version: Option<String>,
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
    pub snmp_auth_protocol: Option<String>,
    /// SNMPv3 privacy: des, aes, aes192, aes256 [default: aes]
    #[arg(
        long,
        value_name = "PROTOCOL",
        env = "MVE_AUDIT_SNMP_V3_PRIV_PROTOCOL",
        help_heading = "SNMP"
    )]
    pub snmp_priv_protocol: Option<String>,

    /// Realm named in the Kerberos probe [default: a placeholder the KDC rejects]
    #[arg(long, value_name = "REALM", help_heading = "Checks")]
    pub kerberos_realm: Option<String>,

    /// Wait per TCP connect and per UDP datagram, e.g. 500ms, 2s [default: 2s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Timing")]
    pub timeout: Option<Duration>,
    /// UDP datagrams re-sent after silence, at most 10 [default: 2]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10), help_heading = "Timing")]
    pub retries: Option<u32>,
    /// At most this many probes in flight [default: the rate × the longest wait, within the
    /// open-file limit]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65536), help_heading = "Timing")]
    pub concurrency: Option<u32>,
    /// Packets per second across all probes; 0 for no limit [default: 3000]
    #[arg(long, value_name = "PPS", help_heading = "Timing")]
    pub rate: Option<u32>,

    /// ICMP errors per second a host may owe us after a burst of 5, so printers' ICMP rate
    /// limits do not hide closed ports (only datagrams that may draw an error count); 0 for
    /// no limit [default: 1]
    #[arg(long, value_name = "PPS", help_heading = "Timing")]
    pub host_rate: Option<u32>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    pub format: Format,
    /// When to colour the table
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
    /// Exit 1 on warnings too, not only on failed required checks
    #[arg(long, help_heading = "Output")]
    pub strict: bool,
    /// List the evidence of passing cells too, not only of those that warn or fail
    #[arg(long, help_heading = "Output")]
    pub details: bool,
    /// Print the plan (targets, checks, probes, packets) and the estimated duration, then
    /// exit without sending a packet or looking up a name
    #[arg(long, help_heading = "Output")]
    pub dry_run: bool,
}

fn parse_check(text: &str) -> Result<CheckId, String> {
    text.parse()
        .map_err(|e: crate::catalog::UnknownCheck| e.to_string())
}

fn parse_port_override(text: &str) -> Result<(CheckId, u16), String> {
    let (id, port) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not ID=PORT (e.g. raw=9101)"))?;
    let check = parse_check(id)?;
    if check.path().peer.default_port().is_none() {
        return Err(format!(
            "'{check}' is an inbound path and has no peer port to override"
        ));
    }
    let port = parse_port(port).map_err(|why| format!("'{text}': {why}"))?;
    Ok((check, port))
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
            let err = parse_port_override(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
