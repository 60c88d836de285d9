//! One client connection, one task: a reader that splits lines, throttles
//! and hands them to the shard, and a writer that drains the client's queue
//! to the socket. Back-pressure both ways: the reader stops reading while the
//! client has too much unprocessed input; the shard drops the client when
//! its queue passes sendq.

use std::future::{poll_fn, Future};
use std::net::{Shutdown, SocketAddr};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use uringo::net::{TcpStream, WriteAll};

use super::framing::{Frame, LineReader};
use super::msg::ClientId;
use super::node::Node;
use super::throttle::Throttle;
use crate::metrics::{count, ChatCore};

/// What both halves of a connection use, kept once in its task (each half
/// holds a reference to it, not its own copies).
struct Link {
    net: Rc<Node>,
    /// Here, not shared: the node asks the task to shut it down instead.
    stream: TcpStream,
    id: ClientId,
}

/// Sets the connection up and returns its task: the reader and the writer
/// in one future, so an idle client costs one task, and the future keeps
/// only what both need (not the stream's own value or the peer address).
pub fn serve(net: Rc<Node>, stream: TcpStream, peer: SocketAddr) -> impl Future<Output = ()> {
    let _ = stream.set_nodelay(true);
    let id = net.with(|s| s.connect(peer.ip().to_string()));
    count(ChatCore::client_connected);
    net.connected();
    let link = Link { net, stream, id };
    async move {
        // Pinned where they are built: moving a future into another one
        // would keep room for both copies in the task.
        let reader = pin!(read_loop(&link));
        let writer = pin!(Writer::new(&link));
        reader_and_writer(&link, reader, writer).await;
        let Link { net, id, .. } = &link;
        net.with(|s| s.remove(*id));
        net.disconnected(*id);
        count(ChatCore::client_gone);
    }
}

/// Polls `reader` and `writer` until both have ended. Once the reader has
/// ended (EOF, error) it starts the quit, if the client did not; the writer
/// then flushes the ERROR line and shuts the socket down. Every poll first
/// shuts the socket down if the node asked for it. The state it keeps
/// across polls is two flags: every idle client's task holds it.
fn reader_and_writer<'a>(
    link: &'a Link,
    mut reader: Pin<&'a mut impl Future<Output = String>>,
    mut writer: Pin<&'a mut impl Future<Output = ()>>,
) -> impl Future<Output = ()> + 'a {
    let (mut read_done, mut write_done, mut shut) = (false, false, false);
    poll_fn(move |cx| {
        if !shut && link.net.should_shut(link.id) {
            shut = true;
            // The halves see EOF or an error and end.
            let _ = link.stream.shutdown(Shutdown::Both);
        }
        if !read_done {
            if let Poll::Ready(reason) = reader.as_mut().poll(cx) {
                read_done = true;
                link.net.with(|s| s.close(link.id, &reason));
            }
        }
        // Polled after the reader, so replies to what it just handed over
        // go out in this same poll.
        write_done = write_done || writer.as_mut().poll(cx).is_ready();
        if write_done && read_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// Whether the shard takes more input (`Pending` until it does); false
/// once the client is closing. A plain fn polled through `poll_fn`, so the
/// reader keeps only the closure's one reference while it waits.
fn poll_input_wanted(link: &Link, cx: &mut std::task::Context<'_>) -> Poll<bool> {
    link.net.with(|s| {
        if s.is_closing(link.id) {
            Poll::Ready(false)
        } else if s.wants_input(link.id) {
            Poll::Ready(true)
        } else {
            s.set_reader_waker(link.id, cx.waker());
            Poll::Pending
        }
    })
}

/// An `async` block rather than an `async fn`, so that `link` is kept
/// once, not also copied into the body (every idle client's task has one).
#[allow(clippy::manual_async_fn)]
fn read_loop(link: &Link) -> impl Future<Output = String> + '_ {
    async move {
        let mut lines = LineReader::new();
        let args = link.net.args();
        let mut throttle = Throttle::new(args.flood_burst, args.flood_rate, Instant::now());
        loop {
            if !poll_fn(|cx| poll_input_wanted(link, cx)).await {
                return "Client closing".into();
            }
            // A frame is bound only between here and the loop's end, so the
            // task keeps no room for one while it waits for input.
            let Some(frame) = lines.next_frame() else {
                match link.stream.recv().await {
                    Ok(Some(buf)) => lines.push(&buf),
                    Ok(None) => return "Connection closed".into(),
                    Err(e) => return format!("Read error: {e}"),
                }
                continue;
            };
            let frame = match throttle.take(Instant::now()) {
                None => frame,
                // Boxed with the frame it holds back: a flooder's wait, for
                // which other tasks keep no room.
                Some(wait) => Box::pin(hold_back(wait, frame)).await,
            };
            count(ChatCore::line_in);
            link.net.with(|s| s.input(link.id, frame));
        }
    }
}

async fn hold_back(wait: std::time::Duration, frame: Frame) -> Frame {
    count(ChatCore::throttled);
    uringo::time::sleep(wait).await;
    frame
}

/// The writer half: waits for queued output, sends it whole (the lines sit
/// back to back), hands the buffer back to the shard for reuse, and ends
/// once the client is closing or a send fails. A plain struct, so the one
/// send in flight sits in the task (no allocation per send) and an idle
/// client's task keeps only what that send needs; each step is one shard
/// call. Its wake comes from the core's waker task (`due`), once this
/// turn's other tasks have added their lines.
struct Writer<'a> {
    link: &'a Link,
    sending: Option<WriteAll<'a, Vec<u8>>>,
    /// The client is closing: the send in flight is the last.
    closing: bool,
}

