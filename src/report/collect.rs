//! From finished probes to cells, and where cells go: streamed out as each finishes (jsonl,
//! csv), or kept in a compact record until the matrix can be drawn (table, json, junit,
//! markdown). Verdicts and fix hints come decided from `results::Judge`.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use super::format::{Keep, Stream};
use super::model::{Cell, Matrix, NO_EVIDENCE, Summary, TargetRow};
use super::{csv, jsonl};
use crate::catalog::CheckId;
use crate::results::{Done, Evidence, Judge, Judged, Verdict};

/// Turns a finished probe into a cell: verdict, fix hint, evidence.
#[derive(Debug)]
pub struct CellMaker {
    judge: Judge,
    /// Trimmed evidence is often the same for thousands of cells (every dark printer's "no
    /// answer to the TCP SYN within 2s"): kept once, shared. At most `SHARED_MAX` distinct
    /// records are remembered, so a run whose evidence is all different costs no more.
    shared: HashSet<Trimmed>,
}

/// How many distinct trimmed evidence records `CellMaker` remembers for sharing.
const SHARED_MAX: usize = 4096;

/// Trimmed evidence, compared by the fields a trimmed record keeps.
#[derive(Debug)]
struct Trimmed(Arc<Evidence>);

impl Trimmed {
    fn key(&self) -> (&str, &[String], Option<u64>) {
        let e = &*self.0;
        (&e.summary, &e.notes, e.rtt_ms.map(f64::to_bits))
    }
}

impl PartialEq for Trimmed {
    fn eq(&self, other: &Trimmed) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Trimmed {}

impl Hash for Trimmed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl CellMaker {
    pub fn new(promoted: &[CheckId]) -> CellMaker {
        CellMaker {
            judge: Judge::new(promoted),
            shared: HashSet::new(),
        }
    }

    /// What of `evidence` the format shows, shared with identical records already kept.
    fn kept(&mut self, evidence: Evidence, keep: Keep, verdict: Verdict) -> Arc<Evidence> {
        let trimmed = match keep {
            Keep::All => return Arc::new(evidence),
            Keep::Notes if verdict == Verdict::Pass && evidence.notes.is_empty() => {
                return NO_EVIDENCE.clone();
            }
            // The formats that show a failing cell show its summary and notes, not its facts;
            // junit also its time.
            Keep::Summary | Keep::Notes => Evidence {
                summary: evidence.summary,
                notes: if keep == Keep::Summary && verdict == Verdict::Pass {
                    Vec::new()
                } else {
                    evidence.notes
                },
                rtt_ms: if keep == Keep::Summary {
                    evidence.rtt_ms
                } else {
                    None
                },
                ..Evidence::default()
            },
        };
        let trimmed = Trimmed(Arc::new(trimmed));
        if let Some(same) = self.shared.get(&trimmed) {
            return same.0.clone();
        }
        let kept = trimmed.0.clone();
        if self.shared.len() < SHARED_MAX {
            self.shared.insert(trimmed);
        }
        kept
    }

    fn make(&mut self, done: Done, keep: Keep) -> Cell {
        let Judged {
            required,
            verdict,
            hint,
            unproven,
        } = self.judge.judge(&done);
        let Done {
            row,
            label,
            address,
            check,
            port,
            finding,
            ..
        } = done;
        let evidence = self.kept(finding.evidence, keep, verdict);
        Cell {
            row,
            target: label,
            address,
            check,
            transport: check.path().transport,
            port,
            required,
            state: finding.state,
            unproven,
            second_look: finding.second_look,
            verdict,
            evidence,
            hint,
            security: finding.security,
        }
    }
}

/// Where finished cells go.
pub trait Sink {
    fn cell(&mut self, done: Done) -> io::Result<()>;
    /// The verdicts so far.
    fn summary(&self) -> Summary;
}

/// Keeps a compact record per cell for the formats that need the whole matrix.
#[derive(Debug)]
pub struct Collector {
    maker: CellMaker,
    keep: Keep,
    columns: Vec<CheckId>,
    rows: Vec<Option<TargetRow>>,
    cells: Vec<Cell>,
    summary: Summary,
}

impl Collector {
    pub fn new(columns: &[CheckId], promoted: &[CheckId], keep: Keep) -> Collector {
        Collector {
            maker: CellMaker::new(promoted),
            keep,
            columns: columns.to_vec(),
            rows: Vec::new(),
            cells: Vec::new(),
            summary: Summary::default(),
        }
    }

