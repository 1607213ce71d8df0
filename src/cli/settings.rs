//! Each effective setting of a `check` run with where it came from (a flag, an environment
//! variable, the profile, the default), for `-v`: the answer to "why did it use that?".
//! Secrets show as set or not, never their value.

use std::fmt;

use super::args::CheckArgs;
use super::config::CheckConfig;
use super::profile::Profile;
use super::sources::Defaults;
use crate::clock::humanize;
use crate::platform::text::shown;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(String),
    Variable(String),
    Profile {
        file: String,
        key: String,
    },
    /// Derived from another setting (`--output`'s extension, the v3 user).
    Implied(&'static str),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Variable(name) => write!(f, "environment {name}"),
            Source::Profile { file, key } => write!(f, "profile {file}: {key}"),
            Source::Implied(why) => f.write_str(why),
            Source::Default => f.write_str("default"),
        }
    }
}

/// One effective setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
    pub source: Source,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<17} {:<28} ({})", self.name, self.value, self.source)
    }
}

/// Where one value came from: the flag (or its variable) over the profile over the default.
struct Sources<'a> {
    args: &'a CheckArgs,
    file: String,
}

impl Sources<'_> {
    /// `flag` is the argument's long name, `id` its clap id, `variable` its environment
    /// variable if it has one.
    fn of(&self, flag: bool, id: &str, variable: Option<&str>, key: Option<&str>) -> Source {
        if flag {
            return match variable {
                Some(name) if self.args.from_env.contains(id) => Source::Variable(name.into()),
                _ => Source::Flag(format!("--{}", id.replace('_', "-"))),
            };
        }
        match key {
            Some(key) => Source::Profile {
                file: self.file.clone(),
                key: key.to_string(),
            },
            None => Source::Default,
        }
    }
}

fn list<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let all: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if all.is_empty() {
        "none".to_string()
    } else {
        shown(&all.join(","))
    }
}

/// The settings of a run, in the order `--help` lists them.
pub(super) fn settings(args: &CheckArgs, profile: &Profile, config: &CheckConfig) -> Vec<Setting> {
    let file = args
        .profile
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let at = Sources { args, file };
    let mut out = Vec::new();
    let mut push = |name: &'static str, value: String, source: Source| {
        out.push(Setting {
            name,
            value,
            source,
        });
    };
    if let Some(path) = &args.profile {
        let source = at.of(
            true,
            "profile",
            Some(super::profile::PROFILE_VARIABLE),
            None,
        );
        push("profile", path.display().to_string(), source);
    }
    // Targets, by role: the flag replaces the profile's list.
    let roles = std::iter::once((
        "printers",
        &args.targets.printers,
        &profile.targets.printers,
    ))
    .chain(crate::catalog::Role::SERVICES.iter().map(|role| {
        let flag = args.targets.services.get(role);
        let file = profile.targets.services.get(role);
        (
            role.as_str(),
            flag.unwrap_or(&EMPTY),
            file.unwrap_or(&EMPTY),
        )
    }));
    for (role, flag, in_profile) in roles {
        if !flag.is_empty() {
            push(
                "targets",
                format!("{role}: {}", list(flag)),
                Source::Flag(format!("--{role}")),
            );
        } else if !in_profile.is_empty() {
            let key = format!("targets.{role}");
            push(
                "targets",
                format!("{role}: {}", list(in_profile)),
                at.of(false, "", None, Some(&key)),
            );
        }
    }
    let checks = if args.checks.is_empty() && profile.checks.only.is_none() {
        "every check with a target".to_string()
    } else {
        list(&config.selected)
    };
    let only_key = profile.checks.only.as_ref().map(|_| "checks.only");
    push(
        "checks",
        checks,
        at.of(!args.checks.is_empty(), "checks", None, only_key),
    );
    let mut skipped: Vec<String> = args.skip.iter().map(ToString::to_string).collect();
    skipped.extend(profile.checks.skip.iter().map(ToString::to_string));
    if !skipped.is_empty() {
        let source = match (args.skip.is_empty(), profile.checks.skip.is_empty()) {
            (false, false) => Source::Implied("flag --skip and the profile's checks.skip"),
            _ => at.of(!args.skip.is_empty(), "skip", None, Some("checks.skip")),
        };
        push("skip", list(skipped), source);
    }
    if !config.promoted.is_empty() {
        let key = (!profile.checks.require.is_empty()).then_some("checks.require");
        push(
            "require",
            list(&config.promoted),
            at.of(!args.require.is_empty(), "require", None, key),
        );
    }
    for (check, port) in &config.ports {
        let flag = args.ports.iter().any(|(c, _)| c == check);
        let key = format!("ports.{check}");
        push(
            "port",
            format!("{check}={port}"),
            at.of(flag, "port", None, Some(&key)),
        );
    }
    let t = &config.probe.timing;
    let timing = [
        (
            "timeout",
            humanize(t.timeout),
            args.timing.timeout.is_some(),
            profile.timing.timeout.is_some(),
        ),
        (
            "retries",
            t.retries.to_string(),
            args.timing.retries.is_some(),
            profile.timing.retries.is_some(),
        ),
        (
            "rate",
            format!("{} pps", t.rate),
            args.timing.rate.is_some(),
            profile.timing.rate.is_some(),
        ),
        (
            "host-rate",
            format!("{}/s", t.host_rate),
            args.timing.host_rate.is_some(),
            profile.timing.host_rate.is_some(),
        ),
    ];
    for (name, value, flag, in_profile) in timing {
        let key = format!("timing.{name}");
        let key = in_profile.then_some(key.as_str());
        push(name, value, at.of(flag, &name.replace('-', "_"), None, key));
    }
    let concurrency = match config.concurrency {
        Some(n) => n.to_string(),
        None => "the rate × the longest wait".to_string(),
    };
    let key = profile.timing.concurrency.map(|_| "timing.concurrency");
    push(
        "concurrency",
        concurrency,
        at.of(args.timing.concurrency.is_some(), "concurrency", None, key),
    );
    let snmp = &config.probe.snmp;
    let version_source = match (args.snmp_version, profile.snmp.version) {
        (Some(_), _) => Source::Flag("--snmp-version".into()),
        (None, Some(_)) => at.of(false, "", None, Some("snmp.version")),
        (None, None) if snmp.version() == "v3" => Source::Implied("implied by the SNMPv3 user"),
        (None, None) => Source::Default,
    };
    push("snmp-version", snmp.version().to_string(), version_source);
    if snmp.version() == "v3" {
        let key = profile.snmp.user.as_ref().map(|_| "snmp.user");
        push(
            "snmp-user",
            args.snmp_user
                .clone()
                .or_else(|| profile.snmp.user.as_ref().map(|u| u.0.clone()))
                .map(|u| shown(&u))
                .unwrap_or_default(),
            at.of(
                args.snmp_user.is_some(),
                "snmp_user",
                Some("MVE_AUDIT_SNMP_V3_USER"),
                key,
            ),
        );
        push(
            "snmp-security",
            snmp.level().to_string(),
            Source::Implied("from the keys given"),
        );
    } else {
        let key = profile.snmp.community.as_ref().map(|_| "snmp.community");
        let given = args.snmp_community.is_some() || key.is_some();
        let value = if given {
            "(set, not shown)".to_string()
        } else {
            Defaults::COMMUNITY.to_string()
        };
        push(
            "snmp-community",
            value,
            at.of(
                args.snmp_community.is_some(),
                "snmp_community",
                Some("MVE_AUDIT_SNMP_COMMUNITY"),
                key,
            ),
        );
    }
    let realm_key = profile.kerberos.realm.as_ref().map(|_| "kerberos.realm");
    push(
        "kerberos-realm",
        shown(&config.probe.kerberos_realm),
        at.of(
            args.kerberos_realm.is_some(),
            "kerberos_realm",
            None,
            realm_key,
        ),
    );
    let format_source = match (args.report.format, &args.output) {
        (Some(_), _) => Source::Flag("--format".into()),
        (None, Some(_)) if config.format != crate::report::Format::Table => {
            Source::Implied("from --output's extension")
        }
        _ => Source::Default,
    };
    push("format", config.format.name().to_string(), format_source);
    if let Some(path) = &config.output {
        push(
            "output",
            shown(&path.display().to_string()),
            Source::Flag("--output".into()),
        );
    }
    let fail_on_source = match (args.strict, args.fail_on) {
        (true, _) => Source::Flag("--strict".into()),
        (_, Some(_)) => Source::Flag("--fail-on".into()),
        _ => Source::Default,
    };
    push("fail-on", config.fail_on.name().to_string(), fail_on_source);
    if let Some(vantage) = &config.vantage {
        push("vantage", shown(vantage), Source::Flag("--vantage".into()));
    }
    out
}

