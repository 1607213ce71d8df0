//! Platform-specific socket details, kept in one file so the rest of the code is portable.

use std::io;

use socket2::Socket;

/// Lets several of our own probes leave from one fixed source port at once (UDP 9187 toward
/// many printers). On Linux, SO_REUSEADDR lets connected UDP sockets share a port and the
/// kernel delivers each reply and ICMP error to the socket connected to its sender, while a
/// port held by another program without SO_REUSEADDR (MVE itself) still refuses the bind.
#[cfg(unix)]
pub fn share_source_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_address(true)
}

/// On Windows SO_REUSEADDR would let us steal a port MVE holds, so it is never set there;
/// probes from a fixed source port take turns instead (`SHARES_SOURCE_PORT`).
#[cfg(not(unix))]
pub fn share_source_port(_socket: &Socket) -> io::Result<()> {
    Ok(())
}

/// Whether probes may leave from the same fixed source port concurrently.
pub const SHARES_SOURCE_PORT: bool = cfg!(unix);

/// One receive that tells the sender, into an ordinary byte buffer: recvfrom(2) on Unix,
/// WSARecvFrom on Windows. One call, so there is no separate MSG_PEEK for the sender (a peek
/// that reports "would block" while the poll says "readable" is the spin Wine 8 showed).
///
/// The datagram lands in a stack buffer of `N` bytes that is never zeroed (a reply is read
/// whole, up to 64 KiB, on the hot path of every UDP answer) and comes back copied at its
/// own length.
#[allow(unsafe_code)]
pub fn recv_from<const N: usize>(socket: &Socket) -> io::Result<(Vec<u8>, socket2::SockAddr)> {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); N];
    let (len, from) = socket.recv_from(&mut buf)?;
    let filled = buf.get(..len).unwrap_or(&buf);
    // SAFETY: recvfrom wrote the first `len` bytes (socket2 returns how many), so that
    // prefix is initialised; `MaybeUninit<u8>` has the layout of `u8`.
    let bytes = unsafe { std::slice::from_raw_parts(filled.as_ptr().cast::<u8>(), filled.len()) };
    Ok((bytes.to_vec(), from))
}

/// How often a UDP wait looks at the socket's pending error (SO_ERROR) when no readiness
/// comes. Linux reports an ICMP error as readiness (EPOLLERR), so only the last look before
/// silence is needed there. Under Wine 8 an ICMP port unreachable often reaches SO_ERROR with
/// no readiness at all; whether real Windows' AFD poll can do the same is not known here, so
/// Windows looks every quarter second (one getsockopt per probe in flight).
#[cfg(windows)]
pub const PENDING_ERROR_POLL: Option<std::time::Duration> =
    Some(std::time::Duration::from_millis(250));
#[cfg(not(windows))]
pub const PENDING_ERROR_POLL: Option<std::time::Duration> = None;

/// EPERM (a local firewall dropped the packet) and EACCES (e.g. a broadcast address) both
/// surface as `PermissionDenied`; the raw code tells them apart.
#[cfg(unix)]
pub fn permission_errno(err: &io::Error) -> &'static str {
    // The values are fixed by POSIX on every Unix this runs on.
    match err.raw_os_error() {
        Some(1) => "EPERM",
        _ => "EACCES",
    }
}

#[cfg(not(unix))]
pub fn permission_errno(_err: &io::Error) -> &'static str {
    "WSAEACCES"
}

/// Lets a listening-port check bind a TCP port that only has connections in TIME_WAIT, as a
/// server does on Unix; a port with a live listener still refuses. Not on Windows, where the
/// same option would let us steal a port another program listens on.
#[cfg(unix)]
pub fn allow_time_wait_reuse(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_address(true)
}

#[cfg(not(unix))]
pub fn allow_time_wait_reuse(_socket: &Socket) -> io::Result<()> {
    Ok(())
}

