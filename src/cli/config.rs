//! Merging, explicitly and in one place: flags over the environment over the profile over the
//! defaults, into one typed configuration. Reading the profile and the environment happens
//! first (`build_config`); `merge` is the one typed function that decides, and is tested by
//! table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::args::CheckArgs;
use super::output::ColorChoice;
use super::profile::{Profile, ProfileError, load_profile};
use super::snmp::SnmpError;
use super::sources::{Defaults, Env};
use super::targets::TargetArgs;
use crate::catalog::CheckId;
use crate::engine::Timing;
use crate::probes::ProbeSettings;
use crate::report::Format;
use crate::results::FailOn;
use crate::targets::{Limits, Origin, ResolveError, TargetError, TargetSet, parse_service};
use crate::wire::kerberos::PLACEHOLDER_REALM;

/// Everything `check` needs, validated.
#[derive(Debug)]
pub struct CheckConfig {
    pub targets: TargetSet,
    pub selected: BTreeSet<CheckId>,
    /// "Some printers" checks promoted to required.
    pub promoted: Vec<CheckId>,
    pub ports: BTreeMap<CheckId, u16>,
    pub probe: ProbeSettings,
    /// An explicit cap on probes in flight; otherwise the rate and timing decide.
    pub concurrency: Option<usize>,
    pub dry_run: bool,
    pub format: Format,
    pub color: ColorChoice,
    /// Which verdicts make the finished audit exit 1.
    pub fail_on: FailOn,
    /// Settings given but not used, said on stderr before the run (unless `--quiet`).
    pub notes: Vec<String>,
    pub details: bool,
    /// Checks the user asked for that `check` cannot run (inbound paths).
    pub inbound_requested: Vec<CheckId>,
    /// `Some(true)` for the summary, `Some(false)` for the matrix, `None` to choose by the
    /// terminal's height.
    pub summary: Option<bool>,
    pub failures_only: bool,
    pub output: Option<PathBuf>,
    /// The vantage point named in the report.
    pub vantage: Option<String>,
    pub quiet: bool,
    pub verbose: u8,
    /// Each effective value and where it came from, for `-v`.
    pub settings: Vec<super::settings::Setting>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(
        "no targets: name printers with --printers, a service with {}, or give a --profile \
         that has some",
        service_flags()
    )]
    NoTargets,
    #[error(
        "no targets: {lists} held none (only blank lines and comments); there is nothing to \
         audit"
    )]
    EmptyLists { lists: String },
    #[error("--port {check}=…: given twice; give each check's port once")]
    RepeatedPort { check: CheckId },
    #[error("{flag}: the value is empty")]
    Empty { flag: &'static str },
    #[error("{origin}: a Kerberos realm cannot be empty")]
    EmptyRealm { origin: String },
    #[error(transparent)]
    Snmp(#[from] SnmpError),
    #[error(
        "nothing to check: no selected check applies to the targets given (checks: {checks}; \
         target roles: {roles})"
    )]
    NothingToCheck { checks: String, roles: String },
    #[error(
        "nothing to check: sql-browser asks the SQL Server Browser for a named instance, and no \
         --sqlserver target names one: write it as HOST\\INSTANCE (db\\MVE)"
    )]
    NoInstance,
    #[error(
        "nothing to check: {checks} is a path toward this server, which `check` cannot probe: \
         run `mve-audit listen` here and `mve-audit send SERVER` from a printer's network"
    )]
    OnlyInbound { checks: String },
    #[error(transparent)]
    Listen(#[from] crate::inbound::listen::ListenError),
    #[error(
        "SERVER '{server}': give the server without a port; its ports are --udp-port (alerts, \
         default 9187) and --tcp-port (the console, default 443)"
    )]
    ServerPort { server: String },
    #[error("{server}: {source}")]
    Server {
        server: String,
        source: ResolveError,
    },
}