static EMPTY: Vec<String> = Vec::new();

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command, Env, merge, parse_profile};
    use clap::Parser;
    use std::path::Path;

    fn shown_settings(argv: &[&str], profile: &str) -> Vec<String> {
        let cli = Cli::parse_from(argv);
        let Command::Check(mut args) = cli.command else {
            panic!("not check");
        };
        args.profile = Some("site.toml".into());
        let profile = parse_profile(profile, Path::new("site.toml")).unwrap();
        let config = merge(&args, &profile, &Env::default()).unwrap();
        config.settings.iter().map(ToString::to_string).collect()
    }

    fn line<'a>(all: &'a [String], name: &str) -> &'a str {
        all.iter()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {all:#?}"))
    }

    #[test]
    fn each_value_names_its_source() {
        let all = shown_settings(
            &[
                "mve-audit",
                "check",
                "--printers",
                "127.0.0.1",
                "--timeout",
                "500ms",
                "--port",
                "raw=9101",
            ],
            "[timing]\nretries = 1\nrate = 100\n[ports]\nhttp = 8080\n[snmp]\ncommunity = \"s3cret\"\n",
        );
        assert!(
            line(&all, "timeout").contains("(flag --timeout)"),
            "{all:#?}"
        );
        assert!(line(&all, "retries").contains("(profile site.toml: timing.retries)"));
        assert!(line(&all, "host-rate").contains("(default)"));
        assert!(line(&all, "targets").contains("(flag --printers)"));
        assert!(
            all.iter()
                .any(|l| l.contains("raw=9101") && l.contains("flag --port"))
        );
        assert!(
            all.iter()
                .any(|l| l.contains("http=8080") && l.contains("ports.http"))
        );
        let community = line(&all, "snmp-community");
        assert!(community.contains("not shown") && !community.contains("s3cret"));
        assert!(line(&all, "format").contains("(default)"));
        assert!(
            line(&all, "fail-on").contains("fail") && line(&all, "fail-on").contains("(default)")
        );
        let strict = shown_settings(
            &["mve-audit", "check", "--printers", "127.0.0.1", "--strict"],
            "",
        );
        assert!(
            line(&strict, "fail-on").contains("warn")
                && line(&strict, "fail-on").contains("--strict"),
            "{strict:#?}"
        );
    }

    #[test]
    fn the_format_can_come_from_the_output_extension() {
        let all = shown_settings(
            &[
                "mve-audit",
                "check",
                "--printers",
                "127.0.0.1",
                "-o",
                "r.json",
            ],
            "",
        );
        assert!(line(&all, "format").contains("json"), "{all:#?}");
        assert!(line(&all, "format").contains("--output's extension"));
    }
}
