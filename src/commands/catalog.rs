//! `mve-audit catalog`: the static table of every path MVE uses.

use std::io::{self, IsTerminal, Write};

use super::{Outcome, RunError, wants_color};
use crate::cli::CatalogArgs;
use crate::report::{self, ListFormat, Style};

pub fn catalog(args: &CatalogArgs) -> Result<Outcome, RunError> {
    let mut out = io::stdout().lock();
    match args.output.format {
        ListFormat::Table => report::render_catalog_table(
            Style {
                color: wants_color(args.output.color, io::stdout().is_terminal()),
                terminal: io::stdout().is_terminal(),
                width: super::terminal_width(),
                ..Style::default()
            },
            &mut out,
        )?,
        ListFormat::Json => report::render_catalog_json(&mut out)?,
    }
    out.flush()?;
    Ok(Outcome::Passed)
}
