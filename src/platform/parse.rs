//! Pure parsers of what each OS reports about its ports, compiled on every platform so that
//! the tests of both run on Linux: `/proc/net` tables and `ip_local_port_range` (Linux), IP
//! Helper's owner-PID tables, Toolhelp's process names and `netsh`'s dynamic port range
//! (Windows). Each takes what the OS gave as untrusted bytes or text and never panics.

use serde::Serialize;

use crate::catalog::Transport;

/// A process holding a socket, as either OS names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub pid: u32,
    pub name: String,
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

/// `32768\t60999` from ip_local_port_range.
pub fn port_range(text: &str) -> Option<(u16, u16)> {
    let mut parts = text.split_whitespace().map(|p| p.parse::<u16>().ok());
    let low = parts.next()??;
    let high = parts.next()??;
    (low <= high).then_some((low, high))
}

/// Where the local port and the owning PID sit in one row of an IP Helper owner-PID table
/// (`MIB_TCPTABLE_OWNER_PID` and its kin: a `u32` row count, then fixed-size rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLayout {
    pub size: usize,
    pub port_at: usize,
    pub pid_at: usize,
}

/// `MIB_TCPROW_OWNER_PID`: state, local address, local port, remote address and port, PID.
pub const TCP4_ROW: RowLayout = RowLayout {
    size: 24,
    port_at: 8,
    pid_at: 20,
};
/// `MIB_TCP6ROW_OWNER_PID`: local address [16], scope, port, remote address [16], scope,
/// port, state, PID.
pub const TCP6_ROW: RowLayout = RowLayout {
    size: 56,
    port_at: 20,
    pid_at: 52,
};
/// `MIB_UDPROW_OWNER_PID`: local address, local port, PID.
pub const UDP4_ROW: RowLayout = RowLayout {
    size: 12,
    port_at: 4,
    pid_at: 8,
};
/// `MIB_UDP6ROW_OWNER_PID`: local address [16], scope, local port, PID.
pub const UDP6_ROW: RowLayout = RowLayout {
    size: 28,
    port_at: 20,
    pid_at: 24,
};

