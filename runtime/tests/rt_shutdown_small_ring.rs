//! Invariant 7 with more ops in flight than the SQ holds: dropping the
//! runtime cancels them all although each full SQ is submitted and reaped
//! (freeing slots of ops that complete meanwhile) while the cancels are
//! pushed.

mod support;

use std::time::Duration;

use support::{builders, fd_lock, open_fds, tcp_pair, within};
use uringo::net::TcpListener;

const READS: usize = 300;
const ACCEPTS: usize = 100;

#[test]
fn dropping_a_runtime_with_more_ops_than_its_sq_holds_cancels_them_all() {
    let _fds = fd_lock();
    within(Duration::from_secs(60), "small-ring drop", || {
        for (name, builder) in builders() {
            let before = open_fds();
            let rt = builder.cores(1).ring_entries(8).build().unwrap();
            rt.block_on(async {
                let mut peers = Vec::new();
                for _ in 0..READS {
                    let (client, server) = tcp_pair();
                    uringo::spawn(async move {
                        let _ = server.read(vec![0u8; 64]).await;
                        panic!("nothing is ever sent");
                    });
                    peers.push(client);
                }
                for _ in 0..ACCEPTS {
                    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                    uringo::spawn(async move {
                        let _ = listener.accept().await;
                        panic!("nobody connects");
                    });
                }
                uringo::spawn(async move {
                    let _peers = peers;
                    std::future::pending::<()>().await
                });
                // Let every task submit its op.
                for _ in 0..4 {
                    uringo::op::nop().await.unwrap();
                }
            });
            drop(rt);
            assert_eq!(open_fds(), before, "{name}: fds leaked");
        }
    });
}
