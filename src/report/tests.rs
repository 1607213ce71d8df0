//! Tests of `report`: every format rendered from one fixed result set.

use super::*;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::catalog::{CheckId, Role};
use crate::results::{Done, Finding};
use crate::results::{Evidence, State, Unproven};

/// The findings of the sample run, by check.
fn finding(check: CheckId) -> Finding {
    match check {
        CheckId::Raw => Finding::new(
            State::Open,
            Evidence::new("TCP handshake completed").with_rtt(Duration::from_micros(812)),
        ),
        CheckId::Snmp => {
            let mut evidence = Evidence::new("ICMP port unreachable: nothing listens on the port");
            evidence.errno = Some("ECONNREFUSED");
            Finding::new(State::Closed, evidence)
        }
        // SMTP can prove itself: an open port that stays silent is a failure, with its reason.
        _ => {
            let mut evidence =
                Evidence::new("TCP open, but no SMTP banner answer: no answer before the timeout");
            evidence.notes.push("a note worth showing".into());
            Finding::unproven(evidence, Unproven::NoAnswer)
        }
    }
}

/// A printer that answered on raw and not on snmp, one whose name did not resolve, and
/// an SMTP server; in the order the engine finishes them, through a collector.
pub(crate) fn sample_for(format: Format) -> Matrix {
    let printer: IpAddr = "192.0.2.7".parse().unwrap();
    let smtp: IpAddr = "192.0.2.25".parse().unwrap();
    let unresolved = Finding::new(
        State::Error,
        Evidence::new("name 'gone.example.test' did not resolve: lookup did not complete"),
    );
    let cells = [
        (
            0,
            "192.0.2.7",
            Role::Printer,
            Some(printer),
            CheckId::Snmp,
            161,
        ),
        (
            1,
            "gone.example.test",
            Role::Printer,
            None,
            CheckId::Snmp,
            161,
        ),
        (
            0,
            "192.0.2.7",
            Role::Printer,
            Some(printer),
            CheckId::Raw,
            9100,
        ),
        (
            1,
            "gone.example.test",
            Role::Printer,
            None,
            CheckId::Raw,
            9100,
        ),
        (
            2,
            "192.0.2.25:2525",
            Role::Smtp,
            Some(smtp),
            CheckId::Smtp,
            2525,
        ),
    ];
    let columns = [CheckId::Snmp, CheckId::Raw, CheckId::Smtp];
    let mut collector = Collector::new(&columns, &[], format.keep(false));
    for (row, label, role, address, check, port) in cells {
        let finding = match address {
            Some(_) => finding(check),
            None => unresolved.clone(),
        };
        let done = Done {
            row,
            label: Arc::from(label),
            role,
            address,
            check,
            port,
            finding,
        };
        collector.cell(done).unwrap();
    }
    collector.finish(Duration::from_millis(1234), None)
}

fn sample() -> Matrix {
    sample_for(Format::Json)
}

