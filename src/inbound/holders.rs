//! Who holds a local port: on Linux from /proc/net/{tcp,udp,tcp6,udp6} (socket inodes of this
//! network namespace) and /proc/*/fd (which process has each inode open). Elsewhere the holder
//! is unknown and the report says so.

use crate::catalog::Transport;

/// A process holding a socket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Holder {
    pub pid: u32,
    pub name: String,
}

/// The processes holding `port` (listening, for TCP). Empty when unknown.
pub fn holders(transport: Transport, port: u16) -> Vec<Holder> {
    #[cfg(target_os = "linux")]
    {
        let inodes = socket_inodes(transport, port);
        if inodes.is_empty() {
            return Vec::new();
        }
        owners(&inodes)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (transport, port);
        Vec::new()
    }
}

/// The ephemeral port range the OS hands out, when it can be read.
pub fn ephemeral_range() -> Option<(u16, u16)> {
    #[cfg(target_os = "linux")]
    {
        let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
        parse_range(&text)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// `32768\t60999` from ip_local_port_range.
pub fn parse_range(text: &str) -> Option<(u16, u16)> {
    let mut parts = text.split_whitespace().map(|p| p.parse::<u16>().ok());
    let low = parts.next()??;
    let high = parts.next()??;
    (low <= high).then_some((low, high))
}

/// Socket inodes bound to `port` in one /proc/net table's text. TCP counts only listeners.
pub fn inodes_in_table(text: &str, transport: Transport, port: u16) -> Vec<u64> {
    const TCP_LISTEN: &str = "0A";
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            let inode: u64 = fields.get(9)?.parse().ok()?;
            let (_, port_hex) = local.rsplit_once(':')?;
            let bound = u16::from_str_radix(port_hex, 16).ok()?;
            let listening = transport == Transport::Udp || *state == TCP_LISTEN;
            (bound == port && listening && inode != 0).then_some(inode)
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn socket_inodes(transport: Transport, port: u16) -> Vec<u64> {
    let tables: &[&str] = match transport {
        Transport::Tcp => &["/proc/net/tcp", "/proc/net/tcp6"],
        Transport::Udp => &["/proc/net/udp", "/proc/net/udp6"],
    };
    tables
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .flat_map(|text| inodes_in_table(&text, transport, port))
        .collect()
}

#[cfg(target_os = "linux")]
fn owners(inodes: &[u64]) -> Vec<Holder> {
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let mut found = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // Processes of other users are unreadable without privilege: skipped, not an error.
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .ok()
                .and_then(|target| target.to_str().map(|t| wanted.iter().any(|w| w == t)))
                .unwrap_or(false)
        });
        if holds {
            let name = std::fs::read_to_string(entry.path().join("comm"))
                .map(|n| n.trim().to_string())
                .unwrap_or_else(|_| "?".into());
            found.push(Holder { pid, name });
        }
    }
    found.sort_by_key(|h| h.pid);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const UDP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
        1: 00000000:23E3 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41234 2 0000000000000000 0\n\
        2: 0100007F:00A1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 555 2 0000000000000000 0\n\
        garbage\n";
    const TCP: &str = "  sl  local_address rem_address   st\n\
        0: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1\n\
        1: 0100007F:01BB 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 888 1\n";

    #[test]
    fn table_lines_give_the_inodes_of_a_port() {
        assert_eq!(inodes_in_table(UDP, Transport::Udp, 9187), [41234]);
        assert_eq!(inodes_in_table(UDP, Transport::Udp, 161), [555]);
        assert_eq!(
            inodes_in_table(TCP, Transport::Tcp, 443),
            [777],
            "only the listener"
        );
        assert!(inodes_in_table("", Transport::Tcp, 443).is_empty());
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_range("9 1"), None);
        assert_eq!(parse_range("x"), None);
    }
}
