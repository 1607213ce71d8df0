//! What differs between the operating systems the tool runs on (Windows, where the MVE server
//! runs; Linux, for support jump hosts and CI), each behind one small interface with the
//! implementations side by side:
//!
//! - [`ports`]: who holds a local port, and the OS's ephemeral port range (`local`);
//! - [`signals`]: the requests to stop (SIGINT/SIGTERM/SIGHUP, Ctrl-C/Ctrl-Break/console
//!   close) that end a run with a partial report;
//! - [`text`]: text files as Windows editors save them (UTF-16 with a byte-order mark);
//! - [`console`]: colour escapes on a Windows console;
//! - [`files`]: the permissions of a written report.
//!
//! Socket options (IP_RECVERR on Linux, SIO_UDP_CONNRESET on Windows) stay with the sockets in
//! `transport/sys.rs`, and the Windows socket error codes with the errno table in
//! `transport/classify.rs`. The parsers of what each OS reports (`/proc/net` tables, IP
//! Helper rows, `netsh` output) are pure and compiled everywhere, so Linux tests cover the
//! Windows parts too; only the system calls are behind `cfg`.

pub mod console;
pub mod files;
pub mod parse;
pub mod ports;
pub mod signals;
pub mod text;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(windows)]
mod windows;
