//! Targets by role, in one shape on the command line (`--printers`, `--smtp`, …) and in a
//! profile's `[targets]` table. The roles and their help come from the catalog
//! (`Role::SERVICES`, `Role::flag_help`): a new kind of service target is a catalog change,
//! and its flag and profile key follow. That is why this struct implements clap's `Args` and
//! serde's `Deserialize` by hand instead of deriving them from one field per role.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::catalog::Role;

/// The flag of printers, and the key of each role in a profile.
const PRINTERS: &str = "printers";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TargetArgs {
    /// Printers: hostnames, addresses, CIDR ranges, @FILE lists.
    pub printers: Vec<String>,
    /// Service targets (`HOST[:PORT]`) by role; a role never named is absent.
    pub services: BTreeMap<Role, Vec<String>>,
}

impl TargetArgs {
    /// Each service role with its flag (also its profile key, without the dashes) and values.
    pub fn services(&self) -> Vec<(Role, String, &[String])> {
        Role::SERVICES
            .iter()
            .map(|role| {
                let values = self.services.get(role).map_or(&[][..], Vec::as_slice);
                (*role, format!("--{role}"), values)
            })
            .collect()
    }

    /// The flags that name targets, for messages: `--printers, --sqlserver, …`.
    pub fn flags() -> Vec<String> {
        std::iter::once(PRINTERS.to_string())
            .chain(Role::SERVICES.iter().map(ToString::to_string))
            .map(|name| format!("--{name}"))
            .collect()
    }
}

impl Args for TargetArgs {
    fn augment_args(cmd: Command) -> Command {
        let printers = Arg::new(PRINTERS)
            .long(PRINTERS)
            .value_name("TARGETS")
            .help(
                "Printers: hostnames, IPv4/IPv6 addresses, CIDR ranges, @FILE (repeatable, \
                 comma-separated)",
            )
            .help_heading("Targets")
            .action(ArgAction::Append);
        Role::SERVICES.iter().fold(cmd.arg(printers), |cmd, role| {
            cmd.arg(
                Arg::new(role.as_str())
                    .long(role.as_str())
                    .value_name(role.value_name())
                    .help(role.flag_help())
                    .help_heading("Targets")
                    .action(ArgAction::Append),
            )
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        TargetArgs::augment_args(cmd)
    }
}

impl FromArgMatches for TargetArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let values = |id: &str| -> Vec<String> {
            matches
                .get_many::<String>(id)
                .map(|v| v.cloned().collect())
                .unwrap_or_default()
        };
        let services = Role::SERVICES
            .iter()
            .map(|role| (*role, values(role.as_str())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Ok(TargetArgs {
            printers: values(PRINTERS),
            services,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        let new = TargetArgs::from_arg_matches(matches)?;
        if !new.printers.is_empty() {
            self.printers = new.printers;
        }
        self.services.extend(new.services);
        Ok(())
    }
}

/// The keys `[targets]` accepts, for serde's "expected one of" message.
static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    std::iter::once(PRINTERS)
        .chain(Role::SERVICES.iter().map(|r| r.as_str()))
        .collect()
});

impl<'de> Deserialize<'de> for TargetArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Table;
        impl<'de> Visitor<'de> for Table {
            type Value = TargetArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of targets by role")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TargetArgs, A::Error> {
                let mut targets = TargetArgs::default();
                while let Some(key) = map.next_key::<Key>()? {
                    let values = map.next_value::<OneOrMany>()?.0;
                    match key {
                        Key::Printers => targets.printers = values,
                        Key::Service(role) => {
                            targets.services.insert(role, values);
                        }
                    }
                }
                Ok(targets)
            }
        }
        d.deserialize_map(Table)
    }
}

/// A key of `[targets]`, refused while it is read so the error points at it.
enum Key {
    Printers,
    Service(Role),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        if key == PRINTERS {
            return Ok(Key::Printers);
        }
        Role::SERVICES
            .iter()
            .find(|r| r.as_str() == key)
            .map(|role| Key::Service(*role))
            .ok_or_else(|| de::Error::unknown_field(&key, &KEYS))
    }
}

/// Accepts `key = "one"` as well as `key = ["one", "two"]`.
struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Values;
        impl<'de> Visitor<'de> for Values {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![value.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(Values)
    }
}
