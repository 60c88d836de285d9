//! Refusing an address another process already listens on.
//!
//! SO_REUSEPORT lets every socket of the same user bind the address, so a
//! second server started by mistake would bind silently and the kernel
//! would split the clients between the two. The cores of one runtime (and
//! the other listeners of this process) must share the address; anyone
//! else's listener makes the bind fail with EADDRINUSE, as a plain bind
//! would. The kernel cannot tell the two apart, so after listening we ask
//! it for the listening sockets on the port (sock_diag; `/proc/net/tcp{,6}`
//! where netlink is not available) and check that each one is a socket of
//! this process (`/proc/self/fd`). Where neither source can be read (a
//! sandbox), the bind goes ahead unchecked.
//!
//! Two processes starting in the same instant may each see the other and
//! both refuse: the check errs on the side of not sharing.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd};

/// The TCP state LISTEN as /proc/net/tcp prints it.
const LISTEN: &str = "0A";

/// Fails with EADDRINUSE if a socket of another process listens on `addr`
/// (or on a wildcard address of its port). `ours` is the listener just made.
pub(super) fn refuse_foreign_listener(addr: SocketAddr, ours: BorrowedFd<'_>) -> io::Result<()> {
    let own = socket_inode(ours)?;
    let listeners = match listeners_on(addr) {
        Ok(listeners) => listeners,
        Err(e) => {
            tracing::debug!("uringo: cannot list the listeners on {addr} ({e}); not checking");
            return Ok(());
        }
    };
    let others: HashSet<u64> = listeners.into_iter().filter(|&i| i != own).collect();
    if others.is_empty() {
        return Ok(());
    }
    let mine = inodes_of_own_sockets()?;
    if others.iter().all(|inode| mine.contains(inode)) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("address in use: another process already listens on {addr}"),
    ))
}

fn socket_inode(fd: BorrowedFd<'_>) -> io::Result<u64> {
    // SAFETY: a zeroed stat is valid; fstat writes it for an open fd.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a live stat buffer; the fd is open (borrowed).
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.st_ino)
}

/// Inodes of the LISTEN sockets, of any process in this network
/// namespace, whose address conflicts with `addr`.
fn listeners_on(addr: SocketAddr) -> io::Result<Vec<u64>> {
    let all = match [libc::AF_INET, libc::AF_INET6]
        .into_iter()
        .map(super::sock_diag::tcp_listeners)
        .collect::<io::Result<Vec<_>>>()
    {
        Ok(lists) => lists.into_iter().flatten().collect(),
        Err(_) => proc_listeners()?,
    };
    Ok(all
        .into_iter()
        .filter(|(theirs, _)| conflicts(*theirs, addr))
        .map(|(_, inode)| inode)
        .collect())
}

/// (address, inode) of every LISTEN socket in /proc/net/tcp{,6}.
fn proc_listeners() -> io::Result<Vec<(SocketAddr, u64)>> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = match std::fs::read_to_string(table) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // no IPv6
            Err(e) => return Err(e),
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            if *state != LISTEN {
                continue;
            }
            if let (Some(theirs), Ok(inode)) = (parse_proc_addr(local), inode.parse()) {
                found.push((theirs, inode));
            }
        }
    }
    Ok(found)
}

/// An address as /proc/net/tcp{,6} prints it: the address's 32-bit words
/// in hex as this host stores them, a colon, the port in hex.
fn parse_proc_addr(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let ip = match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Whether a listener on `theirs` takes connections meant for `ours`: the
/// same port, and the same address or a wildcard on either side (an IPv6
/// wildcard also takes IPv4).
fn conflicts(theirs: SocketAddr, ours: SocketAddr) -> bool {
    if theirs.port() != ours.port() {
        return false;
    }
    let (a, b) = (theirs.ip(), ours.ip());
    let same_family = a.is_ipv4() == b.is_ipv4();
    a == b
        || (same_family && (a.is_unspecified() || b.is_unspecified()))
        || (a.is_ipv6() && a.is_unspecified())
        || (b.is_ipv6() && b.is_unspecified())
}

/// Inodes of every socket this process has open.
fn inodes_of_own_sockets() -> io::Result<HashSet<u64>> {
    let mut inodes = HashSet::new();
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Ok(target) = std::fs::read_link(entry?.path()) else {
            continue; // closed meanwhile
        };
        let target = target.to_string_lossy();
        if let Some(inode) = target
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse().ok())
        {
            inodes.insert(inode);
        }
    }
    Ok(inodes)
}

#[cfg(test)]
mod tests {
    use super::{conflicts, parse_proc_addr, proc_listeners};

    #[test]
    fn sock_diag_and_proc_see_the_same_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let diag = crate::net::sock_diag::tcp_listeners(libc::AF_INET).unwrap();
        let proc = proc_listeners().unwrap();
        let inode_of = |list: &[(std::net::SocketAddr, u64)]| {
            list.iter()
                .find(|(a, _)| *a == addr)
                .map(|(_, inode)| *inode)
        };
        assert!(inode_of(&diag).is_some(), "sock_diag misses {addr}");
        assert_eq!(inode_of(&diag), inode_of(&proc));
    }

    #[test]
    fn proc_addresses_parse_as_the_kernel_prints_them() {
        let v4 = format!("{:08X}:1F90", u32::from_ne_bytes([127, 0, 0, 1]));
        assert_eq!(
            parse_proc_addr(&v4),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        let v6 = "00000000000000000000000001000000:0050";
        let expect: std::net::SocketAddr = if cfg!(target_endian = "little") {
            "[::1]:80".parse().unwrap()
        } else {
            "[::100:0]:80".parse().unwrap()
        };
        assert_eq!(parse_proc_addr(v6), Some(expect));
        assert_eq!(parse_proc_addr("zz:1"), None);
    }

    #[test]
    fn wildcards_conflict_with_their_port_only() {
        let a = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        assert!(conflicts(a("0.0.0.0:7000"), a("127.0.0.1:7000")));
        assert!(conflicts(a("127.0.0.1:7000"), a("0.0.0.0:7000")));
        assert!(conflicts(a("[::]:7000"), a("127.0.0.1:7000")));
        assert!(!conflicts(a("127.0.0.2:7000"), a("127.0.0.1:7000")));
        assert!(!conflicts(a("0.0.0.0:7001"), a("127.0.0.1:7000")));
        assert!(!conflicts(a("[::1]:7000"), a("127.0.0.1:7000")));
    }
}
