//! Invariants 3 and 8: no completion is lost with a tiny ring (full SQ,
//! overflowing CQ), and each Builder switch really forces its fallback.
//!
//! The overflow test does overflow the CQ (300 completions for 32 entries);
//! kernels with IORING_FEAT_NODROP keep the excess and flush it on the next
//! waiting enter, so it checks the end-to-end property: every one arrives.

mod support;

use std::io::Write;
use std::time::Duration;

use support::{builders, within};
use uringo::net::TcpStream;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn thousands_of_ops_through_an_eight_entry_ring_all_complete() {
    within(LIMIT, "tiny ring nops", || {
        for (name, builder) in builders() {
            let rt = builder.cores(1).ring_entries(8).build().unwrap();
            let done = rt.block_on(async {
                let f = uringo::features();
                if name != "epoll" {
                    assert_eq!(f.sq_entries, 8, "{name}");
                    assert!(
                        f.cq_entries >= 2 * f.sq_entries,
                        "{name}: CQ must be at least 2x SQ: {f}"
                    );
                }
                let tasks: Vec<_> = (0..3000)
                    .map(|_| {
                        uringo::spawn(async {
                            for _ in 0..3 {
                                uringo::op::nop().await.unwrap();
                            }
                        })
                    })
                    .collect();
                let n = tasks.len();
                for t in tasks {
                    t.await;
                }
                n
            });
            assert_eq!(done, 3000, "{name}");
        }
    });
}

#[test]
fn completions_overflowing_the_cq_are_all_delivered() {
    const CONNS: usize = 300;
    within(LIMIT, "cq overflow", || {
        for (name, builder) in builders() {
            let rt = builder.cores(1).ring_entries(8).build().unwrap();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut clients = Vec::new();
            let mut servers = Vec::new();
            for _ in 0..CONNS {
                clients.push(std::net::TcpStream::connect(addr).unwrap());
                servers.push(listener.accept().unwrap().0);
            }
            let got = rt.block_on(async move {
                let readers: Vec<_> = servers
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        uringo::spawn(async move {
                            let stream = TcpStream::from_std(s);
                            let (n, buf) = stream.read(vec![0u8; 8]).await;
                            assert_eq!(&buf[..n.unwrap()], &(i as u32).to_le_bytes(), "reader {i}");
                        })
                    })
                    .collect();
                // Every read is in the kernel; then all complete at once while
                // the core is busy: far more CQEs than the CQ's 32 entries.
                uringo::op::nop().await.unwrap();
                uringo::op::nop().await.unwrap();
                for (i, c) in clients.iter_mut().enumerate() {
                    c.write_all(&(i as u32).to_le_bytes()).unwrap();
                }
                let n = readers.len();
                for r in readers {
                    r.await;
                }
                drop(clients);
                n
            });
            assert_eq!(got, CONNS, "{name}");
        }
    });
}

#[test]
fn each_builder_switch_forces_its_fallback_on_every_core() {
    within(LIMIT, "features", || {
        for (name, builder) in builders() {
            let rt = builder.build().unwrap();
            let all = rt.run_on_all_cores(|_| async { uringo::features() });
            for (core, f) in all.iter().enumerate() {
                let what = format!("{name}, core {core}: {f}");
                assert!(f.cq_entries >= 2 * f.sq_entries, "{what}");
                let on_uring = f.backend == uringo::Backend::IoUring;
                assert_eq!(on_uring, name != "epoll", "{what}");
                match name {
                    "default" => {
                        // This kernel (5.19+/6.0+) has everything: the fast paths are tested.
                        assert!(
                            f.multishot_accept && f.multishot_recv && f.provided_buffers,
                            "{what}"
                        );
                        assert!(
                            f.defer_taskrun && f.single_issuer && f.coop_taskrun && f.msg_ring,
                            "{what}"
                        );
                        assert!(f.fixed_files > 0, "{what}");
                    }
                    "no-multishot" => assert!(!f.multishot_accept && !f.multishot_recv, "{what}"),
                    "no-provided-buffers" => {
                        assert!(!f.provided_buffers && !f.multishot_recv, "{what}")
                    }
                    "no-defer-taskrun" => assert!(!f.defer_taskrun && !f.single_issuer, "{what}"),
                    "no-msg-ring" => assert!(!f.msg_ring, "{what}"),
                    "no-fixed-files" => assert_eq!(f.fixed_files, 0, "{what}"),
                    "all-fallbacks" => {
                        assert!(
                            !f.multishot_accept && !f.multishot_recv && !f.provided_buffers,
                            "{what}"
                        );
                        assert!(!f.defer_taskrun && !f.msg_ring, "{what}");
                        assert_eq!(f.fixed_files, 0, "{what}");
                    }
                    "epoll" => assert_eq!(
                        *f,
                        uringo::Features {
                            backend: uringo::Backend::Epoll,
                            ..Default::default()
                        },
                        "{what}: no io_uring feature on epoll"
                    ),
                    other => panic!("untested builder {other}"),
                }
                assert_eq!(f, &all[0], "{name}: cores disagree");
            }
        }
    });
}
