//! The listening TCP sockets of this network namespace, from the kernel's
//! sock_diag netlink interface (what `ss -tl` uses).
//!
//! The kernel filters by state, so the answer holds only listeners however
//! many connections the machine has; /proc/net/tcp lists every socket and
//! takes long to read on a busy host.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// SOCK_DIAG_BY_FAMILY (linux/sock_diag.h).
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// TCP_LISTEN (include/net/tcp_states.h).
const TCP_LISTEN: u32 = 10;
const NLMSG_HDR: usize = 16;
/// struct inet_diag_req_v2.
const REQ_LEN: usize = 56;
/// struct inet_diag_msg.
const MSG_LEN: usize = 72;

/// (address, socket inode) of every TCP listener of `family` (AF_INET or
/// AF_INET6), of any process in this network namespace.
pub(super) fn tcp_listeners(family: i32) -> io::Result<Vec<(SocketAddr, u64)>> {
    // SAFETY: socket has no memory-safety preconditions.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: just created, owned by nobody else.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    send_request(&sock, family)?;
    let mut found = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // SAFETY: `buf` is a live buffer of buf.len() writable bytes.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if parse_batch(&buf[..n as usize], &mut found)? {
            return Ok(found);
        }
    }
}

fn send_request(sock: &OwnedFd, family: i32) -> io::Result<()> {
    let mut req = [0u8; NLMSG_HDR + REQ_LEN];
    req[0..4].copy_from_slice(&((NLMSG_HDR + REQ_LEN) as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    req[6..8].copy_from_slice(&flags.to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes()); // sequence number
    req[NLMSG_HDR] = family as u8;
    req[NLMSG_HDR + 1] = libc::IPPROTO_TCP as u8;
    req[NLMSG_HDR + 4..NLMSG_HDR + 8].copy_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
    // SAFETY: a zeroed sockaddr_nl is valid; nl_pid 0 addresses the kernel.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: `req` and `kernel` are live for the call, which only reads them.
    let sent = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            req.as_ptr().cast(),
            req.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads the messages of one datagram into `found`; true at the end of
/// the dump.
fn parse_batch(mut batch: &[u8], found: &mut Vec<(SocketAddr, u64)>) -> io::Result<bool> {
    while batch.len() >= NLMSG_HDR {
        let len = u32::from_ne_bytes(batch[0..4].try_into().expect("4 bytes")) as usize;
        let kind = u16::from_ne_bytes(batch[4..6].try_into().expect("2 bytes"));
        if len < NLMSG_HDR || len > batch.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "truncated sock_diag answer",
            ));
        }
        let body = &batch[NLMSG_HDR..len];
        match i32::from(kind) {
            libc::NLMSG_DONE => return Ok(true),
            libc::NLMSG_ERROR => {
                let errno = body.get(0..4).map_or(libc::EIO, |b| {
                    -i32::from_ne_bytes(b.try_into().expect("4 bytes"))
                });
                return Err(io::Error::from_raw_os_error(errno));
            }
            _ => found.extend(parse_listener(body)),
        }
        batch = batch.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(false)
}

/// One struct inet_diag_msg: family, state, then the socket id (ports and
/// addresses in network order), and the inode at its end.
fn parse_listener(msg: &[u8]) -> Option<(SocketAddr, u64)> {
    if msg.len() < MSG_LEN {
        return None;
    }
    let port = u16::from_be_bytes([msg[4], msg[5]]);
    let src = &msg[8..24];
    let ip = match i32::from(msg[0]) {
        libc::AF_INET => IpAddr::V4(Ipv4Addr::new(src[0], src[1], src[2], src[3])),
        libc::AF_INET6 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(src).ok()?)),
        _ => return None,
    };
    let inode = u32::from_ne_bytes(msg[68..72].try_into().ok()?);
    Some((SocketAddr::new(ip, port), u64::from(inode)))
}
