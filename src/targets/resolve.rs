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
    /// The first address is one no typed target may be (0.0.0.0, a broadcast or multicast
    /// group…): a name is held to the same refusals as an address written by hand.
    #[error("name '{name}' resolves to {addr}, which is not probed: {reason}")]
    Refused {
        name: String,
        addr: IpAddr,
        reason: &'static str,
    },
}

/// A name's address, and what a report says of the name's other addresses.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The address probed: the resolver's first.
    pub addr: IpAddr,
    /// Set when the name has more than one address: which were not probed, and why.
    pub note: Option<Arc<str>>,
}

/// Addresses of one name read at most.
const MAX_ADDRESSES: usize = 16;

/// The address each name resolved to, or why it has none.
#[derive(Debug, Clone, Default)]
pub struct Addresses {
    names: HashMap<String, Result<Resolved, ResolveError>>,
}

impl Addresses {
    /// The address a target's host stands for.
    pub fn of(&self, host: &Host) -> Result<IpAddr, ResolveError> {
        match host {
            Host::Addr(addr) => Ok(*addr),
            Host::Name(name) => match self.names.get(name) {
                Some(Ok(resolved)) => Ok(resolved.addr),
                Some(Err(err)) => Err(err.clone()),
                None => Err(ResolveError::Incomplete { name: name.clone() }),
            },
        }
    }

    /// What the cells of `host` say of its name's other addresses, if it has any.
    pub fn note(&self, host: &Host) -> Option<Arc<str>> {
        match host {
            Host::Addr(_) => None,
            Host::Name(name) => self.names.get(name)?.as_ref().ok()?.note.clone(),
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
                .map(|(name, addr)| (name.to_string(), Ok(Resolved { addr, note: None })))
                .collect(),
        }
    }

    /// Each name that resolved, with its address.
    pub fn resolved(&self) -> impl Iterator<Item = (&str, IpAddr)> {
        self.names
            .iter()
            .filter_map(|(name, found)| found.as_ref().ok().map(|r| (name.as_str(), r.addr)))
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

/// Looks `name` up within `limit`: the first address the resolver gives, held to the refusals
/// of a typed target, and a note naming the others when there are several. The one look-up
/// of every name the tool meets, typed or derived (a CA's host, a CRL distribution point).
pub async fn lookup(name: &str, limit: Duration) -> Result<Resolved, ResolveError> {
    let query = tokio::net::lookup_host((name, 0u16));
    let found = match tokio::time::timeout(limit, query).await {
        Err(_) => {
            return Err(ResolveError::TimedOut {
                name: name.to_string(),
                seconds: limit.as_secs().max(1),
            });
        }
        Ok(Err(err)) => {
            return Err(ResolveError::Failed {
                name: name.to_string(),
                source: Arc::new(err),
            });
        }
        Ok(Ok(found)) => found,
    };
    let mut all: Vec<IpAddr> = Vec::new();
    for sock in found {
        if !all.contains(&sock.ip()) && all.len() < MAX_ADDRESSES {
            all.push(sock.ip());
        }
    }
    choose(name, &all)
}

/// The address of `name` among `all` (the resolver's order), or why none is probed.
fn choose(name: &str, all: &[IpAddr]) -> Result<Resolved, ResolveError> {
    let Some(&addr) = all.first() else {
        return Err(ResolveError::NoAddress {
            name: name.to_string(),
        });
    };
    if let Err(reason) = super::parse::probe_address(addr) {
        return Err(ResolveError::Refused {
            name: name.to_string(),
            addr,
            reason,
        });
    }
    let note = (all.len() > 1).then(|| {
        let list: Vec<String> = all.iter().map(ToString::to_string).collect();
        Arc::from(format!(
            "'{name}' resolves to {} addresses ({}): probed {addr}, the first the resolver \
             gives, which a client such as MVE connects to first",
            all.len(),
            list.join(", ")
        ))
    });
    Ok(Resolved { addr, note })
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

    #[test]
    fn a_name_is_held_to_the_refusals_of_a_typed_address() {
        let addr = |text: &str| text.parse::<IpAddr>().unwrap();
        for bad in ["0.0.0.0", "255.255.255.255", "224.0.0.251", "::", "ff02::1"] {
            let err = choose("ca.lab.test", &[addr(bad), addr("10.0.0.1")]).unwrap_err();
            assert!(matches!(err, ResolveError::Refused { .. }), "{bad}: {err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        let one = choose("ca.lab.test", &[addr("10.0.0.1")]).unwrap();
        assert!(one.note.is_none());
        let several = choose("ca.lab.test", &[addr("10.0.0.1"), addr("10.0.0.2")]).unwrap();
        assert_eq!(several.addr, addr("10.0.0.1"));
        let note = several.note.unwrap();
        assert!(note.contains("2 addresses (10.0.0.1, 10.0.0.2)"), "{note}");
        assert!(matches!(
            choose("ca.lab.test", &[]),
            Err(ResolveError::NoAddress { .. })
        ));
    }
}
