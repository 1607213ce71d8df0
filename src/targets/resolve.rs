//! One concurrent round of name resolution: each distinct name is looked up once, and a name
//! that does not resolve becomes an error for its cells, never a crash.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::task::JoinSet;

use super::{Host, Target};

/// Why a name gave no address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("name '{name}' did not resolve: {reason}")]
    Failed { name: String, reason: String },
    #[error("name '{name}' resolved to no address")]
    NoAddress { name: String },
    #[error("name '{name}' did not resolve within {seconds}s")]
    TimedOut { name: String, seconds: u64 },
}

/// A target with the address it resolved to, or why it has none.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub target: Target,
    pub addr: Result<IpAddr, ResolveError>,
}

/// Resolves every distinct name among `targets` concurrently, at most `parallel` at a time.
pub async fn resolve_all(targets: Vec<Target>, parallel: usize, limit: Duration) -> Vec<Resolved> {
    let mut names: BTreeMap<String, Option<Result<IpAddr, ResolveError>>> = targets
        .iter()
        .filter_map(|t| match &t.host {
            Host::Name(name) => Some((name.clone(), None)),
            Host::Addr(_) => None,
        })
        .collect();

    let mut pending = names.keys().cloned().collect::<Vec<_>>().into_iter();
    let mut running = JoinSet::new();
    loop {
        while running.len() < parallel.max(1) {
            let Some(name) = pending.next() else { break };
            running.spawn(async move {
                let answer = lookup(&name, limit).await;
                (name, answer)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        // A lookup task only panics if the runtime is shutting down; the name then stays
        // unresolved and is reported as such below.
        if let Ok((name, answer)) = joined {
            names.insert(name, Some(answer));
        }
    }

    targets
        .into_iter()
        .map(|target| {
            let addr = match &target.host {
                Host::Addr(addr) => Ok(*addr),
                Host::Name(name) => names.get(name).cloned().flatten().unwrap_or_else(|| {
                    Err(ResolveError::Failed {
                        name: name.clone(),
                        reason: "lookup did not complete".to_string(),
                    })
                }),
            };
            Resolved { target, addr }
        })
        .collect()
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
            reason: err.to_string(),
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
    use crate::catalog::Role;

    fn target(host: Host) -> Target {
        Target {
            role: Role::Printer,
            host,
            port: None,
        }
    }

    #[tokio::test]
    async fn literal_addresses_and_localhost_resolve_without_dns() {
        // "localhost" is answered from /etc/hosts; no resolver is asked.
        let targets = vec![
            target(Host::Addr("127.0.0.1".parse().unwrap())),
            target(Host::Name("localhost".into())),
            target(Host::Name("localhost".into())),
        ];
        let resolved = resolve_all(targets, 4, Duration::from_secs(5)).await;
        assert_eq!(resolved.len(), 3);
        for r in &resolved {
            let addr = r.addr.as_ref().expect("resolves");
            assert!(addr.is_loopback(), "{addr}");
        }
    }
}
