//! The Windows side of `ports`: IP Helper for the owner of each listening socket, a Toolhelp
//! snapshot for process names, `netsh` for the dynamic port range. The buffers are parsed by
//! the pure functions of `parse`, tested on every platform.

#![allow(unsafe_code)]

use std::collections::HashMap;
use std::mem::{offset_of, size_of};
use std::process::Command;

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_INSUFFICIENT_BUFFER, INVALID_HANDLE_VALUE, NO_ERROR,
};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, GetExtendedUdpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID,
    MIB_UDP6ROW_OWNER_PID, MIB_UDPROW_OWNER_PID, TCP_TABLE_OWNER_PID_LISTENER, UDP_TABLE_OWNER_PID,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};

use super::parse::{
    Holder, RowLayout, TCP4_ROW, TCP6_ROW, UDP4_ROW, UDP6_ROW, exe_name, netsh_dynamic_ports,
    owner_pids,
};
use crate::catalog::Transport;

// The layouts `parse` reads are the ones windows-sys declares: checked when this compiles.
const fn layout_is(layout: RowLayout, size: usize, port_at: usize, pid_at: usize) -> bool {
    layout.size == size && layout.port_at == port_at && layout.pid_at == pid_at
}
const _: () = assert!(layout_is(
    TCP4_ROW,
    size_of::<MIB_TCPROW_OWNER_PID>(),
    offset_of!(MIB_TCPROW_OWNER_PID, dwLocalPort),
    offset_of!(MIB_TCPROW_OWNER_PID, dwOwningPid)
));
const _: () = assert!(layout_is(
    TCP6_ROW,
    size_of::<MIB_TCP6ROW_OWNER_PID>(),
    offset_of!(MIB_TCP6ROW_OWNER_PID, dwLocalPort),
    offset_of!(MIB_TCP6ROW_OWNER_PID, dwOwningPid)
));
const _: () = assert!(layout_is(
    UDP4_ROW,
    size_of::<MIB_UDPROW_OWNER_PID>(),
    offset_of!(MIB_UDPROW_OWNER_PID, dwLocalPort),
    offset_of!(MIB_UDPROW_OWNER_PID, dwOwningPid)
));
const _: () = assert!(layout_is(
    UDP6_ROW,
    size_of::<MIB_UDP6ROW_OWNER_PID>(),
    offset_of!(MIB_UDP6ROW_OWNER_PID, dwLocalPort),
    offset_of!(MIB_UDP6ROW_OWNER_PID, dwOwningPid)
));

pub fn holders(transport: Transport, port: u16) -> Vec<Holder> {
    let families = [(u32::from(AF_INET), false), (u32::from(AF_INET6), true)];
    let mut pids: Vec<u32> = families
        .iter()
        .filter_map(|&(family, v6)| {
            let table = owner_table(transport, family)?;
            let layout = match (transport, v6) {
                (Transport::Tcp, false) => TCP4_ROW,
                (Transport::Tcp, true) => TCP6_ROW,
                (Transport::Udp, false) => UDP4_ROW,
                (Transport::Udp, true) => UDP6_ROW,
            };
            Some(owner_pids(&table, layout, port))
        })
        .flatten()
        .collect();
    pids.sort_unstable();
    pids.dedup();
    if pids.is_empty() {
        return Vec::new();
    }
    let names = process_names();
    pids.into_iter()
        .map(|pid| Holder {
            pid,
            // PID 4 is the kernel's "System": http.sys holds 80/443 for IIS and others there.
            name: names.get(&pid).cloned().unwrap_or_else(|| "?".into()),
        })
        .collect()
}

/// The listeners (TCP) or bound sockets (UDP) of one address family with their owning PIDs,
/// as the raw table the API fills. The size can grow between the two calls: tried a few times.
fn owner_table(transport: Transport, family: u32) -> Option<Vec<u8>> {
    let mut size: u32 = 0;
    for _ in 0..4 {
        // u32s for the alignment the rows need.
        let mut buffer = vec![0u32; (size as usize).div_ceil(4)];
        let pointer = if buffer.is_empty() {
            std::ptr::null_mut()
        } else {
            buffer.as_mut_ptr().cast()
        };
        // SAFETY: `pointer` is null (asking for the size) or points at `size` writable bytes
        // we own; `size` is a valid u32 the call updates.
        let rc = unsafe {
            match transport {
                Transport::Tcp => GetExtendedTcpTable(
                    pointer,
                    &mut size,
                    0,
                    family,
                    TCP_TABLE_OWNER_PID_LISTENER,
                    0,
                ),
                Transport::Udp => {
                    GetExtendedUdpTable(pointer, &mut size, 0, family, UDP_TABLE_OWNER_PID, 0)
                }
            }
        };
        match rc {
            NO_ERROR => {
                let bytes: Vec<u8> = buffer.iter().flat_map(|w| w.to_ne_bytes()).collect();
                return Some(bytes);
            }
            ERROR_INSUFFICIENT_BUFFER => continue,
            _ => return None,
        }
    }
    None
}

/// Every process's executable name by PID, from one Toolhelp snapshot (which, unlike
/// OpenProcess, names services of other users without elevation).
fn process_names() -> HashMap<u32, String> {
    let mut names = HashMap::new();
    // SAFETY: a snapshot of processes takes no pointer; the handle is closed below.
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    if snapshot == INVALID_HANDLE_VALUE || snapshot.is_null() {
        return names;
    }
    let mut entry = PROCESSENTRY32W {
        dwSize: size_of::<PROCESSENTRY32W>() as u32,
        ..Default::default()
    };
    // SAFETY: `entry` is a PROCESSENTRY32W with dwSize set, as both calls require.
    let mut more = unsafe { Process32FirstW(snapshot, &mut entry) } != 0;
    while more {
        names.insert(entry.th32ProcessID, exe_name(&entry.szExeFile));
        // SAFETY: as above.
        more = unsafe { Process32NextW(snapshot, &mut entry) } != 0;
    }
    // SAFETY: the snapshot handle is ours and closed once.
    unsafe { CloseHandle(snapshot) };
    names
}

/// The span of the TCP and UDP dynamic port ranges (each set on its own; both 49152-65535
/// unless changed).
pub fn ephemeral_range() -> Option<(u16, u16)> {
    let range = |protocol: &str| {
        let out = Command::new("netsh")
            .args(["int", "ipv4", "show", "dynamicport", protocol])
            .output()
            .ok()?;
        netsh_dynamic_ports(&String::from_utf8_lossy(&out.stdout))
    };
    match (range("tcp"), range("udp")) {
        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        (one, other) => one.or(other),
    }
}
