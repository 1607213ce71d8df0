//! TCP and UDP sockets, packet pacing, and the mapping from errno / ICMP to a probe state.
//! Platform-specific socket code lives in `sys`, nowhere else.

mod classify;
pub mod evidence;
mod pace;
pub mod stream;
pub mod sys;
mod tcp;
pub mod tls;
mod udp;

pub use classify::{Classified, Context, classify, icmp_meaning, with_icmp};
pub use pace::Pacer;
pub use tcp::{TcpAttempt, TcpOutcome, connect, connect_staggered};
pub use udp::{SourcePort, UdpExchange, UdpOptions, UdpOutcome, exchange};

use std::io;
use std::time::Duration;

/// How long a probe waits, in all, for a file descriptor to come free before its cell says
/// the socket could not be opened.
const DESCRIPTOR_PATIENCE: Duration = Duration::from_secs(30);

/// Makes a socket with `make`, backing off and trying again while the process is out of file
/// descriptors (other probes finishing free them), so a shortage delays a cell instead of
/// deciding it.
pub async fn retry_when_out_of_descriptors<T>(
    mut make: impl FnMut() -> io::Result<T>,
) -> io::Result<T> {
    let mut pause = Duration::from_millis(5);
    let mut waited = Duration::ZERO;
    loop {
        match make() {
            Err(err) if sys::out_of_descriptors(&err) && waited < DESCRIPTOR_PATIENCE => {
                tokio::time::sleep(pause).await;
                waited += pause;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This platform's "too many open files": EMFILE on Unix, WSAEMFILE on Windows.
    const EMFILE: i32 = if cfg!(windows) { 10024 } else { 24 };

    #[tokio::test(start_paused = true)]
    async fn a_descriptor_shortage_is_waited_out_not_reported() {
        let mut calls = 0;
        let made = retry_when_out_of_descriptors(|| {
            calls += 1;
            if calls < 4 {
                Err(io::Error::from_raw_os_error(EMFILE))
            } else {
                Ok(calls)
            }
        })
        .await;
        assert_eq!(made.unwrap(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_and_endless_shortages_are_reported() {
        let refused = retry_when_out_of_descriptors(|| -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::PermissionDenied))
        })
        .await;
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
        let start = tokio::time::Instant::now();
        let short = retry_when_out_of_descriptors(|| -> io::Result<()> {
            Err(io::Error::from_raw_os_error(EMFILE))
        })
        .await;
        assert!(sys::out_of_descriptors(&short.unwrap_err()));
        assert!(start.elapsed() >= DESCRIPTOR_PATIENCE);
    }
}
