//! Tests of `report` for a run cut short (issue 27): an unfinished cell has no verdict, and
//! every format, the counts, the schema and the diff say so, where they used to call it a
//! warning (and JUnit a passed test).

use std::sync::Arc;
use std::time::Duration;

use super::diff::{Change, Diff, Keyed};
use super::fleet::FleetSummary;
use super::*;
use crate::catalog::{CheckId, Role};
use crate::platform::signals::Interrupt;
use crate::results::{Done, Evidence, Finding, State, Verdict};

/// One printer: raw closed (a failure), snmp not finished when SIGTERM came.
fn partial(format: Format) -> Matrix {
    let columns = [CheckId::Snmp, CheckId::Raw];
    let mut collector = Collector::new(&columns, &[], format.keep(false));
    for (check, state, summary) in [
        (CheckId::Raw, State::Closed, "TCP reset"),
        (
            CheckId::Snmp,
            State::Unfinished,
            "the run stopped before this probe ended",
        ),
    ] {
        collector
            .cell(Done {
                row: 0,
                label: Arc::from("192.0.2.7"),
                role: Role::Printer,
                address: "192.0.2.7".parse().ok(),
                check,
                port: check.path().peer.default_port().unwrap_or(1),
                finding: Finding::new(state, Evidence::new(summary)),
            })
            .unwrap();
    }
    collector.finish(Duration::from_millis(5), Some(Interrupt::SigTerm))
}

fn draw(format: Format) -> String {
    let mut out = Vec::new();
    partial(format)
        .render(format, Style::default(), &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn an_unfinished_cell_has_no_verdict_and_is_counted_apart() {
    let matrix = partial(Format::Json);
    let snmp = matrix
        .cells
        .iter()
        .find(|c| c.check == CheckId::Snmp)
        .unwrap();
    assert_eq!(snmp.verdict, Verdict::Unfinished);
    let summary = matrix.summary();
    assert_eq!(
        (summary.pass, summary.warn, summary.fail, summary.unfinished),
        (0, 0, 1, 1)
    );
    let fleet = FleetSummary::of(&matrix);
    let snmp = fleet
        .by_check
        .iter()
        .find(|c| c.check == Some(CheckId::Snmp))
        .unwrap();
    assert_eq!((snmp.warn, snmp.unfinished), (0, 1), "{snmp:?}");
}

#[test]
fn every_format_says_unfinished_not_warn() {
    let json: serde_json::Value = serde_json::from_str(&draw(Format::Json)).unwrap();
    let verdicts: Vec<&str> = json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["unfinished", "fail"]);
    let jsonl = draw(Format::Jsonl);
    assert!(jsonl.contains(r#""verdict":"unfinished""#), "{jsonl}");
    let csv = draw(Format::Csv);
    assert!(csv.contains(",unfinished,unfinished,"), "{csv}");
    let table = draw(Format::Table);
    assert!(table.contains("UNFINISHED 192.0.2.7 snmp"), "{table}");
    assert!(!table.contains("WARN"), "{table}");
    let markdown = draw(Format::Markdown);
    assert!(markdown.contains("*unfinished* (no verdict)"), "{markdown}");
    assert!(markdown.contains("**UNFINISHED**"), "{markdown}");
    let html = draw(Format::Html);
    assert!(html.contains(r#"<td class="unfinished""#), "{html}");
    let metrics = draw(Format::OpenMetrics);
    assert!(metrics.contains(r#"verdict="unfinished""#), "{metrics}");
    assert!(!metrics.contains(r#"state="unfinished",verdict="warn""#));
}

/// A CI system shows a case that did not run as skipped, never as passed.
#[test]
fn junit_skips_an_unfinished_cell() {
    let text = draw(Format::Junit);
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("skipped"), Some("1"));
    let snmp = doc
        .descendants()
        .find(|n| n.attribute("name").is_some_and(|n| n.contains("snmp")))
        .unwrap();
    assert!(snmp.children().any(|n| n.has_tag_name("skipped")), "{text}");
    assert!(!text.contains("WARN"), "{text}");
}

#[test]
fn the_schema_knows_unfinished_only_for_an_unfinished_cell() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schemas/report-v1.schema.json")).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("report-v1.json", schema).unwrap();
    let index = compiler.compile("report-v1.json", &mut schemas).unwrap();
    let report: serde_json::Value = serde_json::from_str(&draw(Format::Json)).unwrap();
    if let Err(err) = schemas.validate(&report, index) {
        panic!("a partial report breaks the schema: {err}");
    }
    // Cells are in column order: snmp (unfinished) first.
    let mut warned = report.clone();
    warned["cells"][0]["verdict"] = "warn".into();
    assert!(
        schemas.validate(&warned, index).is_err(),
        "unfinished, warn"
    );
    let mut finished = report;
    finished["cells"][1]["verdict"] = "unfinished".into();
    assert!(
        schemas.validate(&finished, index).is_err(),
        "closed, unfinished"
    );
}

fn cell(state: State, verdict: Verdict) -> Cell {
    let mut cell = partial(Format::Json).cells.remove(0);
    cell.state = state;
    cell.verdict = verdict;
    cell
}

fn change(old: &Cell, new: &Cell) -> Option<Change> {
    let keyed = |cell| {
        vec![Keyed {
            vantage: None,
            cell,
        }]
    };
    let diff = Diff::of("old", &keyed(old), "new", &keyed(new));
    diff.changes.first().map(|c| c.change)
}

/// A cell the old run did not finish had no verdict: a failure now is worse, a pass better,
/// a warning a change; a cell the new run did not finish is unfinished, whatever it was.
#[test]
fn a_diff_compares_no_verdict_with_none() {
    let unfinished = cell(State::Unfinished, Verdict::Unfinished);
    let failed = cell(State::Closed, Verdict::Fail);
    let warned = cell(State::OpenFiltered, Verdict::Warn);
    let passed = cell(State::Verified, Verdict::Pass);
    assert_eq!(change(&unfinished, &failed), Some(Change::Worse));
    assert_eq!(change(&unfinished, &warned), Some(Change::Changed));
    assert_eq!(change(&unfinished, &passed), Some(Change::Better));
    for old in [&failed, &warned, &passed] {
        assert_eq!(change(old, &unfinished), Some(Change::Unfinished));
    }
    assert_eq!(change(&unfinished, &unfinished), None);
}
