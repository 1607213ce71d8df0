//! What besides flags feeds the configuration: the defaults, the environment's SNMPv3 keys,
//! and how a profile's key is named in an error.

use std::time::Duration;

use crate::probes::{SnmpAuth, SnmpPriv};

/// The defaults, in one place: `--help` quotes these (the README too).
pub struct Defaults;

impl Defaults {
    pub const TIMEOUT: Duration = Duration::from_secs(2);
    pub const RETRIES: u32 = 2;
    /// About 2 Mbit/s of probe packets (some 80 bytes each); see the README.
    pub const RATE: u32 = 3000;
    pub const HOST_RATE: u32 = 1;
    pub const COMMUNITY: &str = "public";
    pub const AUTH: SnmpAuth = SnmpAuth::Sha1;
    pub const PRIVACY: SnmpPriv = SnmpPriv::Aes128;
}

/// The SNMPv3 keys from the environment: read once, before the merge, so the merge is a
/// function of its inputs. (Keys have no flag: a flag shows in the process list.)
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Env {
    pub auth_key: Option<String>,
    pub priv_key: Option<String>,
}

impl Env {
    pub const AUTH_KEY: &str = "MVE_AUDIT_SNMP_V3_AUTH_KEY";
    pub const PRIV_KEY: &str = "MVE_AUDIT_SNMP_V3_PRIV_KEY";

    pub fn read() -> Env {
        Env {
            auth_key: std::env::var(Env::AUTH_KEY).ok(),
            priv_key: std::env::var(Env::PRIV_KEY).ok(),
        }
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("auth_key", &self.auth_key.as_ref().map(|_| "…"))
            .field("priv_key", &self.priv_key.as_ref().map(|_| "…"))
            .finish()
    }
}
