//! SNMP credentials from flags (and their environment variables), the SNMPv3 keys read from
//! the environment, the profile, and the defaults: which version, which community or user,
//! which keys, and what is wrong with them. Keys have no flag: a flag shows in the process list.

use super::args::CheckArgs;
use super::profile::{Profile, SnmpVersion};
use super::sources::{Defaults, Env};
use crate::probes::SnmpCredentials;

/// What is wrong with the SNMP settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnmpProblem {
    #[error("SNMPv3 needs a user: --snmp-user, MVE_AUDIT_SNMP_V3_USER or snmp.user")]
    NoUser,
    #[error("the SNMPv3 {kind} protocol needs a key: {env} or snmp.{kind}-key")]
    NoKey {
        kind: &'static str,
        env: &'static str,
    },
    #[error("the SNMP {what} is empty")]
    Empty { what: &'static str },
    #[error("an SNMPv3 key has at least 8 characters")]
    ShortKey,
    #[error("SNMPv3 privacy needs authentication too")]
    PrivacyWithoutAuth,
    #[error(
        "SNMPv3 keys are set but no SNMPv3 user: set --snmp-user, MVE_AUDIT_SNMP_V3_USER or snmp.user (or drop the keys)"
    )]
    KeysWithoutUser,
}

/// An SNMP setting refused, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {problem}")]
pub struct SnmpError {
    pub origin: String,
    pub problem: SnmpProblem,
}

/// SNMP credentials: flags (and their environment variables) over the profile over v2c
/// "public". Keys come only from the environment or the profile.
pub(super) fn credentials(
    args: &CheckArgs,
    profile: &Profile,
    env: &Env,
) -> Result<SnmpCredentials, SnmpError> {
    let p = &profile.snmp;
    let user = args
        .snmp_user
        .clone()
        .or_else(|| p.user.as_ref().map(|u| u.0.clone()));
    let version = match (args.snmp_version, p.version) {
        (Some(v), _) | (None, Some(v)) => v,
        (None, None) if user.is_some() => SnmpVersion::V3,
        (None, None) => SnmpVersion::V2c,
    };
    let community = args
        .snmp_community
        .clone()
        .or_else(|| p.community.clone().map(|s| s.0))
        .unwrap_or_else(|| Defaults::COMMUNITY.to_string());
    // An empty community or user is refused wherever it comes from: flag, variable, profile.
    for (flag, in_profile, key) in [
        (
            args.snmp_community.as_deref(),
            p.community.as_ref().map(|s| s.0.as_str()),
            "community",
        ),
        (args.snmp_user.as_deref(), p.user.as_deref(), "user"),
    ] {
        let origin = match (flag, in_profile) {
            (Some(value), _) if value.trim().is_empty() => {
                let variable = if key == "community" {
                    "MVE_AUDIT_SNMP_COMMUNITY"
                } else {
                    "MVE_AUDIT_SNMP_V3_USER"
                };
                format!("--snmp-{key} (or {variable})")
            }
            (None, Some(value)) if value.trim().is_empty() => {
                profile.origin(&format!("snmp.{key}")).to_string()
            }
            _ => continue,
        };
        return Err(SnmpError {
            origin,
            problem: SnmpProblem::Empty { what: key },
        });
    }
    let version_origin = match args.snmp_version {
        Some(_) => "--snmp-version".to_string(),
        None => profile.origin("snmp.version").to_string(),
    };
    let keyed = env.auth_key.is_some()
        || env.priv_key.is_some()
        || p.auth_key.is_some()
        || p.priv_key.is_some();
    if keyed && user.is_none() {
        return Err(SnmpError {
            origin: format!("{} / {} / snmp.*-key", Env::AUTH_KEY, Env::PRIV_KEY),
            problem: SnmpProblem::KeysWithoutUser,
        });
    }
    let user = match version {
        SnmpVersion::V1 => return Ok(SnmpCredentials::V1 { community }),
        SnmpVersion::V2c => return Ok(SnmpCredentials::V2c { community }),
        SnmpVersion::V3 => user.ok_or(SnmpError {
            origin: version_origin,
            problem: SnmpProblem::NoUser,
        })?,
    };
    let auth = v3_secret(V3Secret {
        kind: "auth",
        env: Env::AUTH_KEY,
        key: env
            .auth_key
            .clone()
            .or_else(|| p.auth_key.clone().map(|s| s.0)),
        protocol: args.snmp_auth_protocol.or(p.auth_protocol),
        from_flag: args.snmp_auth_protocol.is_some(),
        default: Defaults::AUTH,
        profile,
    })?;
    let privacy = v3_secret(V3Secret {
        kind: "priv",
        env: Env::PRIV_KEY,
        key: env
            .priv_key
            .clone()
            .or_else(|| p.priv_key.clone().map(|s| s.0)),
        protocol: args.snmp_priv_protocol.or(p.priv_protocol),
        from_flag: args.snmp_priv_protocol.is_some(),
        default: Defaults::PRIVACY,
        profile,
    })?;
    if privacy.is_some() && auth.is_none() {
        return Err(SnmpError {
            origin: format!("{} / snmp.priv-key", Env::PRIV_KEY),
            problem: SnmpProblem::PrivacyWithoutAuth,
        });
    }
    Ok(SnmpCredentials::V3 {
        user,
        auth,
        privacy,
    })
}

