//! Real daemons from Debian packages, started inside a test namespace with a configuration
//! written to a temporary directory, and stopped (by PID) when dropped.
//!
//! Each launcher returns `None` (after printing why) when its program is not installed and the
//! run is not in CI; in CI a missing daemon is a failure, since `scripts/test` installs them.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Netns, unavailable};

/// A running daemon; killed and its directory removed on drop.
pub struct Daemon {
    pub name: &'static str,
    child: Child,
    pub dir: PathBuf,
    /// Extra processes to stop (daemons that fork their workers).
    stop: Option<Command>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.as_mut() {
            let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Daemon {
    /// The daemon's log, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

fn workdir(ns: &Netns, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{}-{name}", ns.name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("daemon dir");
    dir
}

fn installed(program: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(program).exists())
}

fn spawn(ns: &Netns, name: &'static str, dir: PathBuf, mut command: Command) -> Daemon {
    let log = std::fs::File::create(dir.join("log")).expect("log file");
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("start {name} in {}: {e}", ns.name));
    Daemon {
        name,
        child,
        dir,
        stop: None,
    }
}

/// Waits until a TCP port accepts inside `ns`.
pub fn wait_tcp(ns: &Netns, daemon: &mut Daemon, addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up =
            ns.run(move || TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok());
        if up {
            return;
        }
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!(
                "{} exited ({status}) before listening on {addr}:\n{}",
                daemon.name,
                daemon.log()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{} never listened on {addr}:\n{}",
            daemon.name,
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until a UDP service answers `probe` inside `ns`.
pub fn wait_udp(ns: &Netns, daemon: &mut Daemon, addr: SocketAddr, probe: Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let probe = probe.clone();
        let up = ns.run(move || {
            let socket = UdpSocket::bind(if addr.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            })
            .unwrap();
            socket
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            socket.send_to(&probe, addr).is_ok() && socket.recv_from(&mut [0u8; 1500]).is_ok()
        });
        if up {
            return;
        }
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!(
                "{} exited ({status}) before answering on {addr}:\n{}",
                daemon.name,
                daemon.log()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{} never answered on {addr}:\n{}",
            daemon.name,
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A self-signed certificate and key as PEM files in `dir`; `expired` dates it in the past.
pub fn certificate(dir: &Path, names: &[&str], expired: bool) -> (PathBuf, PathBuf) {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("certificate params");
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        names.first().copied().unwrap_or("lab"),
    );
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "mve-audit lab");
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    } else {
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2035, 1, 1);
    }
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .or_else(|_| rcgen::KeyPair::generate())
        .expect("key");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

/// SNMP agent settings.
pub struct Snmp<'a> {
    pub addr: SocketAddr,
    pub community: &'a str,
    pub sys_descr: &'a str,
    /// (user, auth password, priv password) for an SHA/AES authPriv user.
    pub v3_user: Option<(&'a str, &'a str, &'a str)>,
}

pub fn snmpd(ns: &Netns, settings: &Snmp) -> Option<Daemon> {
    if !installed("snmpd") {
        unavailable("snmpd is not installed");
        return None;
    }
    let dir = workdir(ns, "snmpd");
    let transport = if settings.addr.is_ipv4() {
        "udp"
    } else {
        "udp6"
    };
    let mut conf = format!(
        "agentAddress {transport}:{addr}\nrocommunity {community} default\nrocommunity6 {community} default\n\
         sysDescr {descr}\nsysName printer-lab\n",
        addr = settings.addr,
        community = settings.community,
        descr = settings.sys_descr,
    );
    if let Some((user, auth, private)) = settings.v3_user {
        conf.push_str(&format!(
            "createUser {user} SHA \"{auth}\" AES \"{private}\"\nrouser {user} priv\n"
        ));
    }
    std::fs::write(dir.join("snmpd.conf"), conf).unwrap();
    let mut command = ns.command("snmpd");
    command
        .env("MIBS", "")
        .env("SNMP_PERSISTENT_DIR", &dir)
        .args(["-f", "-Lo", "-C", "-c"])
        .arg(dir.join("snmpd.conf"))
        .arg("-p")
        .arg(dir.join("pid"));
    let mut daemon = spawn(ns, "snmpd", dir, command);
    let probe = mve_audit::wire::snmp::discovery_request(1, 1);
    wait_udp(ns, &mut daemon, settings.addr, probe);
    Some(daemon)
}

/// slapd with a small suffix, plain LDAP on `ldap` and LDAPS on `ldaps`, StartTLS offered.
pub fn slapd(ns: &Netns, ldap: SocketAddr, ldaps: SocketAddr) -> Option<Daemon> {
    if !installed("slapd") {
        unavailable("slapd is not installed");
        return None;
    }
    let dir = workdir(ns, "slapd");
    let (cert, key) = certificate(&dir, &["ldap.lab.test"], false);
    std::fs::create_dir_all(dir.join("db")).unwrap();
    let conf = format!(
        "include /etc/ldap/schema/core.schema\n\
         pidfile {dir}/slapd.pid\n\
         modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
         TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n\
         database mdb\nmaxsize 10485760\nsuffix \"dc=lab,dc=test\"\n\
         rootdn \"cn=admin,dc=lab,dc=test\"\ndirectory {dir}/db\n",
        dir = dir.display(),
        cert = cert.display(),
        key = key.display(),
    );
    std::fs::write(dir.join("slapd.conf"), conf).unwrap();
    let mut command = ns.command("slapd");
    command
        .args(["-d", "0", "-f"])
        .arg(dir.join("slapd.conf"))
        .arg("-h")
        .arg(format!("ldap://{ldap}/ ldaps://{ldaps}/"));
    let mut daemon = spawn(ns, "slapd", dir, command);
    wait_tcp(ns, &mut daemon, ldap);
    wait_tcp(ns, &mut daemon, ldaps);
    Some(daemon)
}

/// krb5kdc serving realm `realm` on UDP `addr`.
pub fn krb5kdc(ns: &Netns, addr: SocketAddr, realm: &str) -> Option<Daemon> {
    if !installed("krb5kdc") || !installed("kdb5_util") {
        unavailable("krb5-kdc is not installed");
        return None;
    }
    let dir = workdir(ns, "krb5kdc");
    let d = dir.display();
    std::fs::write(
        dir.join("krb5.conf"),
        format!("[libdefaults]\n default_realm = {realm}\n dns_lookup_kdc = false\n[realms]\n {realm} = {{\n  kdc = {addr}\n }}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("kdc.conf"),
        format!(
            "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = \"\"\n\
             [realms]\n {realm} = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  \
             acl_file = {d}/kadm5.acl\n  kdc_listen = {addr}\n  kdc_tcp_listen = \"\"\n }}\n\
             [logging]\n kdc = FILE:{d}/kdc.log\n",
            port = addr.port(),
        ),
    )
    .unwrap();
    let env = [
        ("KRB5_CONFIG", dir.join("krb5.conf")),
        ("KRB5_KDC_PROFILE", dir.join("kdc.conf")),
    ];
    let status = Command::new("kdb5_util")
        .envs(env.clone())
        .args(["-r", realm, "create", "-s", "-P", "lab-master-password"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("kdb5_util");
    assert!(status.success(), "kdb5_util create failed");
    let mut command = ns.command("krb5kdc");
    command
        .envs(env)
        .args(["-n", "-r", realm, "-P"])
        .arg(dir.join("pid"));
    let mut daemon = spawn(ns, "krb5kdc", dir, command);
    let probe = mve_audit::wire::kerberos::as_request(realm, 1);
    wait_udp(ns, &mut daemon, addr, probe);
    Some(daemon)
}

/// How the HTTPS side of an nginx presents itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// A self-signed certificate valid until 2035, modern TLS.
    Current,
    /// A certificate that expired in 2021.
    Expired,
    /// TLS 1.0 only, like old printer firmware.
    Tls10Only,
}

/// nginx with HTTP on `http` and HTTPS on `https` (self-signed, or expired when asked).
pub fn nginx(
    ns: &Netns,
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    tls: Tls,
) -> Option<Daemon> {
    let listens: Vec<SocketAddr> = http.into_iter().chain(https).collect();
    nginx_with(
        ns,
        |dir| {
            let (cert, key) = certificate(dir, &["printer.lab.test"], tls == Tls::Expired);
            let protocols = match tls {
                // OpenSSL 3 refuses TLS 1.0 above security level 0.
                Tls::Tls10Only => "ssl_protocols TLSv1; ssl_ciphers \"DEFAULT:@SECLEVEL=0\";",
                _ => "",
            };
            let mut servers = String::new();
            if let Some(addr) = http {
                servers.push_str(&format!(
                    "server {{ listen {addr}; location / {{ return 200 \"printer\\n\"; }} }}\n"
                ));
            }
            if let Some(addr) = https {
                servers.push_str(&format!(
                    "server {{ listen {addr} ssl; {protocols} ssl_certificate {}; ssl_certificate_key {}; location / {{ return 200 \"printer\\n\"; }} }}\n",
                    cert.display(),
                    key.display()
                ));
            }
            servers
        },
        &listens,
    )
}

/// slapd on `ldap` (plain LDAP only) serving `dc=lab,dc=test` loaded from `ldif` (slapadd,
/// before the start), readable anonymously.
pub fn slapd_with(ns: &Netns, ldap: SocketAddr, ldif: &str) -> Option<Daemon> {
    if !installed("slapd") {
        unavailable("slapd is not installed");
        return None;
    }
    let dir = workdir(ns, "slapd");
    std::fs::create_dir_all(dir.join("db")).unwrap();
    let conf = format!(
        "include /etc/ldap/schema/core.schema\n\
         pidfile {dir}/slapd.pid\n\
         modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
         database mdb\nmaxsize 10485760\nsuffix \"dc=lab,dc=test\"\n\
         rootdn \"cn=admin,dc=lab,dc=test\"\ndirectory {dir}/db\n",
        dir = dir.display(),
    );
    std::fs::write(dir.join("slapd.conf"), conf).unwrap();
    std::fs::write(dir.join("data.ldif"), ldif).unwrap();
    let added = Command::new("slapadd")
        .arg("-f")
        .arg(dir.join("slapd.conf"))
        .arg("-l")
        .arg(dir.join("data.ldif"))
        .output()
        .expect("slapadd");
    assert!(
        added.status.success(),
        "slapadd: {}",
        String::from_utf8_lossy(&added.stderr)
    );
    let mut command = ns.command("slapd");
    command
        .args(["-d", "0", "-f"])
        .arg(dir.join("slapd.conf"))
        .arg("-h")
        .arg(format!("ldap://{ldap}/"));
    let mut daemon = spawn(ns, "slapd", dir, command);
    wait_tcp(ns, &mut daemon, ldap);
    Some(daemon)
}

/// nginx with `http` as the body of its `http {}` block (servers, maps, types), its work
/// directory prepared by `prepare` first (files to serve, certificates); waits for `listens`.
pub fn nginx_with(
    ns: &Netns,
    prepare: impl FnOnce(&Path) -> String,
    listens: &[SocketAddr],
) -> Option<Daemon> {
    if !installed("nginx") {
        unavailable("nginx is not installed");
        return None;
    }
    let dir = workdir(ns, "nginx");
    let http = prepare(&dir);
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 64; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n \
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n{http}}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut command = ns.command("nginx");
    command
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"));
    let mut daemon = spawn(ns, "nginx", dir, command);
    for addr in listens {
        wait_tcp(ns, &mut daemon, *addr);
    }
    Some(daemon)
}

/// vsftpd on `addr`: anonymous read-only into an empty directory (vsftpd refuses to start
/// with every login disabled); the probe never logs in anyway.
pub fn vsftpd(ns: &Netns, addr: SocketAddr) -> Option<Daemon> {
    if !installed("vsftpd") {
        unavailable("vsftpd is not installed");
        return None;
    }
    let dir = workdir(ns, "vsftpd");
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let conf = format!(
        "listen=YES\nlisten_ipv6=NO\nlisten_address={ip}\nlisten_port={port}\nbackground=NO\n\
         anonymous_enable=YES\nanon_root={empty}\nno_anon_password=YES\nlocal_enable=NO\nwrite_enable=NO\nseccomp_sandbox=NO\n\
         ftpd_banner=Lexmark lab FTP ready\nsecure_chroot_dir={empty}\nxferlog_enable=NO\n",
        ip = addr.ip(),
        port = addr.port(),
        empty = dir.join("empty").display(),
    );
    std::fs::write(dir.join("vsftpd.conf"), conf).unwrap();
    let mut command = ns.command("vsftpd");
    command.arg(dir.join("vsftpd.conf"));
    let mut daemon = spawn(ns, "vsftpd", dir, command);
    wait_tcp(ns, &mut daemon, addr);
    Some(daemon)
}

/// Postfix's smtpd on `addr` with STARTTLS (self-signed), in an instance of its own.
pub fn postfix(ns: &Netns, addr: SocketAddr) -> Option<Daemon> {
    if !installed("postfix") {
        unavailable("postfix is not installed");
        return None;
    }
    let dir = workdir(ns, "postfix");
    let (cert, key) = certificate(&dir, &["mail.lab.test"], false);
    let d = dir.display();
    let main = format!(
        "compatibility_level = 3.6\nqueue_directory = {d}/queue\ndata_directory = {d}/data\n\
         mail_owner = postfix\nsetgid_group = postdrop\ninet_interfaces = {ip}\ninet_protocols = {proto}\n\
         myhostname = mail.lab.test\nmydestination =\nalias_maps =\nalias_database =\n\
         smtpd_banner = $myhostname ESMTP lab\nsmtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n\
         smtpd_tls_security_level = may\nmaillog_file = /dev/stdout\n",
        ip = addr.ip(),
        proto = if addr.is_ipv4() { "ipv4" } else { "ipv6" },
        cert = cert.display(),
        key = key.display(),
    );
    let listen = match addr {
        SocketAddr::V4(v4) => v4.to_string(),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    };
    let master = format!(
        "{listen} inet n - n - - smtpd\n\
         cleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\n\
         rewrite unix - - n - - trivial-rewrite\nbounce unix - - n - 0 bounce\n\
         defer unix - - n - 0 bounce\ntrace unix - - n - 0 bounce\nverify unix - - n - 1 verify\n\
         flush unix n - n 1000? 0 flush\nproxymap unix - - n - - proxymap\n\
         anvil unix - - n - 1 anvil\nscache unix - - n - 1 scache\ntlsmgr unix - - n 1000? 1 tlsmgr\n\
         showq unix n - n - - showq\nerror unix - - n - - error\nretry unix - - n - - error\n\
         discard unix - - n - - discard\nlocal unix - n n - - local\nsmtp unix - - n - - smtp\n\
         postlog unix-dgram n - n - 1 postlogd\n"
    );
    std::fs::write(dir.join("main.cf"), main).unwrap();
    std::fs::write(dir.join("master.cf"), master).unwrap();
    std::fs::create_dir_all(dir.join("queue")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    // The queue's subdirectories, owners and modes, as Postfix wants them.
    let status = ns
        .command("postfix")
        .arg("-c")
        .arg(&dir)
        .args(["set-permissions", "create-missing"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("postfix set-permissions");
    assert!(status.success(), "postfix set-permissions failed");
    let mut command = ns.command("postfix");
    command.arg("-c").arg(&dir).arg("start-fg");
    let mut daemon = spawn(ns, "postfix", dir.clone(), command);
    let mut stop = ns.command("postfix");
    stop.arg("-c").arg(&dir).arg("stop");
    daemon.stop = Some(stop);
    wait_tcp(ns, &mut daemon, addr);
    Some(daemon)
}

/// The Firebird 3 server on port 3050 of `addr`. Debian's configuration binds it to localhost;
/// for another address the namespace gets its own /etc/firebird (which `ip netns exec`
/// mounts over the real one) without that line.
pub fn firebird(ns: &Netns, addr: std::net::IpAddr) -> Option<Daemon> {
    if !installed("firebird") {
        unavailable("firebird3.0-server is not installed");
        return None;
    }
    if !addr.is_loopback() {
        let etc = PathBuf::from("/etc/netns").join(&ns.name).join("firebird");
        let status = Command::new("cp")
            .arg("-a")
            .arg("/etc/firebird")
            .arg(&etc)
            .status()
            .expect("cp");
        assert!(status.success(), "copy /etc/firebird");
        let conf = etc.join("3.0/firebird.conf");
        let text = std::fs::read_to_string(&conf).expect("firebird.conf");
        let text: String = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("RemoteBindAddress") {
                    format!("#{l}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(&conf, text).unwrap();
    }
    let dir = workdir(ns, "firebird");
    let command = ns.command("/usr/sbin/firebird");
    let mut daemon = spawn(ns, "firebird", dir, command);
    wait_tcp(ns, &mut daemon, SocketAddr::new(addr, 3050));
    Some(daemon)
}

/// avahi-daemon on interface `interface` of `ns`, publishing a Lexmark-like printer: IPP and
/// `_host-config._udp` TXT records with the security keys MVE reads.
pub fn avahi(ns: &Netns, interface: &str, host_name: &str) -> Option<Daemon> {
    if !installed("avahi-daemon") {
        unavailable("avahi-daemon is not installed");
        return None;
    }
    // `ip netns exec` bind-mounts /etc/netns/NAME/avahi over /etc/avahi: the service files
    // and configuration of this namespace alone.
    let etc = PathBuf::from("/etc/netns").join(&ns.name).join("avahi");
    std::fs::create_dir_all(etc.join("services")).unwrap();
    std::fs::write(
        etc.join("avahi-daemon.conf"),
        format!(
            "[server]\nhost-name={host_name}\ndomain-name=local\nuse-ipv4=yes\nuse-ipv6=no\n\
             allow-interfaces={interface}\nenable-dbus=no\nratelimit-interval-usec=1000000\nratelimit-burst=1000\n\
             [wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n"
        ),
    )
    .unwrap();
    std::fs::write(
        etc.join("services").join("printer.service"),
        "<?xml version=\"1.0\" standalone='no'?>\n\
         <!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">\n\
         <service-group>\n  <name replace-wildcards=\"yes\">Lexmark CX725 (%h)</name>\n\
         <service><type>_ipp._tcp</type><port>631</port><txt-record>ty=Lexmark CX725</txt-record></service>\n\
         <service><type>_host-config._udp</type><port>9300</port>\
         <txt-record>SECUREMODE 1</txt-record><txt-record>PASSWORDSET 1</txt-record>\
         <txt-record>NEWPASSWORDTYPE 2</txt-record><txt-record>MACUAA 00:21:b7:aa:bb:cc</txt-record></service>\n\
         </service-group>\n",
    )
    .unwrap();
    let dir = workdir(ns, "avahi");
    // The pid file lives in /run/avahi-daemon, shared between namespaces: give this instance a
    // private one in a mount namespace of its own.
    let mut command = ns.command("unshare");
    command.args([
        "-m",
        "sh",
        "-c",
        "mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && \
         exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -s",
    ]);
    let daemon = spawn(ns, "avahi-daemon", dir, command);
    // Avahi announces after probing its names (about a second); callers query with retries.
    std::thread::sleep(Duration::from_millis(1500));
    Some(daemon)
}