    /// The matrix, rows in the order targets were given and cells in row and column order.
    pub fn finish(
        self,
        duration: Duration,
        interrupted: Option<crate::platform::signals::Interrupt>,
    ) -> Matrix {
        let Collector {
            columns,
            rows,
            mut cells,
            ..
        } = self;
        let rows: Vec<TargetRow> = rows
            .into_iter()
            .map(|row| {
                // Every row has a cell once the run completes; a row of a run cut short
                // keeps its place.
                row.unwrap_or_else(|| TargetRow {
                    target: Arc::from("(not probed)"),
                    role: crate::catalog::Role::Printer,
                    address: None,
                    vantage: None,
                })
            })
            .collect();
        let column = |check: CheckId| columns.iter().position(|c| *c == check);
        // Keys are unique (one cell per row and check): an unstable sort, with no buffer.
        cells.sort_unstable_by_key(|cell| (cell.row, column(cell.check)));
        Matrix {
            rows,
            columns,
            cells,
            duration,
            interrupted,
        }
    }
}

impl Sink for Collector {
    fn cell(&mut self, done: Done) -> io::Result<()> {
        let index = done.row;
        if self.rows.len() <= index {
            self.rows.resize(index + 1, None);
        }
        if self.rows[index].is_none() {
            self.rows[index] = Some(TargetRow {
                target: done.label.clone(),
                role: done.role,
                address: done.address,
                vantage: None,
            });
        }
        let cell = self.maker.make(done, self.keep);
        self.summary.count_cell(&cell);
        self.cells.push(cell);
        Ok(())
    }

    fn summary(&self) -> Summary {
        self.summary
    }
}

/// Writes each cell as it finishes (jsonl, csv); keeps only the counts.
pub struct Streamer<W: Write> {
    maker: CellMaker,
    stream: Stream,
    /// The run's `--vantage`, on every line.
    vantage: Option<Arc<str>>,
    out: W,
    summary: Summary,
}

impl<W: Write> Streamer<W> {
    /// A stream of `stream`'s format (`Format::stream`).
    pub fn new(
        stream: Stream,
        promoted: &[CheckId],
        vantage: Option<&str>,
        mut out: W,
    ) -> io::Result<Self> {
        if stream == Stream::Csv {
            csv::write_header(&mut out)?;
        }
        out.flush()?;
        Ok(Streamer {
            maker: CellMaker::new(promoted),
            stream,
            vantage: vantage.map(Arc::from),
            out,
            summary: Summary::default(),
        })
    }

    /// Ends the stream (jsonl: the summary line; a partial stream says so) and hands back
    /// the writer.
    pub fn finish(
        mut self,
        duration: Duration,
        interrupted: Option<crate::platform::signals::Interrupt>,
    ) -> io::Result<W> {
        match self.stream {
            Stream::Jsonl => {
                jsonl::write_summary(self.summary, duration, interrupted, &mut self.out)?
            }
            Stream::Csv => csv::write_end(interrupted, &mut self.out)?,
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Sink for Streamer<W> {
    fn cell(&mut self, done: Done) -> io::Result<()> {
        let cell = self.maker.make(done, Keep::All);
        self.summary.count_cell(&cell);
        match self.stream {
            Stream::Csv => csv::write_cell(&cell, self.vantage.as_deref(), &mut self.out)?,
            Stream::Jsonl => jsonl::write_cell(&cell, self.vantage.as_deref(), &mut self.out)?,
        }
        // Each cell reaches a pipe or file as it finishes, not when a buffer fills.
        self.out.flush()
    }

    fn summary(&self) -> Summary {
        self.summary
    }
}
