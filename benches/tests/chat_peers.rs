//! uringo-loadgen chat against the chat comparison's peers, InspIRCd and ngIRCd, started as
//! chat-compare starts them: loadgen must register, join and verify every delivery on each
//! (their welcome bursts, JOIN replies and numerics differ from uringo-server's), with
//! ngIRCd's clients connected 10 at a time. A missing package fails the test under `CI`
//! (.ci/packages lists both) and skips it otherwise.

use std::path::Path;

use uringo_benches::component;
use uringo_benches::irc::{IrcKind, IrcServer};
use uringo_loadgen::cli::ChatArgs;

fn installed(program: &str) -> bool {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()));
    let found = on_path || Path::new("/usr/sbin").join(program).is_file();
    component::required(found, program, program)
}

fn every_delivery_verified(kind: IrcKind) {
    let dir = std::env::temp_dir().join(format!(
        "uringo-chat-peers-{}-{}",
        kind.name(),
        std::process::id()
    ));
    // The peers are not in the bin directory; only uringo-server would be.
    let server = IrcServer::start(kind, Path::new("/nonexistent"), 0, &dir).unwrap();
    let args = ChatArgs {
        clients: 200,
        channels: 10,
        rate: 400,
        connect_concurrency: kind.loadgen_connect_concurrency().map(|n| n as u64),
        ..ChatArgs::short(vec![server.addr])
    };
    let s = uringo_loadgen::chat::run(&args).expect("loadgen chat runs");
    let name = kind.name();
    assert_eq!(s.error_total, 0, "{name}: errors {:?}", s.errors);
    assert!(s.sent >= 700, "{name}: sent only {}", s.sent);
    // 20 members per channel: a message reaches the 19 others (no echo to the sender).
    assert_eq!(s.expected, s.sent * 19, "{name}: expected deliveries");
    assert_eq!(s.delivered, s.expected, "{name}: delivered");
    assert_eq!(
        (s.duplicated, s.out_of_order, s.order_conflicts),
        (0, 0, 0),
        "{name}: duplicated, reordered, channel order conflicts"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn loadgen_verifies_every_delivery_on_inspircd_and_ngircd() {
    for (kind, program) in [(IrcKind::InspIrcd, "inspircd"), (IrcKind::NgIrcd, "ngircd")] {
        if installed(program) {
            every_delivery_verified(kind);
        }
    }
}
