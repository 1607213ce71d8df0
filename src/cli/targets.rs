//! Targets by role, in one shape on the command line (`--printers`, `--smtp`, …) and in a
//! profile's `[targets]` table: the only list of the service roles and the flag of each.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::catalog::Role;

#[derive(Debug, Default, Clone, PartialEq, Eq, clap::Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetArgs {
    /// Printers: hostnames, IPv4/IPv6 addresses, CIDR ranges, @FILE (repeatable, comma-separated)
    #[arg(long, value_name = "TARGETS", help_heading = "Targets")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub printers: Vec<String>,
    /// SQL Server database (default port 1433)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub sqlserver: Vec<String>,
    /// Firebird database (default port 3050)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub firebird: Vec<String>,
    /// Mail server for e-mail alerts (default port 25)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub smtp: Vec<String>,
    /// LDAP directory (default port 389)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub ldap: Vec<String>,
    /// LDAPS directory (default port 636)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub ldaps: Vec<String>,
    /// Kerberos KDC (default port 88/udp)
    #[arg(long, value_name = "HOST[:PORT]", help_heading = "Targets")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub kerberos: Vec<String>,
}

impl TargetArgs {
    /// Each service role with its flag (also its profile key, without the dashes) and values.
    pub fn services(&self) -> [(Role, &'static str, &[String]); 6] {
        [
            (Role::Sqlserver, "--sqlserver", &self.sqlserver),
            (Role::Firebird, "--firebird", &self.firebird),
            (Role::Smtp, "--smtp", &self.smtp),
            (Role::Ldap, "--ldap", &self.ldap),
            (Role::Ldaps, "--ldaps", &self.ldaps),
            (Role::Kerberos, "--kerberos", &self.kerberos),
        ]
    }
}

/// Accepts `key = "one"` as well as `key = ["one", "two"]`.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct OneOrMany;
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a list of strings")
        }
        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(vec![value.to_string()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                out.push(item);
            }
            Ok(out)
        }
    }
    d.deserialize_any(OneOrMany)
}
