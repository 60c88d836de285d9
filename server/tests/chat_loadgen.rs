//! loadgen's chat mode against the real chat server on 2 cores: 1,000
//! clients in 50 channels, every delivery accounted for (issue 5).

mod chat_support;

use chat_support::Server;
use uringo_loadgen::cli::ChatArgs;

#[test]
fn thousand_clients_fifty_channels_nothing_lost_duplicated_or_reordered() {
    let server = Server::start(&["--flood-rate", "0"]);
    let args = ChatArgs {
        clients: 1000,
        channels: 50,
        rate: 2000,
        cores: Some(2),
        ..ChatArgs::short(vec![server.addr])
    };
    let s = uringo_loadgen::chat::run(&args).expect("loadgen chat runs");
    assert_eq!(s.error_total, 0, "errors: {:?}", s.errors);
    assert!(s.sent > 1000, "sent only {}", s.sent);
    // Each of the 50 channels has 20 members: a message reaches 19 others.
    assert_eq!(s.expected, s.sent * 19, "expected deliveries");
    assert_eq!(s.delivered, s.expected, "delivered");
    assert_eq!((s.lost, s.duplicated, s.out_of_order), (0, 0, 0));
    assert_eq!(
        s.order_conflicts, 0,
        "every receiver saw one order per channel"
    );
    assert_eq!(s.order_channels_checked, 50);
}
