//! The timing options, defined once: one struct that is the `check` flags (`clap::Args`,
//! flattened) and a profile's `[timing]` table (`Deserialize`), each value with one range and
//! one parser shared by both. `send` takes the same timeout and retries through the same
//! parsers.

use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::duration::parse_duration;
use super::sources::Defaults;
use super::values::{Bound, CountError, scalar_text, with_default};
use crate::clock::humanize;

pub const RETRIES: Bound = Bound { min: 0, max: 10 };
pub const CONCURRENCY: Bound = Bound { min: 1, max: 65536 };
pub const RATE: Bound = Bound {
    min: 0,
    max: 1_000_000,
};
pub const HOST_RATE: Bound = Bound {
    min: 0,
    max: 10_000,
};

#[derive(Debug, Default, Clone, PartialEq, Eq, clap::Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TimingArgs {
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_duration,
        allow_hyphen_values = true,
        help_heading = "Timing",
        help = with_default(
            "Wait per TCP connect and per UDP datagram, e.g. 500ms, 2s",
            humanize(Defaults::TIMEOUT)
        )
    )]
    #[serde(default, deserialize_with = "duration")]
    pub timeout: Option<Duration>,
    #[arg(
        long,
        value_name = "N",
        value_parser = parse_retries,
        allow_hyphen_values = true,
        help_heading = "Timing",
        help = with_default("UDP datagrams re-sent after silence, at most 10", Defaults::RETRIES)
    )]
    #[serde(default, deserialize_with = "retries")]
    pub retries: Option<u32>,
    /// At most this many probes in flight [default: the rate × the longest wait, within the
    /// open-file limit]
    #[arg(
        long,
        value_name = "N",
        value_parser = parse_concurrency,
        allow_hyphen_values = true,
        help_heading = "Timing"
    )]
    #[serde(default, deserialize_with = "concurrency")]
    pub concurrency: Option<u32>,
    #[arg(
        long,
        value_name = "PPS",
        value_parser = parse_rate,
        allow_hyphen_values = true,
        help_heading = "Timing",
        help = with_default("Packets per second across all probes; 0 for no limit", Defaults::RATE)
    )]
    #[serde(default, deserialize_with = "rate")]
    pub rate: Option<u32>,
    #[arg(
        long,
        value_name = "PPS",
        value_parser = parse_host_rate,
        allow_hyphen_values = true,
        help_heading = "Timing",
        help = with_default(
            "ICMP errors per second a host may owe us after a burst of 5, so printers' ICMP \
             rate limits do not hide closed ports (only datagrams that may draw an error \
             count); 0 for no limit",
            Defaults::HOST_RATE
        )
    )]
    #[serde(default, deserialize_with = "host_rate")]
    pub host_rate: Option<u32>,
}

impl TimingArgs {
    /// These flags over `profile`'s values, field by field.
    pub fn or(&self, profile: &TimingArgs) -> TimingArgs {
        TimingArgs {
            timeout: self.timeout.or(profile.timeout),
            retries: self.retries.or(profile.retries),
            concurrency: self.concurrency.or(profile.concurrency),
            rate: self.rate.or(profile.rate),
            host_rate: self.host_rate.or(profile.host_rate),
        }
    }
}

/// A duration written like `500ms` or `2s`, parsed as the flag parses it.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map(Some).map_err(de::Error::custom)
}

fn bounded<'de, D: Deserializer<'de>>(d: D, bound: Bound) -> Result<Option<u32>, D::Error> {
    let text = scalar_text(d, "a whole number")?;
    bound.parse(&text).map(Some).map_err(de::Error::custom)
}

// One parser per value, for the flag (clap) and the profile (serde) alike.
macro_rules! counts {
    ($($name:ident, $parse:ident, $bound:expr;)*) => {$(
        fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
            bounded(d, $bound)
        }

        pub fn $parse(text: &str) -> Result<u32, CountError> {
            $bound.parse(text)
        }
    )*};
}

counts! {
    retries, parse_retries, RETRIES;
    concurrency, parse_concurrency, CONCURRENCY;
    rate, parse_rate, RATE;
    host_rate, parse_host_rate, HOST_RATE;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flag and the profile key refuse and accept the same values.
    #[test]
    fn flags_and_profile_share_each_range() {
        for (bound, key, flag) in [
            (RETRIES, "retries", "--retries"),
            (CONCURRENCY, "concurrency", "--concurrency"),
            (RATE, "rate", "--rate"),
            (HOST_RATE, "host-rate", "--host-rate"),
        ] {
            let min = i64::from(bound.min);
            let max = i64::from(bound.max);
            for (value, ok) in [(min - 1, false), (min, true), (max, true), (max + 1, false)] {
                let profile: Result<TimingArgs, _> = toml::from_str(&format!("{key} = {value}"));
                let cli = <super::super::Cli as clap::Parser>::try_parse_from([
                    "mve-audit",
                    "check",
                    "--printers",
                    "127.0.0.1",
                    flag,
                    &value.to_string(),
                ]);
                assert_eq!(profile.is_ok(), ok, "{key} = {value}");
                assert_eq!(cli.is_ok(), ok, "{flag} {value}");
            }
        }
    }
}
