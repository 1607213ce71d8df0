//! A network in a box: test hosts as network namespaces on a bridge that lives in a namespace
//! of its own, with no route off the machine. Addresses are lab-only: 10.231.1.0/24 and
//! fd00:231::/64 exist inside these namespaces and nowhere else.
//!
//! Dropping the lab stops every daemon (by PID), then deletes every namespace, also when the
//! test that built it panics.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};

use super::Netns;
use super::daemons::Daemon;

pub struct Lab {
    // Fields drop in this order: daemons before the namespaces they run in.
    pub daemons: Vec<Daemon>,
    pub hosts: Vec<(String, Netns)>,
    pub bridge: Netns,
}

impl Lab {
    pub fn new() -> Option<Lab> {
        let bridge = Netns::create(&[])?;
        bridge.ip(&["link", "add", "br0", "type", "bridge"]);
        bridge.ip(&["link", "set", "br0", "up"]);
        Some(Lab {
            daemons: Vec::new(),
            hosts: Vec::new(),
            bridge,
        })
    }

    /// Adds a host on the bridge, its interface `lab0` carrying `addrs` (v4 /24, v6 /64);
    /// `hosts` lines go into its /etc/hosts.
    pub fn add_host(&mut self, name: &str, addrs: &[&str], hosts: &[&str]) -> &Netns {
        let ns = Netns::create(hosts).expect("lab host namespace");
        let port = format!("v{}", self.hosts.len());
        self.bridge.ip(&[
            "link", "add", &port, "type", "veth", "peer", "name", "lab0", "netns", &ns.name,
        ]);
        self.bridge.ip(&["link", "set", &port, "master", "br0"]);
        self.bridge.ip(&["link", "set", &port, "up"]);
        for addr in addrs {
            if addr.contains(':') {
                // No duplicate address detection: the address is usable at once.
                ns.ip(&["addr", "add", &format!("{addr}/64"), "dev", "lab0", "nodad"]);
            } else {
                ns.ip(&["addr", "add", &format!("{addr}/24"), "dev", "lab0"]);
            }
        }
        ns.ip(&["link", "set", "lab0", "up"]);
        self.hosts.push((name.to_string(), ns));
        &self.hosts.last().unwrap().1
    }

    pub fn ns(&self, name: &str) -> &Netns {
        &self
            .hosts
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no lab host {name}"))
            .1
    }

    pub fn keep(&mut self, daemon: Option<Daemon>) -> bool {
        match daemon {
            Some(daemon) => {
                self.daemons.push(daemon);
                true
            }
            None => false,
        }
    }

    /// Sets the ICMP error rate limit of every host (milliseconds between errors to one peer
    /// after the burst; 1000 is the kernel's default, 0 turns it off).
    pub fn icmp_ratelimit(&self, ms: u32) {
        for (_, ns) in &self.hosts {
            let status = ns
                .command("sysctl")
                .args([
                    "-q",
                    "-w",
                    &format!("net.ipv4.icmp_ratelimit={ms}"),
                    &format!("net.ipv6.icmp.ratelimit={ms}"),
                ])
                .status()
                .expect("sysctl");
            assert!(status.success(), "sysctl icmp ratelimit in {}", ns.name);
        }
    }
}

/// A stand-in for a Lexmark UDP service (no public implementation exists): answers every
/// datagram with `reply`.
pub fn udp_stand_in(ns: &Netns, addr: SocketAddr, reply: &'static [u8]) {
    let socket = ns.run(move || UdpSocket::bind(addr).expect("bind stand-in"));
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        // Bounded: the test process ends long before a thousand datagrams.
        for _ in 0..1000 {
            let Ok((_, from)) = socket.recv_from(&mut buf) else {
                break;
            };
            let _ = socket.send_to(reply, from);
        }
    });
}

/// A TCP listener that accepts and records how many bytes each connection sent (the RAW 9100
/// port of a lab printer, the LST handshake stand-in).
pub fn tcp_recorder(ns: &Netns, addr: SocketAddr) -> Arc<Mutex<Vec<usize>>> {
    let listener = ns.run(move || TcpListener::bind(addr).expect("bind recorder"));
    let received = Arc::new(Mutex::new(Vec::new()));
    let record = received.clone();
    std::thread::spawn(move || {
        for _ in 0..1000 {
            let Ok((mut conn, _)) = listener.accept() else {
                break;
            };
            let record = record.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                let mut all = Vec::new();
                let _ = conn.read_to_end(&mut all);
                record.lock().unwrap().push(all.len());
            });
        }
    });
    received
}