/// The PIDs of the rows bound to `port` in an owner-PID table as the API filled it: the row
/// count first, then rows (the count is believed only as far as the bytes go). The port is a
/// `u32` whose first two bytes hold it in network order.
pub fn owner_pids(table: &[u8], layout: RowLayout, port: u16) -> Vec<u32> {
    let u32_at = |bytes: &[u8], at: usize| -> Option<u32> {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    let Some(count) = u32_at(table, 0) else {
        return Vec::new();
    };
    let rows = table.get(4..).unwrap_or_default();
    let mut pids: Vec<u32> = rows
        .chunks_exact(layout.size)
        .take(count as usize)
        .filter_map(|row| {
            let bound = row.get(layout.port_at..layout.port_at + 2)?;
            let bound = u16::from_be_bytes([bound[0], bound[1]]);
            (bound == port)
                .then(|| u32_at(row, layout.pid_at))
                .flatten()
        })
        // PID 0 is the System Idle Process, which holds no socket: a row that says 0 does not
        // know its owner (Wine's IP Helper fills every row so), and the port is held by a
        // process this host does not name, not by "PID 0".
        .filter(|&pid| pid != 0)
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// A process's executable name from Toolhelp's `szExeFile`: UTF-16 up to the first NUL.
pub fn exe_name(units: &[u16]) -> String {
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16_lossy(&units[..end])
}

/// The dynamic port range from `netsh int ipv4 show dynamicport tcp` (or `udp`):
///
/// ```text
/// Protocol tcp Dynamic Port Range
/// ---------------------------------
/// Start Port      : 49152
/// Number of Ports : 16384
/// ```
///
/// The labels are translated on localized Windows, so the numbers are taken by position:
/// the first two lines that end in `: NUMBER`.
pub fn netsh_dynamic_ports(text: &str) -> Option<(u16, u16)> {
    let mut numbers = text.lines().filter_map(|line| {
        let (_, value) = line.rsplit_once(':')?;
        value.trim().parse::<u32>().ok()
    });
    let start = numbers.next()?;
    let count = numbers.next()?;
    let last = start.checked_add(count)?.checked_sub(1)?;
    let start = u16::try_from(start).ok()?;
    let last = u16::try_from(last.min(u32::from(u16::MAX))).ok()?;
    (count > 0 && start <= last).then_some((start, last))
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
        assert_eq!(port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(port_range("9 1"), None);
        assert_eq!(port_range("x"), None);
    }

    /// An owner-PID table as IP Helper lays it out: the count, then rows with the port in
    /// network order in the first two bytes of its u32.
    fn table(layout: RowLayout, rows: &[(u16, u32)], count: u32) -> Vec<u8> {
        let mut bytes = count.to_le_bytes().to_vec();
        for &(port, pid) in rows {
            let mut row = vec![0xaa; layout.size];
            row[layout.port_at..layout.port_at + 4].copy_from_slice(&[
                (port >> 8) as u8,
                port as u8,
                0,
                0,
            ]);
            row[layout.pid_at..layout.pid_at + 4].copy_from_slice(&pid.to_le_bytes());
            bytes.extend(row);
        }
        bytes
    }

    #[test]
    fn owner_pid_tables_give_the_holders_of_a_port() {
        for layout in [TCP4_ROW, TCP6_ROW, UDP4_ROW, UDP6_ROW] {
            let rows = [
                (443, 4),
                (9187, 2280),
                (443, 4),
                (8443, 99),
                (9187, 3100),
                (161, 0),
            ];
            let bytes = table(layout, &rows, rows.len() as u32);
            assert_eq!(owner_pids(&bytes, layout, 9187), [2280, 3100], "{layout:?}");
            assert_eq!(owner_pids(&bytes, layout, 443), [4], "deduplicated");
            assert!(owner_pids(&bytes, layout, 6100).is_empty());
            assert!(
                owner_pids(&bytes, layout, 161).is_empty(),
                "an owner of PID 0 is no owner named"
            );
            // 443 = 0x01bb: read in the wrong byte order it would be 0xbb01.
            assert!(owner_pids(&bytes, layout, 0xbb01).is_empty());
        }
    }

    #[test]
    fn owner_pid_tables_that_lie_about_their_size_are_cut() {
        let rows = [(9187, 7), (9187, 8)];
        let full = table(TCP4_ROW, &rows, 1000);
        assert_eq!(
            owner_pids(&full, TCP4_ROW, 9187),
            [7, 8],
            "count past the bytes"
        );
        assert_eq!(
            owner_pids(&table(TCP4_ROW, &rows, 1), TCP4_ROW, 9187),
            [7],
            "rows past the count"
        );
        assert_eq!(owner_pids(&full[..full.len() - 1], TCP4_ROW, 9187), [7]);
        for cut in 0..5 {
            assert!(owner_pids(&full[..cut], TCP4_ROW, 9187).is_empty());
        }
    }

    #[test]
    fn exe_names_end_at_the_nul() {
        let mut units = [0u16; 260];
        for (i, u) in "Markvision.exe".encode_utf16().enumerate() {
            units[i] = u;
        }
        assert_eq!(exe_name(&units), "Markvision.exe");
        assert_eq!(exe_name(&[0x6e, 0x6f]), "no", "no NUL: the whole array");
        assert_eq!(exe_name(&[0xd800, 0]), "\u{fffd}");
    }

    #[test]
    fn netsh_dynamic_port_ranges_parse_in_any_language() {
        let english = "\r\nProtocol tcp Dynamic Port Range\r\n---------------------------------\r\n\
                       Start Port      : 49152\r\nNumber of Ports : 16384\r\n\r\n";
        assert_eq!(netsh_dynamic_ports(english), Some((49152, 65535)));
        let german = "Dynamischer Portbereich für tcp-Protokoll\n\
                      ---------------------------------\nStartport       : 10000\n\
                      Anzahl der Ports: 1000\n";
        assert_eq!(netsh_dynamic_ports(german), Some((10000, 10999)));
        let too_many = "Start Port : 60000\nNumber of Ports : 16384\n";
        assert_eq!(netsh_dynamic_ports(too_many), Some((60000, 65535)));
        for bad in [
            "",
            "The requested operation requires elevation.",
            "Start Port : 70000\nNumber of Ports : 1\n",
            "Start Port : 1025\nNumber of Ports : 0\n",
            "Start Port : 1025\n",
        ] {
            assert_eq!(netsh_dynamic_ports(bad), None, "{bad:?}");
        }
    }
}