/// The SNMPv3 settings given to a run that speaks v1 or v2c, which would otherwise be dropped
/// without a word: `None` when there are none (or the run speaks v3). Each is named where it
/// came from; a key is named by its source only, never its value.
pub(super) fn unused_v3(
    args: &CheckArgs,
    profile: &Profile,
    env: &Env,
    credentials: &SnmpCredentials,
) -> Option<String> {
    let version = match credentials {
        SnmpCredentials::V1 { .. } => "v1",
        SnmpCredentials::V2c { .. } => "v2c",
        SnmpCredentials::V3 { .. } => return None,
    };
    let p = &profile.snmp;
    let named = |flag: bool, flag_name: &str, in_profile: bool, key: &str| match (flag, in_profile)
    {
        (true, _) => Some(flag_name.to_string()),
        (false, true) => Some(profile.origin(key).to_string()),
        (false, false) => None,
    };
    let unused: Vec<String> = [
        named(
            args.snmp_user.is_some(),
            "--snmp-user (or MVE_AUDIT_SNMP_V3_USER)",
            p.user.is_some(),
            "snmp.user",
        ),
        named(
            args.snmp_auth_protocol.is_some(),
            "--snmp-auth-protocol",
            p.auth_protocol.is_some(),
            "snmp.auth-protocol",
        ),
        named(
            args.snmp_priv_protocol.is_some(),
            "--snmp-priv-protocol",
            p.priv_protocol.is_some(),
            "snmp.priv-protocol",
        ),
        named(
            env.auth_key.is_some(),
            Env::AUTH_KEY,
            p.auth_key.is_some(),
            "snmp.auth-key",
        ),
        named(
            env.priv_key.is_some(),
            Env::PRIV_KEY,
            p.priv_key.is_some(),
            "snmp.priv-key",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!unused.is_empty()).then(|| {
        format!(
            "SNMP {version} is used, so these SNMPv3 settings are not: {} (give --snmp-version 3 \
             to use them)",
            unused.join(", ")
        )
    })
}

/// Where one SNMPv3 secret (auth or privacy) and its protocol come from.
struct V3Secret<'a, P> {
    /// "auth" or "priv", as in the profile keys `auth-key` / `priv-protocol`.
    kind: &'static str,
    env: &'static str,
    /// From the environment, else the profile.
    key: Option<String>,
    /// From the flag, else the profile.
    protocol: Option<P>,
    from_flag: bool,
    default: P,
    profile: &'a Profile,
}

/// A protocol and its key: both or neither (the protocol has a default), the key at least 8
/// characters (RFC 3414).
fn v3_secret<P>(secret: V3Secret<'_, P>) -> Result<Option<(P, String)>, SnmpError> {
    let kind = secret.kind;
    match (secret.key, secret.protocol) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(SnmpError {
            origin: if secret.from_flag {
                format!("--snmp-{kind}-protocol")
            } else {
                secret
                    .profile
                    .origin(&format!("snmp.{kind}-protocol"))
                    .to_string()
            },
            problem: SnmpProblem::NoKey {
                kind,
                env: secret.env,
            },
        }),
        (Some(key), _) if key.len() < 8 => Err(SnmpError {
            origin: format!("{} / snmp.{kind}-key", secret.env),
            problem: SnmpProblem::ShortKey,
        }),
        (Some(key), protocol) => Ok(Some((protocol.unwrap_or(secret.default), key))),
    }
}
