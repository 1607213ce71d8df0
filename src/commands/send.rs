//! `mve-audit send`: a tagged alert and a console request toward the MVE server, the pair
//! `listen` acknowledges, shown as a one-row matrix.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Outcome, RunError, inbound_matrix, render, runtime};
use crate::catalog::{CheckId, Role};
use crate::cli::{ConfigError, Defaults, SendArgs};
use crate::inbound::send::{self, SendSettings};
use crate::results::Done;
use crate::targets::{self, Origin};

/// How long the server's name may take to resolve.
const RESOLVE_LIMIT: Duration = Duration::from_secs(10);

pub fn send(args: &SendArgs) -> Result<Outcome, RunError> {
    let started = Instant::now();
    let settings = SendSettings {
        timeout: args.timeout.unwrap_or(Defaults::TIMEOUT),
        retries: args.retries,
    };
    // The server as any service is written (`mve.example.com`, `10.0.0.5`, `[::1]`); its
    // ports are the flags'.
    let target = targets::parse_service(&args.server, Role::Server, &Origin::Flag("SERVER"))
        .map_err(ConfigError::from)?;
    if target.port.is_some() {
        return Err(ConfigError::ServerPort {
            server: args.server.clone(),
        }
        .into());
    }
    let host = target.host;
    let runtime = runtime()?;
    let (address, alert, console) = runtime.block_on(async {
        let addresses = targets::resolve_names(host.name(), 1, RESOLVE_LIMIT).await;
        let address = addresses.of(&host).map_err(|source| ConfigError::Server {
            server: args.server.clone(),
            source,
        })?;
        let alert = send::alert(SocketAddr::new(address, args.udp_port), &settings).await;
        let console = send::console(
            SocketAddr::new(address, args.tcp_port),
            &args.server,
            &settings,
        )
        .await;
        Ok::<_, RunError>((address, alert, console))
    })?;
    let cell = |check, port, finding| Done {
        row: 0,
        label: args.server.as_str().into(),
        role: Role::Server,
        address: Some(address),
        check,
        port,
        finding,
    };
    let matrix = inbound_matrix(
        [
            cell(CheckId::NpapAlerts, args.udp_port, alert),
            cell(CheckId::Console, args.tcp_port, console),
        ],
        started.elapsed(),
    );
    render(&matrix, args.output.format_for(None), args.output.color)
}