/// The ICMP message behind a socket error: type, code and the host that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpDetail {
    pub v6: bool,
    pub kind: u8,
    pub code: u8,
    pub from: Option<std::net::IpAddr>,
}

/// Asks the kernel to queue every ICMP error for this UDP socket with its type and code
/// (IP_RECVERR / IPV6_RECVERR). Without it Linux reports only "hard" errors, and an ICMP
/// host unreachable reads as silence.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn enable_icmp_details(socket: &Socket, v6: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (level, name) = if v6 {
        (libc::SOL_IPV6, libc::IPV6_RECVERR)
    } else {
        (libc::SOL_IP, libc::IP_RECVERR)
    };
    let on: libc::c_int = 1;
    // SAFETY: the descriptor is open for the duration of the call (borrowed from `socket`),
    // and the option value is a c_int whose size is passed with it.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Windows reports an ICMP port unreachable on a UDP socket as WSAECONNRESET from the next
/// receive, but only while SIO_UDP_CONNRESET is on (the default, set here all the same so a
/// closed port can never read as silence), and an ICMP time exceeded as WSAENETRESET only
/// while SIO_UDP_NETRESET is on (off by default). Windows gives no ICMP type, code or sender
/// for UDP: the error code alone decides (`classify`), and `read_icmp_detail` has nothing to
/// add.
#[cfg(windows)]
pub fn enable_icmp_details(socket: &Socket, _v6: bool) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{SIO_UDP_CONNRESET, SIO_UDP_NETRESET};
    udp_control(socket, SIO_UDP_CONNRESET, true)?;
    udp_control(socket, SIO_UDP_NETRESET, true)
}

/// For a listening (unconnected) UDP socket: Windows would fail its next receive with
/// WSAECONNRESET whenever one of its replies drew an ICMP port unreachable (a sender that
/// left), so that report is turned off. Linux gives an unconnected socket no such error.
#[cfg(windows)]
pub fn ignore_icmp_errors(socket: socket2::SockRef<'_>) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::SIO_UDP_CONNRESET;
    udp_control(&socket, SIO_UDP_CONNRESET, false)
}

#[cfg(not(windows))]
pub fn ignore_icmp_errors(_socket: socket2::SockRef<'_>) -> io::Result<()> {
    Ok(())
}

