//! The requests to stop a run: on Unix the signals SIGINT (Ctrl-C), SIGTERM and SIGHUP (the
//! terminal or ssh session went away); on Windows the console's Ctrl-C, Ctrl-Break and close
//! events. Each ends a run the same way: probes in flight are dropped and the report so far is
//! written, marked partial.
//!
//! On Windows, closing the console gives a process about five seconds before it is ended;
//! tokio's handler holds the event until the process exits, so the partial report is written
//! within that time.

use serde::Serialize;

/// What cut a run short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Interrupt {
    #[serde(rename = "SIGINT")]
    SigInt,
    #[serde(rename = "SIGTERM")]
    SigTerm,
    #[serde(rename = "SIGHUP")]
    SigHup,
    #[serde(rename = "CTRL_C")]
    CtrlC,
    #[serde(rename = "CTRL_BREAK")]
    CtrlBreak,
    #[serde(rename = "CTRL_CLOSE")]
    CtrlClose,
}

impl Interrupt {
    /// The name reports and messages use.
    pub fn name(self) -> &'static str {
        match self {
            Interrupt::SigInt => "SIGINT",
            Interrupt::SigTerm => "SIGTERM",
            Interrupt::SigHup => "SIGHUP",
            Interrupt::CtrlC => "CTRL_C",
            Interrupt::CtrlBreak => "CTRL_BREAK",
            Interrupt::CtrlClose => "CTRL_CLOSE",
        }
    }

    /// The exit status: the shell's 128 + signal number, the same on Windows so that one
    /// script reads both (Ctrl-C and Ctrl-Break as SIGINT; closing the console, like SIGTERM
    /// and SIGHUP, is a request to end).
    pub fn exit_code(self) -> u8 {
        match self {
            Interrupt::SigInt | Interrupt::CtrlC | Interrupt::CtrlBreak => 130,
            Interrupt::SigHup => 129,
            Interrupt::SigTerm | Interrupt::CtrlClose => 143,
        }
    }
}

impl std::fmt::Display for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Waits for the first request to stop and says which it was.
pub async fn interrupted() -> Interrupt {
    imp::interrupted().await
}

#[cfg(unix)]
mod imp {
    use super::Interrupt;
    use tokio::signal::unix::{SignalKind, signal};

    pub async fn interrupted() -> Interrupt {
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => tokio::select! {
                _ = tokio::signal::ctrl_c() => Interrupt::SigInt,
                _ = term.recv() => Interrupt::SigTerm,
                _ = hup.recv() => Interrupt::SigHup,
            },
            // Registering a handler fails only when the runtime has no signal driver; Ctrl-C
            // still works through tokio's own.
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                Interrupt::SigInt
            }
        }
    }
}

#[cfg(windows)]
mod imp {
    use super::Interrupt;
    use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};

    pub async fn interrupted() -> Interrupt {
        match (ctrl_c(), ctrl_break(), ctrl_close()) {
            (Ok(mut c), Ok(mut brk), Ok(mut close)) => tokio::select! {
                _ = c.recv() => Interrupt::CtrlC,
                _ = brk.recv() => Interrupt::CtrlBreak,
                _ = close.recv() => Interrupt::CtrlClose,
            },
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                Interrupt::CtrlC
            }
        }
    }
}

#[cfg(not(any(unix, windows)))]
mod imp {
    use super::Interrupt;

    pub async fn interrupted() -> Interrupt {
        let _ = tokio::signal::ctrl_c().await;
        Interrupt::SigInt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interrupt_has_its_name_and_exit_code() {
        let rows = [
            (Interrupt::SigInt, "SIGINT", 130),
            (Interrupt::SigTerm, "SIGTERM", 143),
            (Interrupt::SigHup, "SIGHUP", 129),
            (Interrupt::CtrlC, "CTRL_C", 130),
            (Interrupt::CtrlBreak, "CTRL_BREAK", 130),
            (Interrupt::CtrlClose, "CTRL_CLOSE", 143),
        ];
        for (interrupt, name, code) in rows {
            assert_eq!(interrupt.name(), name);
            assert_eq!(interrupt.exit_code(), code, "{name}");
            assert_eq!(
                serde_json::to_string(&interrupt).unwrap(),
                format!("\"{name}\"")
            );
        }
    }
}
