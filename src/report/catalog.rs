//! `mve-audit catalog`: the vendor table as a table or as JSON, oddities included.

use std::io::{self, Write};

use serde::Serialize;

use super::style::Style;
use crate::catalog::{CATALOG, Path};
use crate::results::SCHEMA_VERSION;

pub fn render_catalog_table(style: Style, out: &mut dyn Write) -> io::Result<()> {
    let mut table = style.table();
    table.set_header([
        "id",
        "direction",
        "transport",
        "MVE side",
        "peer port",
        "requirement",
        "used for",
    ]);
    for path in CATALOG.iter() {
        table.add_row([
            path.id_str.to_string(),
            path.direction.as_str().to_string(),
            path.transport.to_string(),
            path.mve_side.to_string(),
            path.peer.to_string(),
            path.requirement.as_str().to_string(),
            path.used_for.to_string(),
        ]);
    }
    writeln!(out, "{table}\n\nNotes:")?;
    for path in CATALOG.iter() {
        for note in path.notes {
            writeln!(out, "  {:<14} {note}", path.id_str)?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct CatalogReport {
    schema_version: u32,
    paths: &'static [Path],
}

pub fn render_catalog_json(out: &mut dyn Write) -> io::Result<()> {
    let report = CatalogReport {
        schema_version: SCHEMA_VERSION,
        paths: &CATALOG,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
