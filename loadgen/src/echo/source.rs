//! Which local address each echo connection comes from.
//!
//! On loopback every connection would otherwise leave from 127.0.0.1, so loadgen would share
//! that address's ephemeral ports with everything else on the machine: a host that holds
//! ~100,000 TIME_WAIT sockets from other work has few ports left there, and a run of 15,000
//! connections could fail to connect for reasons that have nothing to do with the server. All
//! of 127.0.0.0/8 is local, so connection `id` to an IPv4 loopback target binds to one of
//! [`LOOPBACK_SOURCES`] addresses of 127.1.0.0/16 first (port 0: the kernel picks it), each
//! with its own port range. Other targets (and `::1`, which is the only IPv6 loopback
//! address) keep the kernel's choice.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// How many loopback source addresses connections are spread over, round robin by id.
pub const LOOPBACK_SOURCES: u32 = 1024;
/// The first of them: 127.1.0.0.
const FIRST: u32 = u32::from_be_bytes([127, 1, 0, 0]);

/// The address connection `id` binds to before connecting to `target`, if any.
pub fn source_addr(target: SocketAddr, id: u64) -> Option<SocketAddr> {
    match target {
        SocketAddr::V4(t) if t.ip().is_loopback() => {
            let ip = Ipv4Addr::from(FIRST + (id % u64::from(LOOPBACK_SOURCES)) as u32);
            Some(SocketAddr::V4(SocketAddrV4::new(ip, 0)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_get_spread_sources() {
        let target: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let ip = |id| match source_addr(target, id) {
            Some(SocketAddr::V4(a)) => (*a.ip(), a.port()),
            other => panic!("{other:?}"),
        };
        assert_eq!(ip(0), (Ipv4Addr::new(127, 1, 0, 0), 0));
        assert_eq!(ip(257), (Ipv4Addr::new(127, 1, 1, 1), 0));
        assert_eq!(ip(1023), (Ipv4Addr::new(127, 1, 3, 255), 0));
        assert_eq!(ip(1024), ip(0));
        assert!((0..5000).all(|id| ip(id).0.is_loopback()));
        // Any address of 127.0.0.0/8 is a loopback target.
        assert!(source_addr("127.3.2.1:1".parse().unwrap(), 0).is_some());
    }

    #[test]
    fn other_targets_keep_the_kernels_choice() {
        for t in ["10.0.0.1:7000", "[::1]:7000", "192.168.1.2:80"] {
            assert_eq!(source_addr(t.parse().unwrap(), 3), None, "{t}");
        }
    }
}
