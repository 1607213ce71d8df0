//! Where a report goes: standard output (no `--output`, or `--output -`), or a file.
//!
//! A regular file, or a path where nothing is yet, is written atomically: into a temporary
//! file in the same directory, renamed over the file only once the report is complete, so a
//! reader (or a CI step) never sees half a report and an interrupted run leaves the old file
//! as it was. The file keeps its mode and owner, and one the user may not write is refused
//! as `>` would refuse it, even where its directory would allow the rename. A symlink is followed: the link stays, its
//! target gets the report. Anything that is not a regular file (`/dev/null`, `/dev/stdout`,
//! a FIFO, a terminal) is written directly, never renamed over. Errors name the path as the
//! user gave it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// How the temporary file of an atomic write begins (hidden, and named after the tool).
const TEMP_PREFIX: &str = ".mve-audit-";

/// Symlinks followed before a path is refused as a loop.
const MAX_LINKS: usize = 40;

/// An open destination.
pub enum Output {
    Stdout(io::StdoutLock<'static>),
    /// A regular file, written atomically.
    File {
        /// As the user wrote it, for messages.
        shown: PathBuf,
        /// The file the report replaces (a symlink's target).
        path: PathBuf,
        /// The mode and owner the replaced file had, given to the new one.
        was: Option<Box<fs::Metadata>>,
        temp: BufWriter<NamedTempFile>,
    },
    /// A device, FIFO or other special file, written in place.
    Special {
        shown: PathBuf,
        file: BufWriter<File>,
    },
}

/// `cannot write PATH: why`, naming the user's path and never the temporary file's: tempfile
/// appends ` at path ".../.mve-audit-XXXX"` to its errors (and hides the system error behind
/// it), so that tail is cut off.
fn named(shown: &Path, err: io::Error) -> io::Error {
    let text = err.to_string();
    let why = match text.rfind(" at path ") {
        Some(at) if text[at..].contains(TEMP_PREFIX) => &text[..at],
        _ => &text,
    };
    io::Error::new(
        err.kind(),
        format!("cannot write {}: {why}", shown.display()),
    )
}

/// Where the report for `path` really goes: the path itself, or the end of its symlinks
/// (which may not exist yet).
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(at),
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(at),
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

impl Output {
    pub fn open(path: Option<&Path>) -> io::Result<Output> {
        let shown = match path {
            Some(path) if path != Path::new("-") => path,
            _ => return Ok(Output::Stdout(io::stdout().lock())),
        };
        match fs::metadata(shown) {
            Ok(meta) if meta.is_dir() => {
                return Err(named(
                    shown,
                    io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
                ));
            }
            // A device, a FIFO, /dev/stdout: opened as it is, never replaced.
            Ok(meta) if !meta.is_file() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(shown)
                    .map_err(|err| named(shown, err))?;
                return Ok(Output::Special {
                    shown: shown.to_path_buf(),
                    file: BufWriter::new(file),
                });
            }
            _ => {}
        }
        let path = resolve(shown).map_err(|err| named(shown, err))?;
        let was = fs::metadata(&path)
            .ok()
            .filter(fs::Metadata::is_file)
            .map(Box::new);
        // A file we may not write (read-only, or another user's) is not replaced behind its
        // owner's back just because its directory lets us rename: the same refusal as `>`.
        if was.is_some() {
            OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|err| named(shown, err))?;
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)
            .map_err(|err| named(shown, err))?;
        Ok(Output::File {
            shown: shown.to_path_buf(),
            path,
            was,
            temp: BufWriter::new(temp),
        })
    }

    /// Whether the report goes to a terminal (and may be coloured and sized to it).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Output::Stdout(_)) && io::stdout().is_terminal()
    }

    /// Ends the report: flushes stdout or a special file, or renames the finished file into
    /// place with the replaced file's mode and owner (a new file is readable as any file the
    /// user makes).
    pub fn finish(self) -> io::Result<()> {
        match self {
            Output::Stdout(mut out) => out.flush(),
            Output::Special { shown, mut file } => file.flush().map_err(|err| named(&shown, err)),
            Output::File {
                shown,
                path,
                was,
                temp,
            } => {
                let temp = temp
                    .into_inner()
                    .map_err(|err| named(&shown, err.into_error()))?;
                temp.as_file()
                    .sync_all()
                    .map_err(|err| named(&shown, err))?;
                match &was {
                    Some(meta) => crate::platform::files::take_mode_and_owner(temp.as_file(), meta),
                    // NamedTempFile is 0600: a new report gets the usual 0644.
                    None => crate::platform::files::make_readable(temp.path()),
                }
                .map_err(|err| named(&shown, err))?;
                temp.persist(&path)
                    .map_err(|err| named(&shown, err.error))?;
                Ok(())
            }
        }
    }
}