/// `--sqlserver, --firebird, … or --kerberos`.
fn service_flags() -> String {
    let flags: Vec<String> = TargetArgs::flags().into_iter().skip(1).collect();
    match flags.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Reads the profile (when named) and the environment, then merges.
pub fn build_config(args: &CheckArgs) -> Result<CheckConfig, ConfigError> {
    let profile = match args.profile.as_deref() {
        Some(path) => load_profile(path)?,
        None => Profile::default(),
    };
    merge(args, &profile, &Env::read())
}

/// Where each value comes from: a flag, else the environment, else the profile, else the
/// default. Target lists and `--checks` from a flag replace the profile's; skips and port
/// overrides add up (README "Profiles").
pub fn merge(args: &CheckArgs, profile: &Profile, env: &Env) -> Result<CheckConfig, ConfigError> {
    let targets = merge_targets(args, profile)?;
    let (selected, inbound_requested) = merge_checks(args, profile, &targets)?;
    let promoted = if args.require.is_empty() {
        profile.checks.require.clone()
    } else {
        args.require.clone()
    };
    let mut ports: BTreeMap<CheckId, u16> = profile.ports.iter().map(|(c, p)| (c.0, p.0)).collect();
    let mut given = BTreeSet::new();
    for (check, port) in &args.ports {
        if !given.insert(*check) {
            return Err(ConfigError::RepeatedPort { check: *check });
        }
        ports.insert(*check, *port);
    }
    if args.vantage.as_deref().is_some_and(|v| v.trim().is_empty()) {
        return Err(ConfigError::Empty { flag: "--vantage" });
    }
    let timing = args.timing.or(&profile.timing);
    let realm = match (&args.kerberos_realm, &profile.kerberos.realm) {
        (Some(realm), _) => checked_realm(realm, "--kerberos-realm")?,
        (None, Some(realm)) => {
            checked_realm(&realm.0, &profile.origin("kerberos.realm").to_string())?
        }
        (None, None) => PLACEHOLDER_REALM.to_string(),
    };
    let snmp = super::snmp::credentials(args, profile, env)?;
    let notes = super::snmp::unused_v3(args, profile, env, &snmp)
        .into_iter()
        .collect();
    let probe = ProbeSettings {
        timing: Timing {
            timeout: timing.timeout.unwrap_or(Defaults::TIMEOUT),
            retries: timing.retries.unwrap_or(Defaults::RETRIES),
            rate: timing.rate.unwrap_or(Defaults::RATE),
            host_rate: timing.host_rate.unwrap_or(Defaults::HOST_RATE),
        },
        kerberos_realm: realm,
        snmp,
        payloads: profile
            .payloads
            .iter()
            .map(|(check, payload)| (check.0, payload.0.clone()))
            .collect(),
    };
    let concurrency = timing.concurrency.map(|c| c as usize);
    let mut config = CheckConfig {
        targets,
        selected,
        promoted,
        ports,
        probe,
        concurrency,
        dry_run: args.dry_run,
        format: args.report.format_for(args.output.as_deref()),
        color: args.report.color,
        fail_on: super::values::fail_on(args.strict, args.fail_on),
        notes,
        details: args.details,
        inbound_requested,
        summary: match (args.summary, args.matrix) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        failures_only: args.failures_only,
        output: args.output.clone(),
        vantage: args.vantage.clone(),
        quiet: args.quiet,
        verbose: args.verbose,
        settings: Vec::new(),
    };
    config.settings = super::settings::settings(args, profile, &config);
    Ok(config)
}

/// Printers and services: a role named by a flag replaces the profile's list for that role.
fn merge_targets(args: &CheckArgs, profile: &Profile) -> Result<TargetSet, ConfigError> {
    let base = args
        .profile
        .as_deref()
        .and_then(Path::parent)
        .map(PathBuf::from);
    let mut targets = TargetSet::new(Limits {
        allow_large: args.allow_large,
    });
    if args.targets.printers.is_empty() {
        for (index, value) in profile.targets.printers.iter().enumerate() {
            let origin = profile.item_origin("targets.printers", index);
            targets.add_printers(value, &origin, base.as_deref())?;
        }
    } else {
        for value in &args.targets.printers {
            targets.add_printers(value, &Origin::Flag("--printers"), None)?;
        }
    }
    let from_profile = profile.targets.services();
    for ((role, _, from_flag), (_, _, in_profile)) in
        args.targets.services().into_iter().zip(from_profile)
    {
        let (values, in_file) = if from_flag.is_empty() {
            (in_profile, true)
        } else {
            (from_flag, false)
        };
        for (index, value) in values.iter().enumerate() {
            let origin = if in_file {
                profile.item_origin(&format!("targets.{role}"), index)
            } else {
                Origin::RoleFlag(role)
            };
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                targets.add(parse_service(item, role, &origin)?);
            }
        }
    }
    if targets.is_empty() && !targets.empty_lists().is_empty() {
        return Err(ConfigError::EmptyLists {
            lists: targets.empty_lists().join(", "),
        });
    }
    if targets.is_empty() {
        return Err(ConfigError::NoTargets);
    }
    Ok(targets)
}

/// The checks to run, and those asked for that `check` cannot run (inbound paths).
fn merge_checks(
    args: &CheckArgs,
    profile: &Profile,
    targets: &TargetSet,
) -> Result<(BTreeSet<CheckId>, Vec<CheckId>), ConfigError> {
    let only: Option<Vec<CheckId>> = if args.checks.is_empty() {
        profile.checks.only.clone()
    } else {
        Some(args.checks.clone())
    };
    // Skips add up: the profile's and the flag's. A check named by --checks runs even when
    // the profile skips it (the flag is the later word).
    let mut selected: BTreeSet<CheckId> = match &only {
        Some(list) => list.iter().copied().collect(),
        None => CheckId::ALL.into_iter().collect(),
    };
    for check in &args.skip {
        selected.remove(check);
    }
    for check in &profile.checks.skip {
        if !args.checks.contains(check) {
            selected.remove(check);
        }
    }
    let inbound_requested = only
        .unwrap_or_default()
        .into_iter()
        .filter(|c| !c.path().is_outbound())
        .collect();
    let roles = targets.roles();
    // As the plan will decide it (`engine::plan`): the role has a target, and a check that
    // asks the SQL Server Browser for a named instance has one to ask for.
    let applies = selected.iter().any(|c| {
        c.path().is_outbound()
            && roles.contains(&c.path().role)
            && (!c.path().driver.needs_instance() || targets.has_instances())
    });
    if !applies && !selected.is_empty() && selected.iter().all(|c| !c.path().is_outbound()) {
        return Err(ConfigError::OnlyInbound {
            checks: selected
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if !applies {
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items.join(", ")
            }
        };
        // Only the named-instance lookup had a target: it is the instance that is missing.
        let mut by_role = selected
            .iter()
            .filter(|c| c.path().is_outbound() && roles.contains(&c.path().role))
            .peekable();
        if by_role.peek().is_some() && by_role.all(|c| c.path().driver.needs_instance()) {
            return Err(ConfigError::NoInstance);
        }
        return Err(ConfigError::NothingToCheck {
            checks: list(selected.iter().map(ToString::to_string).collect()),
            roles: list(roles.iter().map(ToString::to_string).collect()),
        });
    }
    Ok((selected, inbound_requested))
}

fn checked_realm(realm: &str, origin: &str) -> Result<String, ConfigError> {
    let realm = realm.trim();
    if realm.is_empty() {
        return Err(ConfigError::EmptyRealm {
            origin: origin.to_string(),
        });
    }
    Ok(realm.to_string())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
