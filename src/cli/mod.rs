//! The command line: clap definitions, the TOML profile, and the explicit merge of
//! CLI over profile over defaults into one typed configuration.

mod args;
mod config;
mod duration;
mod help;
mod profile;
mod snmp;
mod targets;
mod values;

pub use args::{
    CatalogArgs, CheckArgs, Cli, ColorChoice, Command, CompletionsArgs, ListenArgs, LocalArgs,
    MergeArgs, SendArgs,
};
pub use config::{CheckConfig, ConfigError, Defaults, Env, build_config, merge};
pub use duration::parse_duration;
pub use help::EXIT_CODES;
pub use profile::{Profile, ProfileError, SnmpVersion, load_profile, parse_profile};
pub use snmp::SnmpProblem;
pub use targets::TargetArgs;
