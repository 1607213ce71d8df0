//! Bad input, one rule everywhere (issue 12): every flag, environment variable, profile field
//! and target file line that is wrong gets exit 2 and a message naming the value and where it
//! came from: never a panic, never silent acceptance. `check` cases carry `--dry-run`, so a
//! case that wrongly passed would still send nothing.

use assert_cmd::Command;

/// Where a case's input comes from.
enum Input {
    /// Command-line arguments.
    Args(&'static [&'static str]),
    /// A profile (given as `--profile FILE`), with a printer on the command line unless the
    /// profile names targets.
    Profile(&'static str),
    /// A target list file's bytes (given as `--printers @FILE`).
    List(&'static [u8]),
    /// An environment variable, with arguments.
    Env(&'static str, &'static str, &'static [&'static str]),
    /// A file given to `merge` (as `report.json`).
    Report(&'static [u8]),
}

use Input::{Args, Env, List, Profile, Report};

/// Words of the parsers underneath that must never reach a user.
const PARSER_WORDS: &[&str] = &[
    "i64",
    "u32",
    "u16",
    "invalid type",
    "a sequence",
    "struct ",
    "wanted string or table",
    "invalid digit",
    " at line ",
    "panicked",
];

/// (input, what stderr must contain: the bad value, where it came from).
const CASES: &[(Input, &[&str])] = &[
    // check: targets
    (
        Args(&["check", "--printers", "127.1"]),
        &["--printers", "'127.1'", "canonical"],
    ),
    (
        Args(&["check", "--printers", "0x7f.1"]),
        &["'0x7f.1'", "canonical"],
    ),
    (
        Args(&["check", "--printers", "010.0.0.1"]),
        &["'010.0.0.1'"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1-300"]),
        &["'127.0.0.1-300'", "last octet"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.9-3"]),
        &["'127.0.0.9-3'", "smaller"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.0/33"]),
        &["'127.0.0.0/33'", "at most 32"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.0/8"]),
        &["'127.0.0.0/8'", "--allow-large"],
    ),
    (
        Args(&["check", "--printers", "::/64"]),
        &["'::/64'", "over the limit"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1/x"]),
        &["'127.0.0.1/x'", "not a number"],
    ),
    (
        Args(&["check", "--printers", "bad..name"]),
        &["'bad..name'", "empty label"],
    ),
    (
        Args(&["check", "--printers=-lead.example"]),
        &["'-lead.example'"],
    ),
    (
        Args(&["check", "--printers", "print er"]),
        &["'print er'", "host name"],
    ),
    (
        Args(&["check", "--printers", "printer:9100"]),
        &["'printer:9100'", "no port"],
    ),
    (Args(&["check", "--printers", "[::1"]), &["'[::1'"]),
    (
        Args(&["check", "--printers", "@/nonexistent/list.txt"]),
        &["/nonexistent/list.txt"],
    ),
    (
        Args(&["check", "--smtp", "::1:25"]),
        &["--smtp", "'::1:25'", "[ADDR]:PORT"],
    ),
    (
        Args(&["check", "--smtp", "[::1]:0"]),
        &["'[::1]:0'", "port 0"],
    ),
    (
        Args(&["check", "--smtp", "mail:70000"]),
        &["'mail:70000'", "at most 65535"],
    ),
    (Args(&["check", "--ldap", "dir:"]), &["'dir:'", "empty"]),
    (
        Args(&["check", "--kerberos", "kdc:x"]),
        &["'kdc:x'", "not a number"],
    ),
    (
        Args(&["check", "--sqlserver", "[::1]x"]),
        &["'[::1]x'", ":PORT"],
    ),
    (Args(&["check", "--firebird", "fb..db"]), &["'fb..db'"]),
    (Args(&["check"]), &["no targets"]),
    // One rule per value (issue 19): a key repeated inside a repeatable option, empty values.
    (
        Args(&[
            "check",
            "--printers",
            "127.0.0.1",
            "--port",
            "raw=9101",
            "--port",
            "raw=9102",
        ]),
        &["raw", "given twice"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--snmp-community", ""]),
        &["--snmp-community", "empty"],
    ),
    (
        Profile("[snmp]\ncommunity = \"\"\n"),
        &["site.toml:2:13:", "empty"],
    ),
    (
        Env(
            "MVE_AUDIT_SNMP_V3_USER",
            "",
            &["check", "--printers", "127.0.0.1"],
        ),
        &["MVE_AUDIT_SNMP_V3_USER", "empty"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--vantage", " "]),
        &["--vantage", "empty"],
    ),
    (
        Args(&["send", "127.0.0.9:443"]),
        &["'127.0.0.9:443'", "without a port"],
    ),
    (Args(&["send", "224.0.0.1"]), &["'224.0.0.1'", "multicast"]),
    // Values that surprise (issue 19): a URL, a named instance, an inbound path alone.
    (
        Args(&["check", "--ldap", "ldap://dir.example.test"]),
        &["'ldap://dir.example.test'", "not a URL"],
    ),
    (
        Args(&["check", "--sqlserver", "db.example.test\\MVE:1433"]),
        &["--sqlserver", "'db.example.test\\MVE:1433'", "not both"],
    ),
    (
        Args(&["check", "--sqlserver", "db.example.test\\1BAD"]),
        &["--sqlserver", "'db.example.test\\1BAD'", "letters, digits"],
    ),
    (
        Args(&["check", "--sqlserver", "db.example.test\\"]),
        &["--sqlserver", "1 to 16 characters"],
    ),
    (
        Args(&["check", "--sqlserver", "db:1433\\MVE"]),
        &["--sqlserver", "not both"],
    ),
    (
        Args(&["check", "--smtp", "mail\\MVE"]),
        &["--smtp", "'mail\\MVE'", "backslash"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--checks", "npap-alerts"]),
        &["npap-alerts", "mve-audit listen"],
    ),
    // Addresses no printer or service has (issue 19): refused, saying why.
    (
        Args(&["check", "--printers", "255.255.255.255"]),
        &["'255.255.255.255'", "broadcast"],
    ),
    (
        Args(&["check", "--printers", "224.0.0.251"]),
        &["'224.0.0.251'", "multicast"],
    ),
    (
        Args(&["check", "--printers", "0.0.0.0"]),
        &["'0.0.0.0'", "any"],
    ),
    (Args(&["check", "--printers", "::"]), &["'::'", "any"]),
    (
        Args(&["check", "--printers", "::/120"]),
        &["'::/120'", "unspecified"],
    ),
    (
        Args(&["check", "--printers", "ff02::1"]),
        &["'ff02::1'", "multicast"],
    ),
    (
        Args(&["check", "--printers", "fe80::1"]),
        &["'fe80::1'", "link-local"],
    ),
    (
        Args(&["check", "--printers", "fe80::1%lo"]),
        &["'fe80::1%lo'", "zone"],
    ),
    (
        Args(&["check", "--printers", "::ffff:127.0.0.1"]),
        &["'::ffff:127.0.0.1'", "IPv4"],
    ),
    (
        Args(&["check", "--printers", "224.0.0.0/24"]),
        &["'224.0.0.0/24'", "no printer addresses"],
    ),
    (
        Args(&["check", "--smtp", "0.0.0.0:25"]),
        &["'0.0.0.0:25'", "any"],
    ),
    (
        Args(&["check", "--ldap", "[ff02::1]:389"]),
        &["'[ff02::1]:389'", "multicast"],
    ),
    // check: checks and ports
    (
        Args(&["check", "--printers", "127.0.0.1", "--checks", "nope"]),
        &["'nope'", "--checks"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--skip", "telnet"]),
        &["'telnet'", "--skip"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--require", "x"]),
        &["'x'", "--require"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--port", "raw=0"]),
        &["'raw=0'", "port 0"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--port", "raw=65536"]),
        &["'raw=65536'"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--port", "raw"]),
        &["'raw'", "ID=PORT"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--port", "console=8443"]),
        &["console", "inbound"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--checks", "smtp"]),
        &["nothing to check"],
    ),
    (
        Args(&["check", "--sqlserver", "127.0.0.1", "--checks", "sql-browser"]),
        &["nothing to check", "sql-browser", "HOST\\INSTANCE"],
    ),
    // check: timing
    (
        Args(&["check", "--printers", "127.0.0.1", "--timeout", "2"]),
        &["'2'", "--timeout", "no unit"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--timeout", "2h"]),
        &["'2h'", "out of range"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--timeout", "-1s"]),
        &["'-1s'", "negative"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--timeout", "0ms"]),
        &["'0ms'", "out of range"],
    ),
    (
        Args(&[
            "check",
            "--printers",
            "127.0.0.1",
            "--timeout",
            "1s",
            "--timeout",
            "2s",
        ]),
        &["--timeout", "multiple times"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--retries", "11"]),
        &["'11'", "--retries"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--rate", "2000000"]),
        &["'2000000'", "--rate"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--rate", "-1"]),
        &["'-1'"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--host-rate", "20000"]),
        &["'20000'", "--host-rate"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--concurrency", "0"]),
        &["'0'", "--concurrency"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--format", "xml"]),
        &["'xml'", "--format"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--color", "sometimes"]),
        &["'sometimes'"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--summary", "--matrix"]),
        &["--summary", "--matrix"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "-q", "-v"]),
        &["--quiet", "--verbose"],
    ),
    // check: SNMP and Kerberos
    (
        Args(&["check", "--printers", "127.0.0.1", "--snmp-version", "4"]),
        &["'4'", "--snmp-version"],
    ),
    (
        Args(&[
            "check",
            "--printers",
            "127.0.0.1",
            "--snmp-auth-protocol",
            "sha3",
        ]),
        &["'sha3'", "--snmp-auth-protocol"],
    ),
    (
        Args(&[
            "check",
            "--printers",
            "127.0.0.1",
            "--snmp-priv-protocol",
            "rot13",
        ]),
        &["'rot13'"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--snmp-version", "3"]),
        &["--snmp-version", "needs a user"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--kerberos-realm", " "]),
        &["--kerberos-realm", "empty"],
    ),
    // other subcommands
    (Args(&["listen", "--udp-port", "0"]), &["'0'", "--udp-port"]),
    (
        Args(&["listen", "--tcp-port", "70000"]),
        &["'70000'", "--tcp-port"],
    ),
    (Args(&["listen", "--duration", "5"]), &["'5'", "--duration"]),
    (
        Args(&["listen", "--expect", "127.0.0"]),
        &["'127.0.0'", "--expect"],
    ),
    (
        Args(&["send", "127.0.0.1", "--tcp-port", "0"]),
        &["'0'", "--tcp-port"],
    ),
    (
        Args(&["send", "127.0.0.1", "--retries", "99"]),
        &["'99'", "--retries"],
    ),
    (Args(&["local", "--port", "tcp/0"]), &["'tcp/0'", "port 0"]),
    (
        Args(&["local", "--port", "sctp/5"]),
        &["'sctp/5'", "tcp or udp"],
    ),
    (
        Args(&["local", "--port", "8443"]),
        &["'8443'", "PROTO/PORT"],
    ),
    (
        Args(&["merge", "/nonexistent/report.json"]),
        &["/nonexistent/report.json"],
    ),
    (Args(&["completions", "tcsh"]), &["'tcsh'"]),
    // profile fields: the same values as the flags, with file:line:col
    (
        Profile("[timing]\ntimeout = \"2\"\n"),
        &["site.toml:2:", "no unit"],
    ),
    (
        Profile("[timing]\ntimeout = 5\n"),
        &["site.toml:2:", "string"],
    ),
    (
        Profile("[timing]\nretries = 11\n"),
        &["site.toml:2:", "0 to 10"],
    ),
    (
        Profile("[timing]\nrate = 2000000\n"),
        &["site.toml:2:", "0 to 1000000"],
    ),
    (Profile("[timing]\nhost-rate = 20000\n"), &["site.toml:2:"]),
    (
        Profile("[timing]\nconcurrency = 0\n"),
        &["site.toml:2:", "1 to 65536"],
    ),
    (Profile("[ports]\nraw = 0\n"), &["site.toml:2:", "port 0"]),
    (
        Profile("[ports]\nraw = 70000\n"),
        &["site.toml:2:", "65535"],
    ),
    (Profile("[ports]\nnope = 1\n"), &["site.toml:2:", "nope"]),
    (
        Profile("[checks]\nskip = [\"nope\"]\n"),
        &["site.toml:2:", "nope"],
    ),
    (
        Profile("[targets]\nprinters = [\"127.1\"]\n"),
        &["targets.printers", "'127.1'"],
    ),
    (
        Profile("[targets]\nsmtp = \"::1:25\"\n"),
        &["targets.smtp", "'::1:25'"],
    ),
    (Profile("[snmp]\nversion = \"4\"\n"), &["site.toml:2:"]),
    (
        Profile("[snmp]\nauth-protocol = \"sha3\"\n"),
        &["site.toml:2:", "'sha3'"],
    ),
    (
        Profile("[kerberos]\nrealm = \"\"\n"),
        &["site.toml:2:9:", "empty"],
    ),
    (
        Profile("[payloads]\nnpap = \"zz\"\n"),
        &["site.toml:2:", "not hex"],
    ),
    (
        Profile("[payloads]\nnpap = \"abc\"\n"),
        &["site.toml:2:", "odd"],
    ),
    (
        Profile("[local]\nports = [\"tcp/0\"]\n"),
        &["site.toml:2:", "port 0"],
    ),
    (
        Profile("[timing]\ntimeout = \"2s\"\ntimeout = \"3s\"\n"),
        &["site.toml:3:", "duplicate"],
    ),
    (
        Profile("[nonsense]\nx = 1\n"),
        &["site.toml:1:", "nonsense"],
    ),
    (
        Profile("\u{feff}[timing]\nretries = 99\n"),
        &["site.toml:2:"],
    ),
    // target files
    // Notepad's "Unicode" (UTF-16 LE, BOM, CRLF) is read: the bad name on line 2 is found.
    (
        List(b"\xff\xfe1\x002\x007\x00.\x000\x00.\x000\x00.\x001\x00\r\x00\n\x00b\x00a\x00d\x00.\x00.\x00n\x00\r\x00\n\x00"),
        &["list.txt:2", "'bad..n'"],
    ),
    // A lone surrogate on line 1 of a UTF-16 list.
    (List(b"\xff\xfe1\x00\x00\xdc\n\x00"), &["list.txt:1:", "UTF-16 LE"]),
    (
        List(b"127.0.0.1\nbad..name\n"),
        &["list.txt:2", "'bad..name'"],
    ),
    (List(b"127.0.0.\xff\n"), &["list.txt:1:", "UTF-8"]),
    // Latin-1 on line 2: the line is named the way every other list error names it.
    (List(b"127.0.0.1\ncaf\xe9.lab\n"), &["list.txt:2:", "UTF-8"]),
    (List(b"@other.txt\n"), &["list.txt", "another list"]),
    // A huge bad line is quoted by its start and its length, not whole.
    (
        List(&[b'x'; 300_000]),
        &["list.txt:1", "… (300000 bytes)"],
    ),
    // environment
    (
        Env(
            "MVE_AUDIT_PROFILE",
            "/nonexistent/site.toml",
            &["check", "--printers", "127.0.0.1"],
        ),
        &["/nonexistent/site.toml", "from MVE_AUDIT_PROFILE"],
    ),
    (
        Env(
            "MVE_AUDIT_SNMP_V3_AUTH_KEY",
            "short",
            &["check", "--printers", "127.0.0.1", "--snmp-user", "u"],
        ),
        &["MVE_AUDIT_SNMP_V3_AUTH_KEY", "8 characters"],
    ),
    (
        Env(
            "MVE_AUDIT_SNMP_V3_AUTH_PROTOCOL",
            "sha3",
            &["check", "--printers", "127.0.0.1"],
        ),
        &["'sha3'", "--snmp-auth-protocol", "MVE_AUDIT_SNMP_V3_AUTH_PROTOCOL"],
    ),
    (
        Env(
            "MVE_AUDIT_SNMP_V3_AUTH_PROTOCOL",
            "",
            &["check", "--printers", "127.0.0.1"],
        ),
        &["--snmp-auth-protocol", "MVE_AUDIT_SNMP_V3_AUTH_PROTOCOL"],
    ),
    // One parser per value (issue 19): profile keys refused as the flags refuse them.
    (
        Profile("[ports]\nnpap-alerts = 1\n"),
        &["site.toml:2:1:", "'npap-alerts'", "inbound"],
    ),
    (
        Profile("[payloads]\nraw = \"41 42\"\n"),
        &["site.toml:2:1:", "'raw'", "npap, xmlnt, lst"],
    ),
    (
        Profile("[payloads]\nsnmp = \"30 00\"\n"),
        &["site.toml:2:1:", "'snmp'", "payload"],
    ),
    (
        Profile("[ports]\nraw = \"x\"\n"),
        &["site.toml:2:7:", "bad port x", "not a number"],
    ),
    (
        Profile("[ports]\nraw = true\n"),
        &["site.toml:2:7:", "port number", "found true"],
    ),
    (
        Profile("[ports]\nraw = 70000\n"),
        &["site.toml:2:7:", "70000", "65535"],
    ),
    (
        Profile("[timing]\nretries = 1.5\n"),
        &["site.toml:2:11:", "'1.5'", "whole number"],
    ),
    (
        Profile("[timing]\nretries = \"many\"\n"),
        &["site.toml:2:11:", "'many'", "whole number"],
    ),
    (
        Profile("[timing]\nrate = 2e6\n"),
        &["site.toml:2:8:", "out of range", "0 to 1000000"],
    ),
    (
        Profile("[timing]\nconcurrency = 0\n"),
        &["site.toml:2:15:", "'0'", "1 to 65536"],
    ),
    (
        Profile("[timing]\nhost-rate = -1\n"),
        &["site.toml:2:13:", "'-1'", "0 to 10000"],
    ),
    (
        Profile("[timing]\ntimeout = 2\n"),
        &["site.toml:2:11:", "quoted string", "found the number 2"],
    ),
    (
        Profile("[timing]\ntimeout = \"1m30\"\n"),
        &["site.toml:2:11:", "'1m30'", "no unit"],
    ),
    (
        Profile("[snmp]\nversion = 2\n"),
        &["site.toml:2:11:", "'2'", "1, 2c or 3"],
    ),
    (
        Profile("[snmp]\nuser = \" \"\n"),
        &["site.toml:2:8:", "empty"],
    ),
    (
        Profile("[snmp]\nauth-key = \"\"\n"),
        &["site.toml:2:12:", "empty"],
    ),
    (
        Profile("[snmp]\nauth-protocol = \"sha3\"\n"),
        &["site.toml:2:17:", "'sha3'", "sha256"],
    ),
    (
        Profile("[checks]\nskip = \"raw\"\n"),
        &["site.toml:2:8:", "expected a list", "\"raw\""],
    ),
    (
        Profile("[checks]\nonly = [\"FAX\"]\n"),
        &["site.toml:2:9:", "'FAX'", "known checks"],
    ),
    (
        Profile("[checks]\nrequire = [5]\n"),
        &["site.toml:2:12:", "check id", "found the number 5"],
    ),
    (
        Profile("[targets]\nprinters = 5\n"),
        &["site.toml:2:12:", "a string or a list of strings", "found the number 5"],
    ),
    (
        Profile("[targets]\nprinters = [\"127.0.0.1\", 5]\n"),
        &["site.toml:2:26:", "quoted string", "found the number 5"],
    ),
    (
        Profile("targets = 1\n"),
        &["site.toml:1:11:", "table of targets", "found the number 1"],
    ),
    (
        Profile("[targets]\nprinters = [\"127.0.0.1\",\n  \"127.0.0.0/33\"]\n"),
        &["site.toml:3:3:", "targets.printers", "'127.0.0.0/33'"],
    ),
    (
        Profile("[targets]\nprinters = [\"127.0.0.1\", \"0.0.0.0\"]\n"),
        &["site.toml:2:26:", "'0.0.0.0'", "any"],
    ),
    (
        Profile("[targets]\nprinters = \"127.0.0.1, 224.0.0.251\"\n"),
        &["site.toml:2:12:", "'224.0.0.251'", "multicast"],
    ),
    (
        Profile("[targets]\nsmtp = [\"127.0.0.1:25\", \"127.0.0.1:x\"]\n"),
        &["site.toml:2:25:", "targets.smtp", "'127.0.0.1:x'"],
    ),
    (
        Profile("[targets]\nldap = \"ldap://127.0.0.1\"\n"),
        &["site.toml:2:8:", "'ldap://127.0.0.1'"],
    ),
    (
        Profile("[local]\nports = [8443]\n"),
        &["site.toml:2:10:", "quoted string", "found the number 8443"],
    ),
    (
        Profile("[kerberos]\nrealm = [\"A\"]\n"),
        &["site.toml:2:9:", "quoted string", "found a list"],
    ),
    // Flags: the same parser as the profile keys.
    (
        Args(&["check", "--printers", "127.0.0.1", "--rate", "1.5"]),
        &["--rate", "'1.5'", "whole number"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--rate", "2e6"]),
        &["--rate", "'2e6'", "0 to 1000000"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--retries", "-1"]),
        &["--retries", "'-1'", "0 to 10"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--concurrency", "0"]),
        &["--concurrency", "'0'", "1 to 65536"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--host-rate", "ten"]),
        &["--host-rate", "'ten'", "whole number"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--snmp-version", "2"]),
        &["--snmp-version", "'2'", "2c"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--format", "yaml"]),
        &["--format", "'yaml'", "json"],
    ),
    (
        Args(&["check", "--printers", "127.0.0.1", "--port", "npap-alerts=1"]),
        &["--port", "'npap-alerts'", "inbound"],
    ),
    // The CA: a URL, its port from the URL.
    (
        Args(&["check", "--ca", "ca.lab.test"]),
        &["--ca", "'ca.lab.test'", "URL"],
    ),
    (
        Args(&["check", "--ca", "ftp://ca.lab.test/"]),
        &["--ca", "'ftp://ca.lab.test/'", "https://HOST"],
    ),
    (
        Args(&["check", "--ca", "https://0.0.0.0/scep"]),
        &["--ca", "any"],
    ),
    (
        Args(&["check", "--ca", "https://admin:s3cret@ca.lab.test/scep"]),
        &["--ca", "'https://admin:***@ca.lab.test/scep'", "user:password@"],
    ),
    (
        Args(&["check", "--ca", "https://ca.lab.test/cert srv/mscep.dll"]),
        &["--ca", "space", "%20"],
    ),
    (
        Args(&["check", "--ca", "https://ca.lab.test/scep\r\nX-Injected: 1"]),
        &["--ca", "control character"],
    ),
    (
        Args(&["check", "--ca", "https://[ff02::1]/scep"]),
        &["--ca", "multicast"],
    ),
    (
        Args(&["check", "--ca", "https://224.0.0.251/scep"]),
        &["--ca", "multicast"],
    ),
    (
        Args(&["check", "--sqlserver", "db\\MVE", "--port", "sql-browser=1435"]),
        &["--port", "'sql-browser'", "1434"],
    ),
    (
        Args(&["check", "--ca", "https://ca.lab.test/est", "--port", "crl=8080"]),
        &["--port", "'crl'", "URL"],
    ),
    (
        Profile("[targets]\nca = [\"https://ca.lab.test/scep\", \"ca2\"]\n"),
        &["site.toml:2:35:", "targets.ca", "'ca2'"],
    ),
    // Reports given to merge: the file, line and column, in the user's words.
    (
        Report(b"[1,2,3]"),
        &["report.json:1:", "not an mve-audit JSON report"],
    ),
    (
        Report(b"{\"schema_version\":1}"),
        &["report.json:1:", "`checks` is missing"],
    ),
    (
        Report(b"\"x\""),
        &["report.json:1:", "expected an object", "found the text \"x\""],
    ),
    (
        Report(b"{\"schema_version\":1,"),
        &["report.json:1:", "ends in the middle"],
    ),
    (Report(b""), &["report.json"]),
];

#[test]
fn every_bad_value_exits_2_and_names_the_value_and_its_source() {
    assert!(CASES.len() >= 150, "{} cases", CASES.len());
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (input, wanted) in CASES {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mve-audit"));
        cmd.current_dir(dir.path()).env_remove("MVE_AUDIT_PROFILE");
        let shown = match input {
            Args(args) => {
                cmd.args(*args);
                args.join(" ")
            }
            Profile(text) => {
                std::fs::write(dir.path().join("site.toml"), text).unwrap();
                cmd.args(["check", "--profile", "site.toml"]);
                // A printer flag would replace the profile's own targets.
                if !text.contains("[targets]") {
                    cmd.args(["--printers", "127.0.0.1"]);
                }
                format!("profile {text:?}")
            }
            List(bytes) => {
                std::fs::write(dir.path().join("list.txt"), bytes).unwrap();
                cmd.args(["check", "--printers", "@list.txt"]);
                format!("list {bytes:?}")
            }
            Env(name, value, args) => {
                cmd.env(name, value).args(*args);
                format!("{name}={value} {}", args.join(" "))
            }
            Report(bytes) => {
                std::fs::write(dir.path().join("report.json"), bytes).unwrap();
                cmd.args(["merge", "report.json"]);
                format!("report {:?}", String::from_utf8_lossy(bytes))
            }
        };
        if matches!(input, Args(args) if args[0] == "check")
            || matches!(input, Profile(_) | List(_) | Env(..))
        {
            cmd.arg("--dry-run");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        let missing: Vec<&&str> = wanted.iter().filter(|w| !stderr.contains(**w)).collect();
        let parser: Vec<&&str> = PARSER_WORDS
            .iter()
            .filter(|w| stderr.contains(**w))
            .collect();
        if code != Some(2) || !missing.is_empty() || !parser.is_empty() {
            failures.push(format!(
                "{shown}: exit {code:?}, missing {missing:?}, parser words {parser:?}: {stderr}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A list saved by a Windows editor (byte-order mark, CRLF) reads as the same list.
#[test]
fn a_utf8_list_with_a_byte_order_mark_and_crlf_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("list.txt"),
        b"\xef\xbb\xbf127.0.0.1\r\n# lab\r\n127.0.0.2\r\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mve-audit"))
        .current_dir(dir.path())
        .args([
            "check",
            "--printers",
            "@list.txt",
            "--checks",
            "raw",
            "--dry-run",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["targets"], 2, "{plan}");
}

/// The other half of one parser per value: what a flag accepts, its profile key accepts, in
/// the same spellings, to the same effect (read back from the dry run's plan).
#[test]
fn the_same_spellings_are_accepted_by_flag_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    // (flags, profile, what the plan must show)
    let rows: &[(&[&str], &str, &str)] = &[
        (&["--checks", "RAW"], "", "\"check\": \"raw\""),
        (&[], "[checks]\nonly = [\"RAW\"]\n", "\"check\": \"raw\""),
        (&["--rate", "1e3"], "", "\"rate_pps\": 1000"),
        (&[], "[timing]\nrate = 1e3\n", "\"rate_pps\": 1000"),
        (&[], "[timing]\nrate = \"1_000\"\n", "\"rate_pps\": 1000"),
        (&["--timeout", "1m30s"], "", "\"longest_wait_ms\": 270000"),
        (
            &[],
            "[timing]\ntimeout = \"1m30s\"\n",
            "\"longest_wait_ms\": 270000",
        ),
        (&["--snmp-version", "2C"], "", "\"check\": \"snmp\""),
        (&[], "[snmp]\nversion = \"2C\"\n", "\"check\": \"snmp\""),
        (
            &["--snmp-user", "mve"],
            "[snmp]\nversion = 3\nauth-protocol = \"SHA256\"\nauth-key = \"12345678\"\n",
            "\"check\": \"snmp\"",
        ),
        (&["--color", "NEVER"], "", "\"dry_run\": true"),
        // Skips add up: the profile's and the flag's.
        (
            &["--skip", "raw"],
            "[checks]\nskip = [\"http\"]\n",
            "\"check\": \"https\"",
        ),
    ];
    for (flags, profile, wanted) in rows {
        std::fs::write(dir.path().join("site.toml"), profile).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_mve-audit"))
            .current_dir(dir.path())
            .env_remove("MVE_AUDIT_PROFILE")
            .args(["check", "--profile", "site.toml", "--printers", "127.0.0.1"])
            .args(*flags)
            .args(["--dry-run", "--format", "json"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{flags:?} {profile:?}: {stderr}");
        assert!(stdout.contains(wanted), "{flags:?} {profile:?}: {stdout}");
        if flags.contains(&"raw") && flags.contains(&"--skip") {
            assert!(!stdout.contains("\"check\": \"raw\""), "{stdout}");
            assert!(!stdout.contains("\"check\": \"http\""), "{stdout}");
        }
    }
}

/// A value found wrong after the profile was read (a range too large without
/// `--allow-large`, an SNMPv3 version with no user) still names its file, line and column.
#[test]
fn values_checked_after_reading_still_name_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        (
            "[targets]\nprinters = [\"127.0.0.1\",\n  \"127.0.0.0/8\"]\n",
            "site.toml:3:3: targets.printers",
        ),
        ("[snmp]\nversion = 3\n", "site.toml:2:11: snmp.version"),
        (
            "[targets]\nprinters = \"127.0.0.1\"\n[snmp]\nuser = \"u\"\nauth-protocol = \"sha\"\n",
            "site.toml:5:17: snmp.auth-protocol",
        ),
    ];
    for (text, place) in rows {
        std::fs::write(dir.path().join("site.toml"), text).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mve-audit"));
        cmd.current_dir(dir.path())
            .env_remove("MVE_AUDIT_PROFILE")
            .env_remove("MVE_AUDIT_SNMP_V3_AUTH_KEY")
            .args(["check", "--profile", "site.toml", "--dry-run"]);
        if !text.contains("[targets]") {
            cmd.args(["--printers", "127.0.0.1"]);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {stderr}");
        assert!(stderr.contains(place), "{text:?}: {stderr}");
    }
}

/// A password given in a CA URL is never echoed back, on any stream.
#[test]
fn a_password_in_a_ca_url_is_not_echoed() {
    let out = Command::cargo_bin("mve-audit")
        .unwrap()
        .args([
            "check",
            "--dry-run",
            "--ca",
            "https://admin:s3cret@ca.lab.test/scep",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains("s3cret"), "{text}");
    }
}
