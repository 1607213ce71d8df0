//! One concurrent round of name resolution: each distinct name is looked up once, and a name
//! that does not resolve becomes an error for its cells, never a crash.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::Host;

/// Why a name gave no address.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    #[error("name '{name}' did not resolve: {source}")]
    Failed {
        name: String,
        source: Arc<std::io::Error>,
    },
    /// The run ended (or was never asked) before the lookup finished.
    #[error("name '{name}' did not resolve: lookup did not complete")]
    Incomplete { name: String },
    #[error("name '{name}' resolved to no address")]
    NoAddress { name: String },
    #[error("name '{name}' did not resolve within {seconds}s")]
    TimedOut { name: String, seconds: u64 },
}

/// The address each name resolved to, or why it has none.
#[derive(Debug, Clone, Default)]
pub struct Addresses {
    names: HashMap<String, Result<IpAddr, ResolveError>>,
}

impl Addresses {
    /// The address a target's host stands for.
    pub fn of(&self, host: &Host) -> Result<IpAddr, ResolveError> {
        match host {
            Host::Addr(addr) => Ok(*addr),
            Host::Name(name) => self
                .names
                .get(name)
                .cloned()
                .unwrap_or_else(|| Err(ResolveError::Incomplete { name: name.clone() })),
        }
    }
}

impl Addresses {
    /// Names already resolved (tests).
    #[cfg(test)]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, IpAddr)>) -> Addresses {
        Addresses {
            names: pairs
                .into_iter()
                .map(|(name, addr)| (name.to_string(), Ok(addr)))
                .collect(),
        }
    }

    /// Each name that resolved, with its address.
    pub fn resolved(&self) -> impl Iterator<Item = (&str, IpAddr)> {
        self.names
            .iter()
            .filter_map(|(name, addr)| addr.as_ref().ok().map(|addr| (name.as_str(), *addr)))
    }
}

/// Resolves every distinct name concurrently, at most `parallel` at a time.
pub async fn resolve_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
    parallel: usize,
    limit: Duration,
) -> Addresses {
    let mut pending = names.into_iter();
    let mut addresses = Addresses::default();
    let mut running = JoinSet::new();
    loop {
        while running.len() < parallel.max(1) {
            let Some(name) = pending.next() else { break };
            let name = name.to_string();
            running.spawn(async move {
                let answer = lookup(&name, limit).await;
                (name, answer)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        // A lookup task only panics if the runtime is shutting down; the name then stays
        // unresolved and `Addresses::of` says so.
        if let Ok((name, answer)) = joined {
            addresses.names.insert(name, answer);
        }
    }
    addresses
}

async fn lookup(name: &str, limit: Duration) -> Result<IpAddr, ResolveError> {
    let query = tokio::net::lookup_host((name, 0u16));
    match tokio::time::timeout(limit, query).await {
        Err(_) => Err(ResolveError::TimedOut {
            name: name.to_string(),
            seconds: limit.as_secs().max(1),
        }),
        Ok(Err(err)) => Err(ResolveError::Failed {
            name: name.to_string(),
            source: Arc::new(err),
        }),
        Ok(Ok(mut addrs)) => {
            addrs
                .next()
                .map(|sock| sock.ip())
                .ok_or_else(|| ResolveError::NoAddress {
                    name: name.to_string(),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literal_addresses_and_localhost_resolve_without_dns() {
        // "localhost" is answered from /etc/hosts; no resolver is asked.
        let addresses = resolve_names(["localhost"], 4, Duration::from_secs(5)).await;
        for host in [
            Host::Addr("127.0.0.1".parse().unwrap()),
            Host::Name("localhost".into()),
        ] {
            let addr = addresses.of(&host).expect("resolves");
            assert!(addr.is_loopback(), "{addr}");
        }
        let unknown = addresses.of(&Host::Name("never-asked.test".into()));
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("did not complete")
        );
    }
}
