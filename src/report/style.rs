//! How a report is drawn (colour, terminal width, how much it shows), and the one interface
//! every renderer implements.

use std::io::{self, Write};

use super::model::Matrix;

/// How a report is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// Drawing for a terminal: wrap to its width.
    pub terminal: bool,
    /// List passing cells' evidence too.
    pub details: bool,
    /// The per-check counts and the failures grouped by cause instead of the matrix.
    pub summary: bool,
    /// The terminal's width, when it reports a usable one.
    pub width: Option<u16>,
}

impl Style {
    /// A table drawn the project's way: condensed box drawing, wrapped to a terminal's width,
    /// coloured only when asked.
    pub(crate) fn table(self) -> comfy_table::Table {
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        if self.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        // A terminal that reports no usable width (0×0 over some serial consoles) would wrap
        // every column to one character: draw at natural width then.
        match self.width {
            Some(width) if self.terminal && width >= 40 => {
                table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
                table.set_width(width);
            }
            _ => {
                table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
            }
        }
        table
    }
}

/// One renderer per format: pure, from a matrix and a style to bytes.
pub trait Render: Sync {
    fn render(&self, matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<()>;
}