// A failed write names the user's path (never the temporary file's), keeping its kind.
impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(buf),
            Output::File { temp, shown, .. } => temp.write(buf).map_err(|err| named(shown, err)),
            Output::Special { file, shown } => file.write(buf).map_err(|err| named(shown, err)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::File { temp, shown, .. } => temp.flush().map_err(|err| named(shown, err)),
            Output::Special { file, shown } => file.flush().map_err(|err| named(shown, err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[cfg(unix)]
    fn write(path: &Path, text: &str) -> io::Result<()> {
        let mut out = Output::open(Some(path))?;
        out.write_all(text.as_bytes())?;
        out.finish()
    }

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
        // The path as a user of each platform writes it, and the OS's own reason: ENOENT on
        // Unix, ERROR_PATH_NOT_FOUND on Windows.
        let (path, reason) = if cfg!(windows) {
            (r"C:\nonexistent-dir\report.json", "(os error 3)")
        } else {
            ("/nonexistent-dir/report.json", "(os error 2)")
        };
        let err = Output::open(Some(Path::new(path))).err().unwrap();
        let text = err.to_string();
        assert!(text.contains(path), "{text}");
        assert!(text.contains(reason), "{text}");
        assert!(
            !text.contains(".mve-audit-"),
            "the temporary file is ours: {text}"
        );
    }

    #[test]
    fn a_dash_is_stdout_and_a_directory_is_refused() {
        assert!(matches!(
            Output::open(Some(Path::new("-"))).unwrap(),
            Output::Stdout(_)
        ));
        let dir = tempfile::tempdir().unwrap();
        let err = Output::open(Some(dir.path())).err().unwrap();
        assert!(err.to_string().contains("directory"), "{err}");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_and_its_target_gets_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("reports/today.json");
        fs::create_dir(dir.path().join("reports")).unwrap();
        fs::write(&target, "old").unwrap();
        let link = dir.path().join("latest.json");
        std::os::unix::fs::symlink("reports/today.json", &link).unwrap();
        write(&link, "new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        // A dangling link: the report is made where it points.
        let dangling = dir.path().join("next.json");
        std::os::unix::fs::symlink("reports/tomorrow.json", &dangling).unwrap();
        write(&dangling, "later").unwrap();
        assert!(
            fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("reports/tomorrow.json")).unwrap(),
            "later"
        );
        // No temporary file is left next to either.
        let names: Vec<String> = fs::read_dir(dir.path().join("reports"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_is_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private.json");
        fs::write(&private, "old").unwrap();
        fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
        write(&private, "new").unwrap();
        let mode = fs::metadata(&private).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let fresh = dir.path().join("fresh.json");
        write(&fresh, "new").unwrap();
        let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_fifo_is_written_in_place_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
        };
        write(&fifo, "through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// Device nodes made with mknod (root only; skipped otherwise): a null device takes the
    /// report, a full one refuses it naming the user's path, and both stay devices.
    #[cfg(target_os = "linux")]
    #[test]
    fn device_nodes_are_written_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let node = |name: &str, minor: &str| {
            let path = dir.path().join(name);
            let made = std::process::Command::new("mknod")
                .arg(&path)
                .args(["c", "1", minor])
                .stderr(std::process::Stdio::null())
                .status();
            made.is_ok_and(|s| s.success()).then_some(path)
        };
        // Not root (mknod refused): nothing to test here.
        let (Some(null), Some(full)) = (node("null", "3"), node("full", "7")) else {
            return;
        };
        write(&null, "gone").unwrap();
        let err = write(&full, &"x".repeat(64 * 1024)).expect_err("/dev/full refuses");
        assert!(
            err.to_string().contains(&full.display().to_string()),
            "{err}"
        );
        assert!(!err.to_string().contains(".mve-audit-"), "{err}");
        for path in [&null, &full] {
            let kind = fs::symlink_metadata(path).unwrap().file_type();
            assert!(
                kind.is_char_device(),
                "{} is still a device",
                path.display()
            );
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temp left");
    }
}
