//! Platform-specific socket details, kept in one file so the rest of the code is portable.

use std::io;

use socket2::Socket;

/// Lets several of our own probes leave from one fixed source port at once (UDP 9187 toward
/// many printers). On Linux, SO_REUSEADDR lets connected UDP sockets share a port and the
/// kernel delivers each reply and ICMP error to the socket connected to its sender, while a
/// port held by another program without SO_REUSEADDR (MVE itself) still refuses the bind.
#[cfg(unix)]
pub fn share_source_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_address(true)
}

/// On Windows SO_REUSEADDR would let us steal a port MVE holds, so it is never set there;
/// probes from a fixed source port take turns instead (`SHARES_SOURCE_PORT`).
#[cfg(not(unix))]
pub fn share_source_port(_socket: &Socket) -> io::Result<()> {
    Ok(())
}

/// Whether probes may leave from the same fixed source port concurrently.
pub const SHARES_SOURCE_PORT: bool = cfg!(unix);

/// EPERM (a local firewall dropped the packet) and EACCES (e.g. a broadcast address) both
/// surface as `PermissionDenied`; the raw code tells them apart.
#[cfg(unix)]
pub fn permission_errno(err: &io::Error) -> &'static str {
    // The values are fixed by POSIX on every Unix this runs on.
    match err.raw_os_error() {
        Some(1) => "EPERM",
        _ => "EACCES",
    }
}

#[cfg(not(unix))]
pub fn permission_errno(_err: &io::Error) -> &'static str {
    "WSAEACCES"
}

/// Lets a listening-port check bind a TCP port that only has connections in TIME_WAIT, as a
/// server does on Unix; a port with a live listener still refuses. Not on Windows, where the
/// same option would let us steal a port another program listens on.
#[cfg(unix)]
pub fn allow_time_wait_reuse(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_address(true)
}

#[cfg(not(unix))]
pub fn allow_time_wait_reuse(_socket: &Socket) -> io::Result<()> {
    Ok(())
}
