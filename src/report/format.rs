//! The output formats, one spec each: the name a user writes, its help, how much of a passing
//! cell's evidence it keeps, whether it streams cell by cell, and its renderer. Adding a format
//! is a variant here (the exhaustive `spec` refuses to compile without its entry) and its
//! renderer's file.

use std::io::{self, Write};

use super::dry_run::{self, DryRun};
use super::model::Matrix;
use super::style::{Render, Style};
use super::{csv, html, json, jsonl, junit, markdown, openmetrics, table};

/// The output formats of `check`, `listen`, `send` and `merge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Junit,
    Markdown,
    Html,
    OpenMetrics,
}

/// How much of a passing cell's evidence a format shows, and so how much a run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Everything.
    All,
    /// The summary line and round-trip time.
    Summary,
    /// Only notes: a passing cell shows its state alone.
    Notes,
}

/// The formats written cell by cell as probes finish, before the run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Csv,
    Jsonl,
}

/// Everything about one format.
pub struct FormatSpec {
    /// The name a user writes.
    pub name: &'static str,
    /// What the format is for, for `--help`.
    pub help: &'static str,
    /// The evidence kept, and kept with `--details`.
    pub keep: Keep,
    pub keep_with_details: Keep,
    /// Written cell by cell, when it streams.
    pub stream: Option<Stream>,
    /// What a file of this format is named with (`--output report.json`).
    pub extensions: &'static [&'static str],
    pub renderer: &'static dyn Render,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Table,
        Format::Json,
        Format::Jsonl,
        Format::Csv,
        Format::Junit,
        Format::Markdown,
        Format::Html,
        Format::OpenMetrics,
    ];

    pub const fn spec(self) -> FormatSpec {
        match self {
            Format::Table => FormatSpec {
                name: "table",
                help: "A matrix for people, coloured on a terminal",
                keep: Keep::Notes,
                keep_with_details: Keep::All,
                stream: None,
                extensions: &["txt"],
                renderer: &table::Table,
            },
            Format::Json => FormatSpec {
                name: "json",
                help: "The full results, for programs",
                keep: Keep::All,
                keep_with_details: Keep::All,
                stream: None,
                extensions: &["json"],
                renderer: &json::Json,
            },
            Format::Jsonl => FormatSpec {
                name: "jsonl",
                help: "One JSON object per cell and a summary line, for log pipelines",
                keep: Keep::All,
                keep_with_details: Keep::All,
                stream: Some(Stream::Jsonl),
                extensions: &["jsonl", "ndjson"],
                renderer: &jsonl::Jsonl,
            },
            Format::Csv => FormatSpec {
                name: "csv",
                help: "One row per cell, for spreadsheets",
                keep: Keep::All,
                keep_with_details: Keep::All,
                stream: Some(Stream::Csv),
                extensions: &["csv"],
                renderer: &csv::Csv,
            },
            Format::Junit => FormatSpec {
                name: "junit",
                help: "JUnit XML, one test case per cell, for CI systems",
                keep: Keep::Summary,
                keep_with_details: Keep::Summary,
                stream: None,
                extensions: &["xml"],
                renderer: &junit::Junit,
            },
            Format::Markdown => FormatSpec {
                name: "markdown",
                help: "A Markdown table and the failures, for tickets",
                keep: Keep::Notes,
                keep_with_details: Keep::Notes,
                stream: None,
                extensions: &["md", "markdown"],
                renderer: &markdown::Markdown,
            },
            Format::Html => FormatSpec {
                name: "html",
                help: "One self-contained HTML page: summary, matrix, evidence and fixes",
                keep: Keep::Notes,
                keep_with_details: Keep::All,
                stream: None,
                extensions: &["html", "htm"],
                renderer: &html::Html,
            },
            Format::OpenMetrics => FormatSpec {
                name: "openmetrics",
                help: "OpenMetrics (Prometheus) text: a gauge per cell, for node_exporter's \
                       textfile collector",
                keep: Keep::Summary,
                keep_with_details: Keep::Summary,
                stream: None,
                extensions: &["prom", "om"],
                renderer: &openmetrics::OpenMetrics,
            },
        }
    }

    /// The name a user writes.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// What the format is for, for `--help`.
    pub fn help(self) -> &'static str {
        self.spec().help
    }

    /// The evidence a run in this format keeps.
    pub fn keep(self, details: bool) -> Keep {
        let spec = self.spec();
        if details {
            spec.keep_with_details
        } else {
            spec.keep
        }
    }

    /// The format a file's extension names (case-insensitive), if any.
    pub fn for_extension(extension: &str) -> Option<Format> {
        let extension = extension.to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.spec().extensions.contains(&extension.as_str()))
    }

    /// Whether the format is written cell by cell (the others need the whole matrix).
    pub fn stream(self) -> Option<Stream> {
        self.spec().stream
    }
}

impl Format {
    /// Draws a dry run's plan: JSON for the formats programs read, else text.
    pub fn render_dry_run(self, plan: &DryRun, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Format::Json | Format::Jsonl => dry_run::write_json(plan, out),
            Format::Table
            | Format::Csv
            | Format::Junit
            | Format::Markdown
            | Format::Html
            | Format::OpenMetrics => dry_run::write_text(plan, out),
        }
    }
}

// Drawing a matrix is the formats' business, so this method of the model lives here: the
// model knows no format.
impl Matrix {
    /// Draws the matrix in `format`.
    pub fn render(&self, format: Format, style: Style, out: &mut dyn Write) -> io::Result<()> {
        format.spec().renderer.render(self, style, out)
    }
}

/// The formats of `catalog` and `local`, whose output is a list, not a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
}

impl ListFormat {
    pub const ALL: [ListFormat; 2] = [ListFormat::Table, ListFormat::Json];

    /// The name a user writes.
    pub fn name(self) -> &'static str {
        match self {
            ListFormat::Table => "table",
            ListFormat::Json => "json",
        }
    }
}
