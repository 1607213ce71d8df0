//! The texts after each subcommand's `--help`: examples first, then the exit codes.

pub const EXIT_CODES: &str = "\
Exit codes:
  0  every required check passed (warnings allowed unless --strict)
  1  a required check failed (or, with --strict, any check warned)
  2  usage or configuration error: bad flag, target, port, duration or profile
  3  internal error: the audit could not run (e.g. output could not be written)";

pub const CHECK_HELP: &str = "\
Examples:
  mve-audit check --printers 10.1.2.0/24 --smtp mail.example.com
  mve-audit check --profile site.toml --format html --output report.html
  mve-audit check --printers @fleet.txt --summary
  mve-audit check --printers 10.1.2.3 --checks snmp,raw --format json | jq .summary
  mve-audit check --printers @fleet.txt --dry-run

Exit codes:
  0  every required check passed (warnings allowed unless --strict)
  1  a required check failed (or, with --strict, any check warned)
  2  usage or configuration error: bad flag, target, port, duration or profile
  3  internal error: the audit could not run (e.g. output could not be written)";

pub const LOCAL_HELP: &str = "\
Examples:
  mve-audit local
  mve-audit local --port tcp/8443 --format json

Exit codes: 0 every port can be owned, 1 one cannot, 2 usage error, 3 internal error";

pub const LISTEN_HELP: &str = "\
Examples:
  mve-audit listen --duration 5m --expect 10.1.2.3,10.1.2.4
  mve-audit listen --udp-port 9187 --tcp-port 8443 --format json

Exit codes: 0 every expected source arrived, 1 one did not, 2 usage error, 3 internal error";

pub const SEND_HELP: &str = "\
Examples:
  mve-audit send mve-server.example.com
  mve-audit send 10.0.0.5 --tcp-port 8443 --timeout 5s

Exit codes: 0 both paths arrived, 1 one did not, 2 usage error, 3 internal error";

pub const MERGE_HELP: &str = "\
Examples:
  mve-audit merge site-a.json site-b.json
  mve-audit merge reports/*.json --format html --output fleet.html

Each row is marked with its vantage point: the report's own (check --vantage), else the
file name without .json. A cell two vantage points see differently is listed as a conflict.

Exit codes: 0 no cell fails, 1 a cell fails, 2 a report cannot be read, 3 internal error";
