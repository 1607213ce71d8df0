//! The texts after each subcommand's `--help`: examples first, then the exit codes.

/// The exit codes of an audit, written once: `--help` of the tool and of `check`, and the
/// manual pages, all show this text.
macro_rules! exit_codes {
    () => {
        "\
Exit codes:
  0    the audit finished and every required check passed (warnings allowed unless --strict)
  1    the audit finished and a required check failed (or, with --strict, any check warned);
       --fail-on warn is --strict, --fail-on never exits 0 whenever the audit finished
  2    usage or configuration error: bad flag, target, port, duration or profile; no target
  3    internal error: the audit could not run (e.g. output could not be written)
  130  interrupted by SIGINT or Ctrl-C; 143 by SIGTERM; 129 by SIGHUP: a partial report
  141  the report's reader went away (a closed pipe)"
    };
}

pub const EXIT_CODES: &str = concat!(
    "\
Examples:
  mve-audit demo
  mve-audit check --printers 192.0.2.3 --dry-run
  mve-audit check --printers 192.0.2.3

",
    exit_codes!()
);

pub const CHECK_HELP: &str = concat!(
    "\
Examples:
  mve-audit check --printers 192.0.2.0/24 --smtp mail.example.com
  mve-audit check --profile site.toml --format html --output report.html
  mve-audit check --printers @fleet.txt --summary
  mve-audit check --printers 192.0.2.3 --checks snmp,raw --format json | jq .summary
  mve-audit check --printers @fleet.txt --dry-run

",
    exit_codes!()
);

pub const DEMO_HELP: &str = "\
Examples:
  mve-audit demo
  mve-audit demo --format json | jq '.summary'

Exit codes: 0 every stand-in showed its state, 2 usage error, 3 a stand-in could not start \
or did not show its state (something interferes with loopback)";

pub const LOCAL_HELP: &str = "\
Examples:
  mve-audit local
  mve-audit local --port tcp/8443 --format json

Exit codes: 0 every port can be owned, 1 one cannot, 2 usage error, 3 internal error";

pub const LISTEN_HELP: &str = "\
Examples:
  mve-audit listen --duration 5m --expect 192.0.2.3,192.0.2.4
  mve-audit listen --udp-port 9187 --tcp-port 8443 --format json

Exit codes: 0 every expected source arrived, 1 one did not, 2 usage error, 3 internal error";

pub const SEND_HELP: &str = "\
Examples:
  mve-audit send mve-server.example.com
  mve-audit send 192.0.2.5 --tcp-port 8443 --timeout 5s

Exit codes: 0 both paths arrived, 1 one did not, 2 usage error, 3 internal error";

pub const MERGE_HELP: &str = "\
Examples:
  mve-audit merge site-a.json site-b.json
  mve-audit merge reports/*.json --format html --output fleet.html

Each row is marked with its vantage point: the report's own (check --vantage), else the
file name without .json. A cell two vantage points see differently is listed as a conflict.

Exit codes: 0 no cell fails (as --fail-on says), 1 a cell fails, 2 a report cannot be used
(unreadable, another schema, given twice, two from one vantage point, no cell, a cell twice,
unfinished cells in a run that says it finished), 3 internal error, 141 the reader went away;
130/143/129 a report's run was cut short (the merge is partial)";

pub const DIFF_HELP: &str = "\
Examples:
  mve-audit diff last-week.json this-week.json
  mve-audit diff last-week.json this-week.json --format markdown --output changes.md

A cell is named by its vantage point, target and check; its verdict orders it (pass, warn,
fail). A cell the new report did not finish (an interrupted run) is listed as unfinished.

Exit codes: 0 no required cell got worse, 1 one did, 2 a report cannot be used (as for merge:
unreadable, no cell, a cell twice, …) or the two were made from different vantage points
(nothing to compare), 3 internal error, 141 the reader went away; 130/143/129 the new report's
run was cut short (no verdict)";

/// The environment variables the tool reads, for the manual.
pub const ENVIRONMENT: [(&str, &str); 8] = [
    ("MVE_AUDIT_PROFILE", "the profile, as --profile"),
    (
        "MVE_AUDIT_SNMP_COMMUNITY",
        "the SNMP v1/v2c community, as --snmp-community (kept out of the process list)",
    ),
    ("MVE_AUDIT_SNMP_V3_USER", "the SNMPv3 user, as --snmp-user"),
    (
        "MVE_AUDIT_SNMP_V3_AUTH_PROTOCOL",
        "the SNMPv3 authentication protocol, as --snmp-auth-protocol",
    ),
    (
        "MVE_AUDIT_SNMP_V3_PRIV_PROTOCOL",
        "the SNMPv3 privacy protocol, as --snmp-priv-protocol",
    ),
    (
        "MVE_AUDIT_SNMP_V3_AUTH_KEY, MVE_AUDIT_SNMP_V3_PRIV_KEY",
        "the SNMPv3 keys (no flag: a flag shows in the process list)",
    ),
    (
        "NO_COLOR",
        "set and not empty: no colour, whatever the terminal",
    ),
    (
        "CI",
        "set and not 'false': no progress bar (a CI log is no terminal to redraw)",
    ),
];

/// The extra sections of every manual page: environment and exit status.
pub fn man_sections() -> String {
    let mut roff = String::from(".SH ENVIRONMENT\n");
    for (name, what) in ENVIRONMENT {
        roff.push_str(&format!(".TP\n\\fB{name}\\fR\n{}\n", escape(what)));
    }
    roff.push_str(".SH \"EXIT STATUS\"\n");
    for line in EXIT_CODES.lines().skip(1) {
        let line = line.trim();
        if let Some((code, what)) = line.split_once(' ') {
            roff.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", escape(what.trim())));
        }
    }
    roff
}

/// Text as roff reads it: a hyphen is `\-`, a backslash `\e`.
fn escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}
