//! `mve-audit local`: can this host own the ports MVE listens on.

use std::io::{self, IsTerminal, Write};

use super::{Outcome, RunError, wants_color};
use crate::cli::{ConfigError, LocalArgs};
use crate::inbound::local;
use crate::report::{self, ListFormat, Style};
use crate::results::FailOn;

pub fn local(args: &LocalArgs) -> Result<Outcome, RunError> {
    let mut extra = args.ports.clone();
    if let Some(path) = &args.profile {
        let profile = crate::cli::load_profile(path).map_err(ConfigError::from)?;
        extra.extend(profile.local.ports.iter().map(|p| p.0));
    }
    let report = local::check(&local::mve_needs(&extra));
    let mut out = io::stdout().lock();
    match args.output.format {
        ListFormat::Table => {
            let terminal = io::stdout().is_terminal();
            let style = Style {
                color: wants_color(args.output.color, terminal),
                terminal,
                width: super::terminal_width(),
                ..Style::default()
            };
            report::render_local_table(&report, style, &mut out)?;
        }
        ListFormat::Json => report::render_local_json(&report, &mut out)?,
    }
    out.flush()?;
    Ok(Outcome::of_run(report.worst().fails_run(FailOn::Fail)))
}
