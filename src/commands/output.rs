//! Where a report goes: standard output, or `--output FILE` written atomically: into a
//! temporary file in the same directory, renamed over FILE only once the report is complete,
//! so a reader (or a CI step) never sees half a report and an interrupted run leaves the old
//! file as it was.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// An open destination.
pub enum Output {
    Stdout(io::StdoutLock<'static>),
    File {
        path: PathBuf,
        temp: BufWriter<NamedTempFile>,
    },
}

impl Output {
    pub fn open(path: Option<&Path>) -> io::Result<Output> {
        let Some(path) = path else {
            return Ok(Output::Stdout(io::stdout().lock()));
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let temp = NamedTempFile::new_in(dir).map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("cannot write {}: {err}", path.display()),
            )
        })?;
        Ok(Output::File {
            path: path.to_path_buf(),
            temp: BufWriter::new(temp),
        })
    }

    /// Whether the report goes to a terminal (and may be coloured and sized to it).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Output::Stdout(_)) && io::stdout().is_terminal()
    }

    /// Ends the report: flushes stdout, or renames the finished file into place.
    pub fn finish(self) -> io::Result<()> {
        match self {
            Output::Stdout(mut out) => out.flush(),
            Output::File { path, temp } => {
                let temp = temp.into_inner().map_err(io::IntoInnerError::into_error)?;
                temp.as_file().sync_all()?;
                temp.persist(&path).map_err(|err| err.error)?;
                // A report is as readable as any file the user makes (NamedTempFile is 0600).
                let _ = crate::platform::files::make_readable(&path);
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(buf),
            Output::File { temp, .. } => temp.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::File { temp, .. } => temp.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn a_report_appears_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        fs::write(&path, "old").unwrap();
        let mut out = Output::open(Some(&path)).unwrap();
        out.write_all(b"new report").unwrap();
        out.flush().unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "old",
            "not yet in place"
        );
        out.finish().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new report");
        // A run that ends early (dropped, never finished) leaves the old file and no temp.
        let mut cut = Output::open(Some(&path)).unwrap();
        cut.write_all(b"half").unwrap();
        drop(cut);
        assert_eq!(fs::read_to_string(&path).unwrap(), "new report");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_unwritable_directory_names_the_file() {
        let err = Output::open(Some(Path::new("/nonexistent-dir/report.json")))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("/nonexistent-dir/report.json"),
            "{err}"
        );
    }
}