fn table() -> String {
    let mut out = Vec::new();
    let style = Style {
        color: false,
        terminal: false,
        details: false,
        ..Style::default()
    };
    sample_for(Format::Table)
        .render(Format::Table, style, &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn table_golden() {
    let want = "\
┌───────────────────┬─────────┬──────────┬──────────────────┐
│ target            ┆ snmp    ┆ raw      ┆ smtp             │
│                   ┆ udp/161 ┆ tcp/9100 ┆ tcp/2525         │
╞═══════════════════╪═════════╪══════════╪══════════════════╡
│ 192.0.2.7         ┆ closed  ┆ open     ┆ ·                │
│ gone.example.test ┆ error   ┆ error    ┆ ·                │
│ 192.0.2.25:2525   ┆ ·       ┆ ·        ┆ open (no answer) │
└───────────────────┴─────────┴──────────┴──────────────────┘
";
    let got = table();
    assert!(got.starts_with(want), "got:\n{got}");
}

#[test]
fn table_lists_failures_once_per_unresolved_name_then_notes_and_summary() {
    let got = table();
    let details: Vec<&str> = got.lines().skip_while(|l| !l.is_empty()).skip(1).collect();
    assert_eq!(
        details,
        [
            "FAIL 192.0.2.7 snmp udp/161: closed — ICMP port unreachable: nothing listens on the port",
            "     fix: Nothing listens on udp 161: enable SNMP on the device, or check the port \
             number. MVE discovers printers with SNMP: the agent must be on.",
            "FAIL gone.example.test (all 2 checks): error — name 'gone.example.test' did not resolve: lookup did not complete",
            "     fix: Fix the name or this host's DNS: the MVE server must resolve it too.",
            "FAIL 192.0.2.25:2525 smtp tcp/2525: open (no answer) — TCP open, but no SMTP banner \
             answer: no answer before the timeout",
            "     note: a note worth showing",
            "     fix: tcp 2525 answers, but not as the mail server: check that the mail server \
             runs on this port and that no other service holds it.",
            "",
            "5 cells on 3 targets: 1 pass, 0 warn, 4 fail (1.2s)",
        ]
    );
}

#[test]
fn json_carries_schema_cells_and_evidence() {
    let mut out = Vec::new();
    let style = Style {
        color: false,
        terminal: false,
        details: false,
        ..Style::default()
    };
    sample().render(Format::Json, style, &mut out).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["schema_version"], SCHEMA_VERSION);
    assert_eq!(report["summary"]["fail"], 4);
    assert_eq!(report["checks"], serde_json::json!(["snmp", "raw", "smtp"]));
    let cells = report["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 5);
    let raw = cells
        .iter()
        .find(|c| c["check"] == "raw" && c["address"] == "192.0.2.7")
        .unwrap();
    assert_eq!(raw["state"], "open");
    assert_eq!(raw["verdict"], "pass");
    assert_eq!(raw["evidence"]["rtt_ms"], 0.812);
    assert!(raw.get("hint").is_none());
    let snmp = cells
        .iter()
        .find(|c| c["check"] == "snmp" && c["address"] == "192.0.2.7")
        .unwrap();
    assert_eq!(snmp["evidence"]["errno"], "ECONNREFUSED");
    assert!(snmp["hint"].is_string());
    let gone = cells
        .iter()
        .find(|c| c["target"] == "gone.example.test")
        .unwrap();
    assert!(gone["address"].is_null());
    assert_eq!(gone["state"], "error");
    let smtp = cells.iter().find(|c| c["check"] == "smtp").unwrap();
    assert_eq!(smtp["state"], "open");
    assert_eq!(smtp["reason"], "no-answer");
    assert_eq!(smtp["verdict"], "fail");
    assert!(
        smtp["hint"]
            .as_str()
            .unwrap()
            .contains("not as the mail server"),
        "{smtp}"
    );
    assert!(
        raw.get("reason").is_none(),
        "connect-only: open is all it can show"
    );
}

fn rendered(format: Format) -> String {
    let mut out = Vec::new();
    let style = Style {
        color: false,
        terminal: false,
        details: false,
        ..Style::default()
    };
    sample_for(format).render(format, style, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn jsonl_is_one_cell_per_line_then_the_summary() {
    let text = rendered(Format::Jsonl);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["check"], "snmp");
    assert_eq!(lines[5]["kind"], "summary");
    assert_eq!(lines[5]["summary"]["fail"], 4);
}

#[test]
fn csv_has_a_header_and_a_row_per_cell() {
    let text = rendered(Format::Csv);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(lines[0].starts_with("target,address,check,transport,port,required,state,verdict"));
    assert!(
        lines[1].starts_with("192.0.2.7,192.0.2.7,snmp,udp,161,true,closed,fail,"),
        "{}",
        lines[1]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("gone.example.test,,snmp,")),
        "{text}"
    );
}

#[test]
fn junit_has_a_case_per_cell_and_a_failure_per_failed_cell() {
    let text = rendered(Format::Junit);
    assert!(text.starts_with("<?xml"));
    assert_eq!(text.matches("<testcase ").count(), 5);
    assert_eq!(text.matches("<failure ").count(), 4);
    assert!(
        text.contains(r#"<testsuites name="mve-audit" tests="5" failures="4""#),
        "{text}"
    );
    assert!(text.contains("name=\"192.0.2.7 snmp udp/161\""), "{text}");
    assert_eq!(text.matches('<').count(), text.matches('>').count());
}

/// Every format from the one sample result set, golden in `src/report/snapshots/`.
#[test]
fn every_format_is_golden() {
    for format in Format::ALL {
        insta::assert_snapshot!(format.name(), rendered(format));
    }
    let style = Style {
        summary: true,
        ..Style::default()
    };
    let mut out = Vec::new();
    sample_for(Format::Table)
        .render(Format::Table, style, &mut out)
        .unwrap();
    insta::assert_snapshot!("table-summary", String::from_utf8(out).unwrap());
}

/// The committed JSON Schema accepts the report (the sample and a merged one) and refuses a
/// report that breaks it.
#[test]
fn json_reports_validate_against_the_committed_schema() {
    let schema_text = include_str!("../../schemas/report-v1.schema.json");
    let schema: serde_json::Value = serde_json::from_str(schema_text).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler.add_resource("report-v1.json", schema).unwrap();
    let index = compiler.compile("report-v1.json", &mut schemas).unwrap();
    let report: serde_json::Value = serde_json::from_str(&rendered(Format::Json)).unwrap();
    if let Err(err) = schemas.validate(&report, index) {
        panic!("the sample report breaks the schema: {err}");
    }
    let merged = sample_for(Format::Json).with_vantage(Some("site-a"));
    let mut out = Vec::new();
    merged
        .render(Format::Json, Style::default(), &mut out)
        .unwrap();
    let merged: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(merged["cells"][0]["vantage"], "site-a");
    assert!(schemas.validate(&merged, index).is_ok());
    let mut broken = report.clone();
    broken["cells"][0]["state"] = "maybe".into();
    assert!(
        schemas.validate(&broken, index).is_err(),
        "an unknown state"
    );
    let mut broken = report;
    broken["cells"][0]["port"] = 70_000.into();
    assert!(schemas.validate(&broken, index).is_err(), "port 70000");
}

#[test]
fn junit_parses_as_xml_with_a_case_per_cell() {
    let text = rendered(Format::Junit);
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 5);
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .filter_map(|c| c.attribute("name"))
        .collect();
    assert_eq!(
        failed,
        [
            "192.0.2.7 snmp udp/161",
            "gone.example.test snmp udp/161",
            "gone.example.test raw tcp/9100",
            "192.0.2.25:2525 smtp tcp/2525"
        ]
    );
}

#[test]
fn csv_parses_back_a_row_per_cell() {
    let text = rendered(Format::Csv);
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let state = headers.iter().position(|h| h == "state").unwrap();
    let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.len() == headers.len()));
    assert_eq!(&rows[0][state], "closed");
}

