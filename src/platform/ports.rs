//! Who holds a local port, and which ports the OS hands out on its own: what `local` reports
//! when a port MVE needs is taken.
//!
//! - Linux: `/proc/net/{tcp,udp}{,6}` (socket inodes of this network namespace) and
//!   `/proc/*/fd` (which process has each inode open); `/proc/sys/net/ipv4/ip_local_port_range`.
//! - Windows: IP Helper's `GetExtendedTcpTable`/`GetExtendedUdpTable` (the owning PID of each
//!   listener), a Toolhelp process snapshot for the names; `netsh int ipv4 show dynamicport`.
//! - Elsewhere neither is known, and the report says so.

pub use super::parse::Holder;
use crate::catalog::Transport;

/// The processes holding `port` (listening, for TCP). Empty when none is found or the
/// platform cannot tell.
pub fn holders(transport: Transport, port: u16) -> Vec<Holder> {
    #[cfg(target_os = "linux")]
    return super::linux::holders(transport, port);
    #[cfg(windows)]
    return super::windows::holders(transport, port);
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        let _ = (transport, port);
        Vec::new()
    }
}

/// The ephemeral (dynamic) port range the OS hands out, when it can be read. On Windows, where
/// TCP and UDP have a range each, the span of both.
pub fn ephemeral_range() -> Option<(u16, u16)> {
    #[cfg(target_os = "linux")]
    return super::linux::ephemeral_range();
    #[cfg(windows)]
    return super::windows::ephemeral_range();
    #[cfg(not(any(target_os = "linux", windows)))]
    None
}
