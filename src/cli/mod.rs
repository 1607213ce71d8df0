//! The command line: clap definitions, the TOML profile, and the explicit merge of
//! CLI over profile over defaults into one typed configuration.

mod args;
mod config;
mod duration;
mod help;
mod output;
mod profile;
mod settings;
mod snmp;
mod sources;
mod targets;
mod timing;
pub(crate) mod values;

pub use args::{
    CatalogArgs, CheckArgs, Cli, Command, CompletionsArgs, DemoArgs, DiffArgs, DiffFormat,
    ListenArgs, LocalArgs, ManArgs, MergeArgs, SendArgs,
};
pub use config::{CheckConfig, ConfigError, build_config, merge};
pub use duration::parse_duration;
pub use help::{ENVIRONMENT, EXIT_CODES, man_sections};
pub use output::{ColorChoice, ListOutput, MatrixOutput};
pub use profile::{Profile, ProfileError, SnmpVersion, load_profile, parse_profile};
pub use settings::{Setting, Source};
pub use snmp::{SnmpError, SnmpProblem};
pub use sources::{Defaults, Env};
pub use targets::TargetArgs;
pub use timing::TimingArgs;
