//! One client connection, one task: a reader that splits lines, throttles
//! and hands them to the shard, and a writer that drains the client's queue
//! to the socket. Back-pressure both ways: the reader stops reading while the
//! client has too much unprocessed input; the shard drops the client when
//! its queue passes sendq.

use std::future::{poll_fn, Future};
use std::net::{Shutdown, SocketAddr};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;

use uringo::net::TcpStream;

use super::framing::LineReader;
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
        let writer = pin!(write_loop(&link));
        // Starts the quit if the client did not (EOF, error); the writer then
        // flushes the ERROR line and shuts the socket down.
        let close = |reason: String| link.net.with(|s| s.close(link.id, &reason));
        let shut_if_asked = {
            let (link, mut shut) = (&link, false);
            move || {
                if !shut && link.net.should_shut(link.id) {
                    shut = true;
                    // The halves see EOF or an error and end.
                    let _ = link.stream.shutdown(Shutdown::Both);
                }
            }
        };
        reader_and_writer(reader, writer, close, shut_if_asked).await;
        let Link { net, id, .. } = &link;
        net.with(|s| s.remove(*id));
        net.disconnected(*id);
        count(ChatCore::client_gone);
    }
}

/// Polls `reader` and `writer` until both have ended; `on_read_end` gets
/// the reader's reason as soon as it ends, `on_poll` runs first on every poll.
fn reader_and_writer<'a>(
    mut reader: Pin<&'a mut impl Future<Output = String>>,
    mut writer: Pin<&'a mut impl Future<Output = ()>>,
    on_read_end: impl FnOnce(String) + 'a,
    mut on_poll: impl FnMut() + 'a,
) -> impl Future<Output = ()> + 'a {
    // `on_read_end` is there while the reader runs.
    let mut on_read_end = Some(on_read_end);
    let mut write_done = false;
    poll_fn(move |cx| {
        on_poll();
        if on_read_end.is_some() {
            if let Poll::Ready(reason) = reader.as_mut().poll(cx) {
                if let Some(f) = on_read_end.take() {
                    f(reason);
                }
            }
        }
        // Polled after the reader, so replies to what it just handed over
        // go out in this same poll.
        write_done = write_done || writer.as_mut().poll(cx).is_ready();
        if write_done && on_read_end.is_none() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// Waits until the shard takes more input; false once the client is closing.
async fn input_wanted(net: &Node, id: ClientId) -> bool {
    poll_fn(|cx| {
        net.with(|s| {
            if s.is_closing(id) {
                Poll::Ready(false)
            } else if s.wants_input(id) {
                Poll::Ready(true)
            } else {
                s.set_reader_waker(id, cx.waker());
                Poll::Pending
            }
        })
    })
    .await
}

async fn read_loop(link: &Link) -> String {
    let mut lines = LineReader::new();
    let args = link.net.args();
    let mut throttle = Throttle::new(args.flood_burst, args.flood_rate, Instant::now());
    loop {
        if !input_wanted(&link.net, link.id).await {
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
        if let Some(wait) = throttle.take(Instant::now()) {
            count(ChatCore::throttled);
            // Boxed: a flooder's wait, for which other tasks keep no room.
            Box::pin(uringo::time::sleep(wait)).await;
        }
        count(ChatCore::line_in);
        link.net.with(|s| s.input(link.id, frame));
    }
}

/// Waits for queued output; returns it and whether the client is closing.
async fn output(net: &Node, id: ClientId) -> (Vec<u8>, bool) {
    poll_fn(|cx| {
        net.with(|s| {
            if s.has_output(id) {
                Poll::Ready(())
            } else {
                s.set_writer_waker(id, cx.waker());
                Poll::Pending
            }
        })
    })
    .await;
    // Behind the tasks that are ready now, as a writer task of its own would
    // be: what their input adds for this client this turn goes out in the
    // same send (without it, one task per connection sent ~1.5x as often).
    uringo::yield_now().await;
    net.with(|s| s.take_output(id))
}

async fn write_loop(link: &Link) {
    loop {
        let (out, closing) = output(&link.net, link.id).await;
        // Boxed: a send in flight is the largest state of this future, and
        // the task of an idle client keeps no room for it.
        if Box::pin(send(link, out)).await.is_err() || closing {
            break;
        }
    }
    // Wakes the reader (EOF) if it is still waiting on the socket.
    let _ = link.stream.shutdown(Shutdown::Both);
    link.net.with(|s| s.close(link.id, "Write error"));
}

/// Sends everything queued in one go (the lines sit back to back) and
/// hands the buffer back to the shard for reuse.
async fn send(link: &Link, out: Vec<u8>) -> std::io::Result<()> {
    let (res, buf) = link.stream.write_all(out).await;
    link.net.with(|s| s.give_back(buf));
    res
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
        let shard = Shard::new(0, Arc::new(Config::new("irc.test", 1)), Default::default());
        let outbox = Outbox::start(inboxes(1).0);
        Rc::new(Node::new(shard, Args::parse_from(["t"]).chat, outbox, 1))
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
            assert!(size <= 360, "the connection future is {size} bytes");
        });
    }
}