/// A fleet of 1,024 printers in four kinds, from a fixed result set: the summary groups each
/// kind into one line with its address range, and a dark printer is diagnosed as a host.
#[test]
fn a_fleet_summary_groups_failures_into_ranges() {
    let matrix = fleet_of(1024);
    let style = Style {
        summary: true,
        ..Style::default()
    };
    let mut out = Vec::new();
    matrix.render(Format::Table, style, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    insta::assert_snapshot!("fleet-summary", text);
    let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(fails.len(), 3, "{text}");
    // Only snmp, http and raw ran: the summary names them, not "every MVE service".
    assert!(text.contains(
        "256 printers 127.77.1.0–127.77.1.255: no answer on any port checked (snmp, http, \
         raw): host down, wrong address, or everything dropped on the way"
    ));
    assert!(text.contains(
        "256 printers 127.77.2.0–127.77.2.255: up, every port checked is closed: snmp, http, \
         raw (TCP reset, UDP port unreachable)"
    ));
    assert!(!text.contains("every MVE service"), "{text}");
    assert!(
        text.contains("256 printers 127.77.3.0–127.77.3.255: snmp open|filtered, raw filtered")
    );
    assert!(text.contains("256 hosts passed every check."));
}

/// "Every MVE service off" is said only when every printer check ran.
#[test]
fn host_diagnoses_are_worded_from_the_checks_that_ran() {
    use crate::report::fleet::HostDiagnosis;
    let every: Vec<CheckId> = CheckId::ALL
        .into_iter()
        .filter(|c| c.path().role == Role::Printer && c.path().is_outbound())
        .collect();
    assert_eq!(
        HostDiagnosis::AllOff.text(Role::Printer, &every),
        "up, every MVE service off (TCP reset, UDP port unreachable)"
    );
    assert_eq!(
        HostDiagnosis::AllOff.text(Role::Printer, &[CheckId::Raw, CheckId::Http]),
        "up, every port checked is closed: raw, http (TCP reset)"
    );
    assert!(
        HostDiagnosis::Dark
            .text(Role::Printer, &[CheckId::Snmp])
            .contains("no answer on any port checked (snmp)")
    );
}

/// 1,024 printers from 127.77.0.0: a quarter fine, a quarter dark, a quarter with every
/// service off, a quarter with SNMP and RAW dropped.
fn fleet_of(count: u32) -> Matrix {
    let columns = [CheckId::Snmp, CheckId::Http, CheckId::Raw];
    let mut collector = Collector::new(&columns, &[], Format::Table.keep(false));
    for index in 0..count {
        let address = IpAddr::from(std::net::Ipv4Addr::from(0x7f4d_0000 + index));
        for check in columns {
            let quarter = index / (count / 4);
            let state = match (quarter, check) {
                (0, _) => State::Verified,
                (1, CheckId::Snmp) => State::OpenFiltered,
                (1, _) => State::Filtered,
                (2, _) => State::Closed,
                (_, CheckId::Snmp) => State::OpenFiltered,
                (_, CheckId::Raw) => State::Filtered,
                (_, _) => State::Verified,
            };
            let done = Done {
                row: index as usize,
                label: Arc::from(address.to_string()),
                role: Role::Printer,
                address: Some(address),
                check,
                port: check.path().peer.default_port().unwrap_or(1),
                finding: Finding::new(state, Evidence::new("fixed")),
            };
            collector.cell(done).unwrap();
        }
    }
    collector.finish(Duration::from_secs(10), None)
}

/// What the second looks saw of the path is in every format (issue 18).
#[test]
fn the_path_fact_is_in_every_format() {
    let mut matrix = sample_for(Format::Json);
    if let Some(cell) = matrix.cells.iter_mut().find(|c| c.check == CheckId::Raw) {
        cell.second_look = Some(crate::results::SecondLook::Answered);
    }
    let fact = "1 silent cell probed again, 1 answered: the path loses packets";
    for format in Format::ALL {
        let mut out = Vec::new();
        matrix.render(format, Style::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        match format {
            Format::Json | Format::Jsonl => {
                assert!(
                    text.contains("\"second_looks\":1") || text.contains("\"second_looks\": 1"),
                    "{format:?}: {text}"
                );
                assert!(text.contains("\"answered_second\""), "{format:?}: {text}");
            }
            Format::OpenMetrics => {
                assert!(text.contains("\nmve_audit_second_looks 1\n"), "{text}");
                assert!(
                    text.contains("\nmve_audit_second_looks_answered 1\n"),
                    "{text}"
                );
            }
            _ => assert!(text.contains(fact), "{format:?}: {text}"),
        }
    }
}

/// One printer's matrix from its cells' states (and the mDNS security, if any).
fn host_of(cells: &[(CheckId, State)], security: Option<crate::results::Security>) -> Matrix {
    let columns: Vec<CheckId> = cells.iter().map(|(c, _)| *c).collect();
    let mut collector = Collector::new(&columns, &[], Format::Table.keep(false));
    let address = IpAddr::from([127, 0, 9, 1]);
    for (check, state) in cells {
        let finding = Finding {
            security: if *check == CheckId::Mdns {
                security
            } else {
                None
            },
            ..Finding::new(*state, Evidence::new("fixed"))
        };
        collector
            .cell(Done {
                row: 0,
                label: Arc::from("127.0.9.1"),
                role: Role::Printer,
                address: Some(address),
                check: *check,
                port: check.path().peer.default_port().unwrap_or(1),
                finding,
            })
            .unwrap();
    }
    collector.finish(Duration::from_secs(1), None)
}

fn summary_text(matrix: &Matrix) -> String {
    let style = Style {
        summary: true,
        ..Style::default()
    };
    let mut out = Vec::new();
    matrix.render(Format::Table, style, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The patterns a support engineer names are diagnosed for the host, with their fix; a host
/// that fits none keeps its list of causes.
#[test]
fn named_host_diagnoses() {
    use State::{Closed, Filtered, Open, OpenFiltered, Verified};
    type Case<'a> = (&'a [(CheckId, State)], &'a str, &'a str);
    let rows: &[Case<'_>] = &[
        (
            &[
                (CheckId::Snmp, Verified),
                (CheckId::Npap, Open),
                (CheckId::Http, Closed),
                (CheckId::Https, Filtered),
                (CheckId::Raw, Closed),
            ],
            "UDP answers but every TCP path is refused or dropped",
            "Restricted Server List",
        ),
        (
            &[
                (CheckId::Snmp, OpenFiltered),
                (CheckId::Npap, OpenFiltered),
                (CheckId::Mdns, Filtered),
                (CheckId::Http, Verified),
                (CheckId::Raw, Open),
            ],
            "TCP answers but every UDP path is silent",
            "drops UDP",
        ),
        (
            &[
                (CheckId::Snmp, Verified),
                (CheckId::Http, Closed),
                (CheckId::Https, Verified),
                (CheckId::Raw, Open),
            ],
            "HTTPS answers but HTTP is refused",
            "HTTP (80) is disabled",
        ),
    ];
    for (cells, diagnosis, fix) in rows {
        let text = summary_text(&host_of(cells, None));
        assert!(text.contains(diagnosis), "{cells:?}:\n{text}");
        assert!(text.contains(fix), "{cells:?}:\n{text}");
    }
    // HTTP refused with another failure too: no HTTP diagnosis, the causes are listed.
    let text = summary_text(&host_of(
        &[
            (CheckId::Snmp, Closed),
            (CheckId::Http, Closed),
            (CheckId::Https, Verified),
        ],
        None,
    ));
    assert!(!text.contains("HTTP is disabled"), "{text}");
    assert!(text.contains("snmp closed, http closed"), "{text}");
}

/// A printer that says it is secured is counted in the summary, the matrix view and every
/// format that summarises; one that says it is not is not.
#[test]
fn secured_printers_are_counted() {
    use crate::results::Security;
    let secured = Security::from_host_config(&[
        ("SECUREMODE".into(), "TRUE".into()),
        ("PASSWORDSET".into(), "0".into()),
    ]);
    assert_eq!(
        secured,
        Some(Security {
            secure_mode: Some(true),
            password_set: Some(false)
        })
    );
    let open = Security::from_host_config(&[("SECUREMODE".into(), "off".into())]);
    assert!(!open.unwrap().is_secured());
    assert_eq!(
        Security::from_host_config(&[("OTHER".into(), "1".into())]),
        None
    );
    let cells = [
        (CheckId::Mdns, State::Verified),
        (CheckId::Raw, State::Open),
    ];
    let matrix = host_of(&cells, secured);
    let line = "1 printer is secured (SECUREMODE or PASSWORDSET in the mDNS host-config): MVE \
                needs their credentials, and mDNS must reach them.";
    assert!(summary_text(&matrix).contains(line));
    for format in [Format::Table, Format::Markdown, Format::Html] {
        let mut out = Vec::new();
        matrix.render(format, Style::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("1 printer is secured"), "{format:?}: {text}");
    }
    let mut out = Vec::new();
    matrix
        .render(Format::Json, Style::default(), &mut out)
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["cells"][0]["security"]["secure_mode"], true);
    let plain = host_of(&cells, open);
    assert!(!summary_text(&plain).contains("secured"));
}
