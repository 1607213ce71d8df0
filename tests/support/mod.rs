//! Test hosts as network namespaces. Every test that sends a packet does it inside a namespace
//! it created, whose only interface is its own loopback: a stray packet has nowhere to go.
//! A namespace gets its own resolv.conf (a resolver on its loopback, where nothing answers) and
//! hosts file, so no test asks the machine's real resolver anything.
//!
//! Needs root (CI runs as root). Outside CI a test without root skips with a printed reason;
//! in CI (`CI` set) it fails loudly instead.

#![allow(dead_code)]
// Network namespaces and setns are Linux-only: the test files that use them are gated too.
#![cfg(target_os = "linux")]

pub mod daemons;
pub mod lab;

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

/// A network namespace that is deleted, with its /etc/netns files, when dropped.
pub struct Netns {
    pub name: String,
    etc: PathBuf,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// Skips (outside CI) or fails (in CI) with a reason.
pub fn unavailable(reason: &str) -> Option<Netns> {
    if in_ci() {
        panic!("test namespace unavailable in CI: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    None
}

impl Netns {
    /// A fresh namespace with loopback up; `hosts` lines go into its /etc/hosts.
    pub fn create(hosts: &[&str]) -> Option<Netns> {
        let uid = current_uid();
        if uid != Some(0) {
            return unavailable("network namespaces need root");
        }
        let name = format!(
            "mvt-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        match Command::new("ip").args(["netns", "add", &name]).status() {
            Ok(status) if status.success() => {}
            Ok(status) => return unavailable(&format!("`ip netns add` failed: {status}")),
            Err(err) => return unavailable(&format!("cannot run `ip` (iproute2): {err}")),
        }
        let etc = PathBuf::from("/etc/netns").join(&name);
        let ns = Netns { name, etc };
        std::fs::create_dir_all(&ns.etc).expect("create /etc/netns dir");
        std::fs::write(
            ns.etc.join("resolv.conf"),
            "# test namespace: a resolver on its own loopback, where nothing listens\n\
             nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        )
        .expect("write resolv.conf");
        let mut hosts_file = String::from("127.0.0.1 localhost\n");
        for line in hosts {
            hosts_file.push_str(line);
            hosts_file.push('\n');
        }
        std::fs::write(ns.etc.join("hosts"), hosts_file).expect("write hosts");
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    /// Runs `ip -n NAME ARGS`, panicking on failure.
    pub fn ip(&self, args: &[&str]) {
        let status = Command::new("ip")
            .arg("-n")
            .arg(&self.name)
            .args(args)
            .status()
            .expect("run ip");
        assert!(status.success(), "ip -n {} {args:?} failed", self.name);
    }

    /// Loads an nftables ruleset into the namespace. Returns false (after printing why) when
    /// nft is missing outside CI.
    pub fn nft(&self, rules: &str) -> bool {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name, "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(err) => {
                unavailable(&format!("cannot run nft: {err}"));
                return false;
            }
        };
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(rules.as_bytes())
            .expect("write rules");
        let status = child.wait().expect("wait for nft");
        if !status.success() {
            if which("nft") {
                panic!("nft rejected the ruleset:\n{rules}");
            }
            unavailable("nft (package nftables) is not installed");
            return false;
        }
        true
    }

    /// Joins this namespace to `peer` with a veth pair, giving each end an IPv4 address (lab
    /// addresses, /24, that exist only inside the two test namespaces). Returns the names of
    /// this end and the peer's end.
    pub fn link(&self, peer: &Netns, mine: &str, theirs: &str) -> (String, String) {
        // Interface names hold at most 15 bytes: the pid in hex (at most 6 digits on Linux)
        // and a counter keep the pair unique across the test processes that run at once.
        let stem = format!(
            "v{:x}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let (a, b) = (format!("{stem}a"), format!("{stem}b"));
        self.ip(&[
            "link", "add", &a, "type", "veth", "peer", "name", &b, "netns", &peer.name,
        ]);
        self.ip(&["addr", "add", &format!("{mine}/24"), "dev", &a]);
        self.ip(&["link", "set", &a, "up"]);
        peer.ip(&["addr", "add", &format!("{theirs}/24"), "dev", &b]);
        peer.ip(&["link", "set", &b, "up"]);
        (a, b)
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// The mve-audit binary, run inside the namespace.
    pub fn mve_audit(&self) -> Command {
        self.command(env!("CARGO_BIN_EXE_mve-audit"))
    }

    /// Runs `f` on a thread that has entered the namespace. Sockets created there stay in the
    /// namespace wherever they are used afterwards.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            enter(&path);
            f()
        })
    }

    /// Runs `f` inside the namespace and returns its result.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        self.spawn(f).join().expect("namespace thread panicked")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // `ip netns del` can fail with EBUSY while another test's `ip netns exec` is setting
        // up its own mount namespace (it briefly holds a copy of the mount): try again.
        for attempt in 0..10 {
            let deleted = Command::new("ip")
                .args(["netns", "del", &self.name])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            let gone = !std::path::Path::new("/run/netns").join(&self.name).exists();
            if deleted || gone {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50 * (attempt + 1)));
        }
        let _ = std::fs::remove_dir_all(&self.etc);
        // Daemon work directories are named after the namespace; one whose daemon never
        // started (a failed launch) is removed here.
        let prefix = format!("{}-", self.name);
        if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
}

/// Moves the calling thread into the namespace mounted at `path`.
fn enter(path: &str) {
    let file = File::open(path).expect("open namespace");
    // SAFETY: setns only reads the descriptor, which `file` keeps open for the call; it changes
    // the network namespace of this thread alone, which is what a test thread wants.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns({path}): {}", std::io::Error::last_os_error());
}

fn current_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Runs mve-audit in `ns` with `args` and returns (exit code, stdout, stderr).
pub fn run_in(ns: &Netns, args: &[&str]) -> (i32, String, String) {
    let output = ns.mve_audit().args(args).output().expect("run mve-audit");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs mve-audit with `--format json` and returns the exit code and the parsed report.
pub fn json_in(ns: &Netns, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = run_in(ns, &all);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    (code, report)
}

/// Audits one check of the namespace's own 127.0.0.1 on the port given as `ID=PORT`, as JSON.
pub fn check_one(ns: &Netns, check: &str, port: &str) -> (i32, serde_json::Value) {
    json_in(
        ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            check,
            "--port",
            port,
        ],
    )
}

/// The one cell of a report for `check`.
pub fn cell<'a>(report: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    report["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["check"] == check)
        .unwrap_or_else(|| panic!("no {check} cell in {report:#}"))
}
