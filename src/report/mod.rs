//! Reports: the matrix model (`model`), the formats with one spec each (`format`), where
//! finished cells go (`collect`: kept for a matrix, or streamed), fleet summaries (`fleet`),
//! and one pure renderer per format, per file. This file only names the parts.
//!
//! Inside `report` the files import downward only: renderers read `model`, `style` and
//! `fleet`; `format` knows the renderers; `collect` knows `format` and the streaming writers.

mod catalog;
mod collect;
mod csv;
pub mod diff;
mod dry_run;
pub mod fleet;
mod format;
mod html;
mod json;
mod jsonl;
mod junit;
mod local;
mod markdown;
mod model;
mod openmetrics;
mod style;
mod table;
mod text;
mod vet;

pub use catalog::{render_catalog_json, render_catalog_table};
pub use collect::{CellMaker, Collector, Sink, Streamer};
pub use dry_run::{DryRun, DryRunCheck, LISTED, LISTED_VERBOSE, ListedTarget, estimate_line};
pub use format::{Format, FormatSpec, Keep, ListFormat, Stream};
pub use json::ReportDocument;
pub use local::{render_local_json, render_local_table};
pub use model::{Cell, Conflict, Matrix, Summary, TargetRow};
pub use style::{Render, Style};
pub use text::visible;
pub use vet::{Flaw, cell_name};

pub use crate::results::SCHEMA_VERSION;

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unfinished_tests;