impl<'a> Writer<'a> {
    fn new(link: &'a Link) -> Writer<'a> {
        Writer {
            link,
            sending: None,
            closing: false,
        }
    }

    /// Shuts the socket down (waking the reader, if it waits on it) and
    /// starts the client's exit, unless the client did.
    fn finish(&self) {
        let _ = self.link.stream.shutdown(Shutdown::Both);
        self.link.net.with(|s| s.close(self.link.id, "Write error"));
    }
}

impl Future for Writer<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let link = this.link;
        loop {
            let mut sent = None;
            if let Some(send) = &mut this.sending {
                let (res, buf) = std::task::ready!(Pin::new(send).poll(cx));
                this.sending = None;
                if res.is_err() || this.closing {
                    link.net.with(|s| s.give_back(buf));
                    this.finish();
                    return Poll::Ready(());
                }
                sent = Some(buf);
            }
            let next = link.net.with(|s| s.next_output(link.id, sent, cx.waker()));
            let Some((out, closing)) = next else {
                return Poll::Pending;
            };
            this.closing = closing;
            this.sending = Some(link.stream.write_all(out));
        }
    }
}

/// The core's waker task: wakes, once per turn, the writers that got
/// output during it (see `due`). Runs while the node does.
pub async fn wake_due_writers(net: Rc<Node>) {
    poll_fn(|cx| {
        net.with(|s| s.wake_due_writers(cx.waker()));
        Poll::<()>::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::cli::ChatArgs;
    use crate::chat::config::Config;
    use crate::chat::mailbox::{inboxes, Outbox};
    use crate::chat::shard::Shard;
    use clap::Parser;
    use std::sync::Arc;
    use uringo::net::TcpListener;

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        chat: ChatArgs,
    }

    /// Runs `test` on a one-core runtime with a listener on 127.0.0.1.
    fn on_runtime<F: Future<Output = ()>>(test: impl FnOnce(TcpListener, SocketAddr) -> F) {
        let rt = uringo::Builder::new().cores(1).build().expect("runtime");
        let listener = TcpListener::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        rt.block_on(test(listener, addr));
    }

    fn node() -> Rc<Node> {
        node_with(&["t"])
    }

    fn node_with(args: &[&str]) -> Rc<Node> {
        let shard = Shard::new(0, Arc::new(Config::new("irc.test", 1)), Default::default());
        let outbox = Outbox::start(inboxes(1).0);
        let net = Rc::new(Node::new(shard, Args::parse_from(args).chat, outbox, 1));
        uringo::spawn(wake_due_writers(net.clone()));
        net
    }

    /// The node keeps no socket: asked to shut one connection down (a
    /// stuck writer) and then all, it wakes their tasks, which shut their
    /// own sockets and end; the peers see the connection close.
    #[test]
    fn shut_down_ends_the_connections_asked() {
        on_runtime(|listener, addr| async move {
            let net = node();
            let mut peers = Vec::new();
            let mut tasks = Vec::new();
            for _ in 0..2 {
                peers.push(TcpStream::connect(addr).await.expect("connect"));
                let (stream, peer) = listener.accept().await.expect("accept");
                tasks.push(uringo::spawn(serve(net.clone(), stream, peer)));
            }
            // Both tasks start and wait: for input and for output.
            uringo::yield_now().await;
            let patience = std::time::Duration::from_secs(10);
            let closes = |peer: TcpStream| async move {
                while let Some(_line) = peer.recv().await.expect("recv") {}
            };
            net.shut_down(Some(&[1]));
            let first = tasks.remove(0);
            uringo::time::timeout(patience, first)
                .await
                .expect("task 1 ends");
            uringo::time::timeout(patience, closes(peers.remove(0)))
                .await
                .expect("peer 1 sees the close");
            assert!(!net.should_shut(2), "only client 1 was asked");
            net.shut_down(None);
            uringo::time::timeout(patience, net.drained())
                .await
                .expect("every connection ends");
            uringo::time::timeout(patience, closes(peers.remove(0)))
                .await
                .expect("peer 2 sees the close");
        });
    }

    /// An idle client's connection is this one future in one task: every
    /// byte of it is paid per client (chat-mem, README "Memory").
    #[test]
    fn connection_future_stays_small() {
        on_runtime(|listener, addr| async move {
            let _client = TcpStream::connect(addr).await.expect("connect");
            let (stream, peer) = listener.accept().await.expect("accept");
            let net = node();
            let size = std::mem::size_of_val(&serve(net, stream, peer));
            // The stream's own bytes (48) included: it lives here, where it
            // was a shared allocation (104 bytes) and a slot in the node.
            // 360 before the halves kept one reference each while they wait
            // (no copies of the node and id in every awaited future) and
            // a throttled line's wait was boxed with its frame.
            // 296 since the writer keeps its send in place (it was boxed,
            // an allocation per send) and 256 before.
            assert!(size <= 296, "the connection future is {size} bytes");
        });
    }

    /// Replies to thousands of lines written at once leave in order and
    /// complete, however the writer groups them into sends (one send in
    /// flight, the next from what queued meanwhile).
    #[test]
    fn replies_keep_their_order_across_sends() {
        on_runtime(|listener, addr| async move {
            let client = TcpStream::connect(addr).await.expect("connect");
            let (stream, peer) = listener.accept().await.expect("accept");
            let net = node_with(&["t", "--flood-rate", "0"]);
            let task = uringo::spawn(serve(net, stream, peer));
            const LINES: usize = 3000;
            let pings: String = (0..LINES).map(|i| format!("PING :{i}\r\n")).collect();
            let (res, _) = client.write_all(pings.into_bytes()).await;
            res.expect("write");
            let mut got = Vec::new();
            let last = format!(":irc.test PONG irc.test :{}\r\n", LINES - 1);
            let patience = std::time::Duration::from_secs(20);
            let read_all = async {
                while !got.ends_with(last.as_bytes()) {
                    let buf = client.recv().await.expect("recv").expect("not closed");
                    got.extend_from_slice(&buf);
                }
            };
            uringo::time::timeout(patience, read_all)
                .await
                .expect("every reply comes");
            let want: String = (0..LINES)
                .map(|i| format!(":irc.test PONG irc.test :{i}\r\n"))
                .collect();
            assert_eq!(String::from_utf8_lossy(&got), want);
            drop(client);
            uringo::time::timeout(patience, task)
                .await
                .expect("the connection ends");
        });
    }
}
