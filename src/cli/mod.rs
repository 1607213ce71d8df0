//! The command line: clap definitions, the TOML profile, and the explicit merge of
//! CLI over profile over defaults into one typed configuration.

mod args;
mod config;
mod duration;
mod profile;
mod targets;

pub use args::{
    CatalogArgs, CheckArgs, Cli, ColorChoice, Command, CompletionsArgs, EXIT_CODES, ListenArgs,
    LocalArgs, MergeArgs, SendArgs,
};
pub use config::{CheckConfig, ConfigError, Defaults, Env, SnmpProblem, build_config, merge};
pub use duration::parse_duration;
pub use profile::{Profile, ProfileError, SnmpVersion, load_profile, parse_profile};
pub use targets::TargetArgs;
