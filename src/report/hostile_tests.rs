//! Tests of `report` against text a peer or a report file chose (issue 27): every human format
//! shows control characters escaped, CSV defuses formulas in every column, Markdown lets no
//! HTML or table syntax through, and JUnit shows what it used to drop.

use std::sync::Arc;
use std::time::Duration;

use super::diff::{Diff, Keyed};
use super::text::is_hostile;
use super::*;
use crate::catalog::{CheckId, Role};
use crate::results::{Evidence, State, Verdict};

/// What peers and report files can put in a string.
const HOSTILE: [&str; 7] = [
    "\x1b]0;owned\x07",
    "\x1b[2J",
    "\u{202e}gpj.exe",
    "=HYPERLINK(\"http://x\")",
    "\t=1+1",
    "<script>alert(1)</script>",
    "a|b`c\nd",
];

fn row(target: &str, vantage: &str) -> TargetRow {
    TargetRow {
        target: Arc::from(target),
        role: Role::Printer,
        address: "192.0.2.7".parse().ok(),
        vantage: Some(Arc::from(vantage)),
    }
}

fn cell(row: usize, target: &str, check: CheckId, state: State, verdict: Verdict) -> Cell {
    let mut evidence = Evidence::new(format!("banner {}", HOSTILE.join(" ")));
    evidence.notes.push(format!("note \u{9b}31m{}", HOSTILE[5]));
    Cell {
        row,
        target: Arc::from(target),
        address: "192.0.2.7".parse().ok(),
        check,
        transport: check.path().transport,
        port: check.path().peer.default_port().unwrap_or(1),
        required: true,
        state,
        unproven: None,
        second_look: None,
        verdict,
        evidence: Arc::new(evidence),
        hint: Some(Arc::from(format!("-fix {}", HOSTILE[1]))),
        security: None,
    }
}

/// A merged matrix whose every string is hostile: targets, vantages, evidence, notes, hints,
/// and a conflict between the two vantage points that quotes them.
fn hostile_matrix() -> Matrix {
    let target = "=HYPERLINK(\"http://x\")\x1b[2J,a|b`c\nd";
    let vantages = ["\x1b]0;owned\x07site-a", " @SUM(1)\u{202e}"];
    let rows = vec![row(target, vantages[0]), row(target, vantages[1])];
    let cells = vec![
        cell(0, target, CheckId::Raw, State::Closed, Verdict::Fail),
        cell(0, target, CheckId::Snmp, State::OpenFiltered, Verdict::Warn),
        cell(1, target, CheckId::Raw, State::Filtered, Verdict::Fail),
        cell(1, target, CheckId::Snmp, State::OpenFiltered, Verdict::Warn),
    ];
    Matrix {
        rows,
        columns: vec![CheckId::Snmp, CheckId::Raw],
        cells,
        duration: Duration::from_millis(10),
        interrupted: None,
    }
}

fn draw(matrix: &Matrix, format: Format, style: Style) -> String {
    let mut out = Vec::new();
    matrix.render(format, style, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Every human format, in every view: table (matrix, summary, details), and the others.
fn human_outputs(matrix: &Matrix) -> Vec<(String, String)> {
    let mut outputs = Vec::new();
    for (name, style) in [
        ("table", Style::default()),
        (
            "table --details",
            Style {
                details: true,
                ..Style::default()
            },
        ),
        (
            "table --summary",
            Style {
                summary: true,
                ..Style::default()
            },
        ),
        (
            "table --summary narrow",
            Style {
                summary: true,
                width: Some(40),
                ..Style::default()
            },
        ),
    ] {
        outputs.push((name.to_string(), draw(matrix, Format::Table, style)));
    }
    for format in [
        Format::Markdown,
        Format::Html,
        Format::Csv,
        Format::Junit,
        Format::OpenMetrics,
    ] {
        let style = Style {
            details: true,
            ..Style::default()
        };
        outputs.push((format.name().to_string(), draw(matrix, format, style)));
    }
    outputs
}

/// No raw control or disguising character: line breaks are the format's own, and there are
/// exactly as many as the format writes (none came from the network).
fn assert_clean(name: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| *c != '\n' && is_hostile(*c))
        .collect();
    assert!(raw.is_empty(), "{name} carries {raw:?}:\n{text}");
}

#[test]
fn no_human_format_carries_a_raw_control_character() {
    for (name, text) in human_outputs(&hostile_matrix()) {
        assert_clean(&name, &text);
        // Shown, not dropped: the reader sees what the peer tried (with the format's own
        // escaping of the backslash and the bracket on top).
        let shown = match name.as_str() {
            "markdown" => r"\\x1b\]0;owned\\x07",
            "openmetrics" => r"\\x1b]0;owned\\x07",
            _ => r"\x1b]0;owned\x07",
        };
        assert!(text.contains(shown), "{name}:\n{text}");
        assert!(text.contains(r"\u{202e}"), "{name}:\n{text}");
        assert!(!text.contains("a|b`c\nd"), "{name}:\n{text}");
    }
}

#[test]
fn the_network_line_break_stays_in_its_line() {
    let matrix = hostile_matrix();
    let table = draw(&matrix, Format::Table, Style::default());
    // The target's line break is shown as `\x0a`, so no line starts with what followed it.
    assert!(!table.lines().any(|l| l.starts_with('d')), "{table}");
    assert!(table.contains(r"c\x0ad"), "{table}");
    let conflicts: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("CONFLICT"))
        .collect();
    assert_eq!(conflicts.len(), 1, "{table}");
}