/// Turns one of Windows' UDP error-report controls on or off.
#[cfg(windows)]
#[allow(unsafe_code)]
fn udp_control(socket: &Socket, control: u32, on: bool) -> io::Result<()> {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{SOCKET, WSAIoctl};
    let value = u32::from(on);
    let mut returned: u32 = 0;
    // SAFETY: the socket is open for the duration of the call (borrowed from `socket`); the
    // input is a u32 whose size is passed with it, there is no output buffer, and no
    // OVERLAPPED (a synchronous call).
    let rc = unsafe {
        WSAIoctl(
            socket.as_raw_socket() as SOCKET,
            control,
            (&value as *const u32).cast(),
            std::mem::size_of::<u32>() as u32,
            std::ptr::null_mut(),
            0,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
pub fn enable_icmp_details(_socket: &Socket, _v6: bool) -> io::Result<()> {
    Ok(())
}

/// Reads one queued ICMP error from the socket's error queue, without blocking.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn read_icmp_detail(socket: &tokio::net::UdpSocket) -> Option<IcmpDetail> {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    const ORIGIN_ICMP: u8 = 2;
    const ORIGIN_ICMP6: u8 = 3;
    let mut data = [0u8; 512];
    let mut control = [0u64; 64]; // 512 bytes, aligned for cmsghdr
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: an all-zero msghdr is valid; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: `msg` describes buffers we own; MSG_DONTWAIT keeps the call from blocking.
    let rc = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    if rc < 0 {
        return None;
    }
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled, bounded by
    // msg_controllen; each header is checked before its data is read.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let header = &*cmsg;
            let ip = header.cmsg_level == libc::SOL_IP && header.cmsg_type == libc::IP_RECVERR;
            let ip6 = header.cmsg_level == libc::SOL_IPV6 && header.cmsg_type == libc::IPV6_RECVERR;
            let room = header.cmsg_len as usize;
            if (ip || ip6)
                && room
                    >= libc::CMSG_LEN(std::mem::size_of::<libc::sock_extended_err>() as u32)
                        as usize
            {
                let err = std::ptr::read_unaligned(
                    libc::CMSG_DATA(cmsg).cast::<libc::sock_extended_err>(),
                );
                if err.ee_origin != ORIGIN_ICMP && err.ee_origin != ORIGIN_ICMP6 {
                    return None;
                }
                let offender =
                    libc::SO_EE_OFFENDER(libc::CMSG_DATA(cmsg).cast::<libc::sock_extended_err>());
                let from = offender_addr(offender);
                return Some(IcmpDetail {
                    v6: err.ee_origin == ORIGIN_ICMP6,
                    kind: err.ee_type,
                    code: err.ee_code,
                    from,
                });
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    None
}

/// The address of the host that sent the ICMP message (SO_EE_OFFENDER).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
unsafe fn offender_addr(addr: *const libc::sockaddr) -> Option<std::net::IpAddr> {
    // SAFETY: the kernel writes a sockaddr_in or sockaddr_in6 after sock_extended_err, inside
    // the control message; the family tells which.
    unsafe {
        match i32::from((*addr).sa_family) {
            libc::AF_INET => {
                let v4 = std::ptr::read_unaligned(addr.cast::<libc::sockaddr_in>());
                Some(std::net::Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr)).into())
            }
            libc::AF_INET6 => {
                let v6 = std::ptr::read_unaligned(addr.cast::<libc::sockaddr_in6>());
                Some(std::net::Ipv6Addr::from(v6.sin6_addr.s6_addr).into())
            }
            _ => None,
        }
    }
}

/// Elsewhere (Windows among them) the OS reports no ICMP detail for UDP beyond the error code.
#[cfg(not(target_os = "linux"))]
pub fn read_icmp_detail(_socket: &tokio::net::UdpSocket) -> Option<IcmpDetail> {
    None
}

/// Raises the soft limit on open files to the hard limit, so the slots a fleet run needs are
/// there, and returns the limit now in force. `None` where the limit is not known.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn raise_fd_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct; failing leaves the old limit in force.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    Some(limit.rlim_cur)
}

/// Windows has no per-process descriptor limit of this kind; sockets are bounded by memory.
#[cfg(not(target_os = "linux"))]
pub fn raise_fd_limit() -> Option<u64> {
    None
}

/// Whether an error means this process (EMFILE) or the system (ENFILE) is out of file
/// descriptors: a local, passing shortage, never a fact about the peer.
pub fn out_of_descriptors(err: &io::Error) -> bool {
    #[cfg(unix)]
    const CODES: [i32; 2] = [24, 23]; // EMFILE, ENFILE on Linux and the BSDs
    #[cfg(windows)]
    const CODES: [i32; 2] = [10024, 10055]; // WSAEMFILE, WSAENOBUFS
    #[cfg(not(any(unix, windows)))]
    const CODES: [i32; 0] = [];
    err.raw_os_error().is_some_and(|code| CODES.contains(&code))
}

/// Whether a non-blocking connect has started rather than failed: EINPROGRESS on Unix, a
/// would-block error on Windows.
pub fn connect_in_progress(err: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    const IN_PROGRESS: i32 = 115;
    #[cfg(all(unix, not(target_os = "linux")))]
    const IN_PROGRESS: i32 = 36; // macOS and the BSDs
    #[cfg(not(unix))]
    const IN_PROGRESS: i32 = -1;
    err.kind() == io::ErrorKind::WouldBlock || err.raw_os_error() == Some(IN_PROGRESS)
}
