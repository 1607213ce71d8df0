//! The `mve-audit` binary: run the library, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(mve_audit::run(std::env::args_os()).exit_code())
}
