//! Files the tool writes. A report is as readable as any file the user makes: a temporary file
//! is created private (0600 on Unix), so the finished report gets the usual 0644. On Windows a
//! new file inherits its directory's ACL, which already is what the user expects.

use std::fs::{File, Metadata};
use std::io;
use std::path::Path;

/// Makes a finished report readable as an ordinary file is.
pub fn make_readable(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Gives `file` the mode and owner of the file it replaces (`was`). Changing the owner needs
/// privilege; without it the owner stays ours, which is what the kernel allows anyway. On
/// Windows the replacement inherits its directory's ACL and keeps the read-only flag.
pub fn take_mode_and_owner(file: &File, was: &Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, fchown};
        file.set_permissions(was.permissions())?;
        let mine = file.metadata()?;
        if (mine.uid(), mine.gid()) != (was.uid(), was.gid()) {
            // Not permitted unless we own enough: keep what we have then.
            let _ = fchown(file, Some(was.uid()), Some(was.gid()));
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        file.set_permissions(was.permissions())
    }
}
