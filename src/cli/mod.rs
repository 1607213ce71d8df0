//! The command line: clap definitions, the TOML profile, and the explicit merge of
//! CLI over profile over defaults into one typed configuration.

mod args;
mod config;
mod duration;
mod profile;

pub use args::{
    CatalogArgs, CheckArgs, Cli, ColorChoice, Command, EXIT_CODES, ListenArgs, LocalArgs, SendArgs,
};
pub use config::{CheckConfig, ConfigError, Defaults, build_config};
pub use duration::parse_duration;
pub use profile::{Profile, ProfileError, load_profile};
