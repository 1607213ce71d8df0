//! Files the tool writes. A report is as readable as any file the user makes: a temporary file
//! is created private (0600 on Unix), so the finished report gets the usual 0644. On Windows a
//! new file inherits its directory's ACL, which already is what the user expects.

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
