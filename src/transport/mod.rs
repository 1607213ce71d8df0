//! TCP and UDP sockets, packet pacing, and the mapping from errno / ICMP to a probe state.
//! Platform-specific socket code lives in `sys`, nowhere else.

mod classify;
mod pace;
pub mod sys;
mod tcp;
pub mod tls;
mod udp;

pub use classify::{Classified, Context, classify, icmp_meaning, with_icmp};
pub use pace::Pacer;
pub use tcp::{TcpAttempt, TcpOutcome, connect};
pub use udp::{SourcePort, UdpExchange, UdpOptions, UdpOutcome, exchange};