#[test]
fn csv_defuses_a_formula_in_every_column_and_comment_line() {
    let text = draw(&hostile_matrix(), Format::Csv, Style::default());
    let starts = ['=', '+', '-', '@', '＝', '＋', '－', '＠', '\t', '\r'];
    let mut reader = ::csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 4, "{text}");
    for record in &records {
        assert_eq!(record.len(), 14, "{record:?}");
        for field in record {
            let first = field.trim_start().chars().next();
            assert!(!first.is_some_and(|c| starts.contains(&c)), "{field:?}");
        }
    }
    // A spreadsheet does not skip `#` lines: it splits them at commas, and no piece of one
    // may start a formula or a quoted field either.
    let comments: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert!(!comments.is_empty(), "{text}");
    for line in comments {
        for piece in line.split(',') {
            let first = piece.trim_start().chars().next();
            assert!(
                !first.is_some_and(|c| starts.contains(&c) || c == '"'),
                "{piece:?} in {line}"
            );
        }
    }
    // A spreadsheet reads every row as one line: the target's line break is text.
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 5);
}

#[test]
fn markdown_lets_no_html_and_no_table_syntax_through() {
    let mut matrix = hostile_matrix();
    let mut evidence = Evidence::new("<img src=x onerror=alert(1)> ![t](http://t.test/x.png) *b*");
    evidence.notes.clear();
    matrix.cells[0].evidence = Arc::new(evidence);
    let text = draw(&matrix, Format::Markdown, Style::default());
    assert!(!text.contains('<'), "{text}");
    assert!(
        text.contains("&lt;script&gt;") && text.contains("&lt;img"),
        "{text}"
    );
    assert!(text.contains(r"!\[t\](http://t.test/x.png)"), "{text}");
    // Each table row has its own cells: 2 for target and vantage, 2 checks, so 5 pipes that
    // are not escaped.
    for line in text.lines().filter(|l| l.starts_with("| ")) {
        let unescaped = line
            .char_indices()
            .filter(|(i, c)| *c == '|' && (*i == 0 || !line[..*i].ends_with('\\')))
            .count();
        assert_eq!(unescaped, 5, "{line}");
    }
    assert!(text.contains(r"a\|b\`c\\x0ad"), "{text}");
}

#[test]
fn junit_shows_the_controls_it_used_to_drop() {
    let text = draw(&hostile_matrix(), Format::Junit, Style::default());
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    let message = failure.attribute("message").unwrap();
    assert!(message.contains(r"\x1b[2J"), "{message}");
    assert!(
        message.contains("<script>"),
        "the XML parser reads back the text"
    );
}

#[test]
fn a_diff_shows_hostile_text_escaped() {
    let matrix = hostile_matrix();
    let keyed: Vec<Keyed<'_>> = matrix
        .cells
        .iter()
        .map(|cell| Keyed {
            vantage: matrix.rows[cell.row].vantage.clone(),
            cell,
        })
        .collect();
    let mut before = matrix.clone();
    for cell in &mut before.cells {
        cell.verdict = Verdict::Pass;
        cell.state = State::Verified;
    }
    let old: Vec<Keyed<'_>> = before
        .cells
        .iter()
        .map(|cell| Keyed {
            vantage: before.rows[cell.row].vantage.clone(),
            cell,
        })
        .collect();
    let diff = Diff::of("old\x1b[2J.json", &old, "new.json", &keyed);
    let mut table = Vec::new();
    super::diff::write_table(&diff, Style::default(), &mut table).unwrap();
    let table = String::from_utf8(table).unwrap();
    assert_clean("diff table", &table);
    assert!(table.contains(r"old\x1b[2J.json"), "{table}");
    let mut markdown = Vec::new();
    super::diff::write_markdown(&diff, &mut markdown).unwrap();
    let markdown = String::from_utf8(markdown).unwrap();
    assert_clean("diff markdown", &markdown);
    assert!(!markdown.contains('<'), "{markdown}");
}
