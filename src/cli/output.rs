//! The output options every subcommand shares, defined once and flattened into each: a
//! report's format (a matrix for `check`, `listen`, `send` and `merge`; a list for `catalog`
//! and `local`) and when to colour it.

use std::path::Path;

use clap::{Args, ValueEnum};

use crate::report::{Format, ListFormat};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set
    Auto,
    Always,
    Never,
}

/// How a matrix report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct MatrixOutput {
    /// Output format [default: what --output's name ends with (.json, .jsonl, .csv, .xml,
    /// .md, .html), else table]
    #[arg(long, value_enum, ignore_case = true, help_heading = "Output")]
    pub format: Option<Format>,
    /// When to colour the table
    #[arg(long, value_enum, ignore_case = true, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
}

impl MatrixOutput {
    /// The format asked for; else the one `output`'s name ends with (`report.json` is
    /// JSON); else the table.
    pub fn format_for(&self, output: Option<&Path>) -> Format {
        self.format
            .or_else(|| {
                output
                    .and_then(|p| p.extension())
                    .and_then(|e| e.to_str())
                    .and_then(Format::for_extension)
            })
            .unwrap_or(Format::Table)
    }
}

/// How a list (the catalog, the local ports) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct ListOutput {
    /// Output format
    #[arg(long, value_enum, ignore_case = true, default_value_t = ListFormat::Table, help_heading = "Output")]
    pub format: ListFormat,
    /// When to colour the table
    #[arg(long, value_enum, ignore_case = true, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
}
