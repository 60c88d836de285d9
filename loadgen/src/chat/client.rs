//! One IRC client: register, join, then send on schedule and account for every delivery.

use super::accounting::{Deliveries, Receiver};
use super::core::ChatCore;
use super::proto::{self, Event, LineSplitter};
use crate::echo::timeline::Timeline;
use crate::schedule::Schedule;
use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use uringo::net::TcpStream;
use uringo::sync::SemaphorePermit;

/// Longest a client may take to connect, register and join.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Most messages one write carries when the sender catches up after a stall.
const MAX_BATCH: u64 = 64;

/// Lines to send on the reader's behalf (PONGs), picked up by whoever writes next.
type Outbox = Rc<RefCell<Vec<u8>>>;

fn pong(outbox: &Outbox, token: &[u8]) {
    let mut o = outbox.borrow_mut();
    o.extend_from_slice(b"PONG :");
    o.extend_from_slice(token);
    o.extend_from_slice(b"\r\n");
}

async fn flush_outbox(stream: &TcpStream, outbox: &Outbox) -> io::Result<()> {
    let pending = std::mem::take(&mut *outbox.borrow_mut());
    if pending.is_empty() {
        return Ok(());
    }
    stream.write_all(pending).await.0
}

/// Receives the next bytes and calls `each` with every complete line and the moment they
/// arrived (one clock read per receive, not per line).
async fn recv_lines(
    stream: &TcpStream,
    splitter: &mut LineSplitter,
    mut each: impl FnMut(&[u8], Instant),
) -> io::Result<()> {
    let received = stream.recv().await?;
    let now = Instant::now();
    match received {
        None => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "server closed the connection",
        )),
        Some(buf) => splitter
            .feed(&buf, |line| each(line, now))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "server line too long")),
    }
}

/// Connects, registers (NICK/USER, waits for 001) and joins this client's channels (waits for
/// the server to confirm each JOIN).
async fn setup(
    core: &ChatCore,
    id: u64,
    splitter: &mut LineSplitter,
    outbox: &Outbox,
    stage: &Cell<&'static str>,
    slot: Option<SemaphorePermit<'_>>,
) -> io::Result<TcpStream> {
    stage.set("connecting");
    let addrs = &core.args.addr;
    let stream = TcpStream::connect(addrs[id as usize % addrs.len()]).await?;
    core.shared.connected.fetch_add(1, Ordering::Relaxed);
    stage.set("waiting for 001");
    let _ = stream.set_nodelay(true);
    stream.write_all(proto::register(id).into_bytes()).await.0?;
    let nick = proto::nick(id);
    let mut failure: Option<String> = None;
    let mut welcomed = false;
    while !welcomed && failure.is_none() {
        recv_lines(&stream, splitter, |line, _| match proto::parse_line(line) {
            Event::Welcome => welcomed = true,
            Event::Ping(t) => pong(outbox, t),
            Event::ErrorReply(_) | Event::Error(_) => {
                failure = Some(String::from_utf8_lossy(line).into_owned());
            }
            _ => {}
        })
        .await?;
        flush_outbox(&stream, outbox).await?;
    }
    drop(slot);
    if let Some(f) = failure {
        return Err(io::Error::other(format!("registering {nick}: {f}")));
    }
    core.shared.registered.fetch_add(1, Ordering::Relaxed);
    stage.set("waiting for JOIN confirmations");
    let channels: Vec<String> = core.plan.channels_of(id).map(proto::channel).collect();
    stream
        .write_all(format!("JOIN {}\r\n", channels.join(",")).into_bytes())
        .await
        .0?;
    let mut joined = 0;
    while joined < channels.len() && failure.is_none() {
        recv_lines(&stream, splitter, |line, _| match proto::parse_line(line) {
            Event::Join { nick: n, .. } if n == nick.as_bytes() => joined += 1,
            Event::Ping(t) => pong(outbox, t),
            Event::ErrorReply(_) | Event::Error(_) => {
                failure = Some(String::from_utf8_lossy(line).into_owned());
            }
            _ => {}
        })
        .await?;
        flush_outbox(&stream, outbox).await?;
    }
    match failure {
        Some(f) => Err(io::Error::other(format!("{nick} joining: {f}"))),
        None => Ok(stream),
    }
}

pub async fn client(core: Rc<ChatCore>, id: u64) {
    let mut splitter = LineSplitter::default();
    let outbox: Outbox = Rc::default();
    let stage = Cell::new("");
    // The setup timeout starts once the client may connect, not while it waits its turn.
    let slot = match &core.shared.connecting {
        Some(s) => s.acquire().await.ok(),
        None => None,
    };
    let setup = setup(&core, id, &mut splitter, &outbox, &stage, slot);
    let setup = uringo::time::timeout(SETUP_TIMEOUT, setup).await;
    let stream = match setup {
        Ok(Ok(s)) => Some(Rc::new(s)),
        Ok(Err(e)) => {
            report_setup_error(&core, id, &e.to_string());
            None
        }
        Err(_) => {
            report_setup_error(&core, id, &format!("timed out {}", stage.get()));
            None
        }
    };
    core.setup_finished();
    let Some(stream) = stream else {
        core.senders_done.set(core.senders_done.get() + 1);
        return;
    };
    // Keep reading while other clients register: a client that stopped reading would leave
    // its incoming lines (JOIN notices) holding the core's provided buffers, and the clients
    // still registering would starve for buffers.
    let sender = uringo::spawn(send_scheduled(
        core.clone(),
        stream.clone(),
        id,
        outbox.clone(),
    ));
    read_deliveries(&core, &stream, &mut splitter, &outbox).await;
    sender.abort();
    // The aborted sender may still hold a reference for a moment; then the fd closes when it
    // lets go.
    if let Ok(stream) = Rc::try_unwrap(stream) {
        let _ = stream.close().await;
    }
}

fn report_setup_error(core: &ChatCore, id: u64, why: &str) {
    let first = core.errors.borrow().connect_errors == 0;
    core.error(|e| e.connect_errors += 1);
    if first {
        eprintln!("client {id}: setup failed: {why}");
    }
}

async fn read_deliveries(
    core: &ChatCore,
    stream: &TcpStream,
    splitter: &mut LineSplitter,
    outbox: &Outbox,
) {
    let mut receiver = Receiver::new(core.plan.clone());
    loop {
        let mut closing = false;
        let read = recv_lines(stream, splitter, |line, now| {
            // Nearly every line is a delivery: the one-pass parser first.
            if let Some((channel, stamp, len)) = proto::parse_delivery(line) {
                account(core, &mut receiver, channel, stamp, len, now);
                return;
            }
            match proto::parse_line(line) {
                Event::Privmsg { target, text } => {
                    if let (Some(channel), Some(stamp)) =
                        (proto::parse_channel(target), proto::parse_stamp(text))
                    {
                        account(core, &mut receiver, channel, stamp, text.len(), now);
                    }
                }
                Event::Ping(t) => pong(outbox, t),
                Event::ErrorReply(_) => core.server_error(line),
                Event::Error(_) => {
                    core.server_error(line);
                    closing = true;
                }
                _ => {}
            }
        });
        match core.stop.unless_triggered(read).await {
            None => break,
            Some(Ok(())) if !closing => {}
            Some(Ok(())) => break,
            Some(Err(err)) => {
                core.error(|e| e.count_io(&err));
                break;
            }
        }
    }
    let mut orders = core.orders.borrow_mut();
    for (channel, seen) in receiver.into_orders() {
        orders.add(channel, seen);
    }
}

/// Counts one delivery of `stamp`'s message on `channel` (`len` text bytes, received at `now`).
fn account(
    core: &ChatCore,
    receiver: &mut Receiver,
    channel: u64,
    stamp: proto::Stamp,
    len: usize,
    now: Instant,
) {
    let mut fresh = Deliveries::default();
    let new = receiver.deliver(stamp.sender, channel, stamp.seq, &mut fresh);
    if new {
        if let Some(w) = core.shared.windows.get(stamp.sender as usize) {
            w.delivered();
        }
    }
    core.delivered(fresh, stamp.sent_ns, len, now);
}

async fn send_scheduled(core: Rc<ChatCore>, stream: Rc<TcpStream>, id: u64, outbox: Outbox) {
    // Until the start, answer the server's PINGs (the reader queues them) once a second.
    let second = Duration::from_secs(1);
    while core
        .start
        .unless_triggered(uringo::time::sleep(second))
        .await
        .is_some()
    {
        if let Err(err) = flush_outbox(&stream, &outbox).await {
            core.error(|e| e.count_io(&err));
            break;
        }
    }
    core.start.triggered().await;
    let Some(tl) = core.timeline.get() else {
        return;
    };
    match core.args.in_flight {
        Some(k) => send_closed_loop(&core, &stream, id, &outbox, tl, k).await,
        None => send_on_schedule(&core, &stream, id, &outbox, tl).await,
    }
    core.senders_done.set(core.senders_done.get() + 1);
}

/// Closed loop: the next message goes out once this sender's messages owe few enough
/// deliveries for `k` to be in flight, and carries its actual send time.
async fn send_closed_loop(
    core: &ChatCore,
    stream: &TcpStream,
    id: u64,
    outbox: &Outbox,
    tl: Timeline,
    k: u64,
) {
    let window = &core.shared.windows[id as usize];
    let size = core.args.size as usize;
    let mut line = String::new();
    for i in 0.. {
        let (channel, seq) = core.plan.target(id, i);
        let fanout = core.plan.fanout(channel);
        let room = window.at_most((k - 1) * fanout);
        let left = tl.end.saturating_duration_since(Instant::now());
        if uringo::time::timeout(left, room).await.is_err() {
            break;
        }
        let now = Instant::now();
        if now >= tl.end {
            break;
        }
        let sent_ns = u64::try_from((now - core.epoch).as_nanos()).unwrap_or(u64::MAX);
        proto::privmsg(&mut line, channel, id, seq, sent_ns, size);
        let mut out = std::mem::take(&mut *outbox.borrow_mut());
        out.extend_from_slice(line.as_bytes());
        window.sent(fanout);
        if let Err(err) = stream.write_all(out).await.0 {
            core.error(|e| e.count_io(&err));
            break;
        }
        core.sent_messages(1, fanout);
    }
}

/// Open loop: each message at its scheduled time, catching up in one write when late.
async fn send_on_schedule(
    core: &ChatCore,
    stream: &TcpStream,
    id: u64,
    outbox: &Outbox,
    tl: Timeline,
) {
    let schedule = Schedule::new(id, core.shared.clients, core.args.rate);
    let last = schedule.due_by((tl.end - tl.start).saturating_sub(Duration::from_nanos(1)));
    let size = core.args.size as usize;
    let mut line = String::new();
    let mut k = 0;
    while k < last {
        uringo::time::sleep_until(tl.start + schedule.due(k)).await;
        let now = Instant::now();
        let upto = schedule
            .due_by(now - tl.start)
            .clamp(k + 1, last)
            .min(k + MAX_BATCH);
        let mut out = std::mem::take(&mut *outbox.borrow_mut());
        let mut expected = 0;
        for i in k..upto {
            let (channel, seq) = core.plan.target(id, i);
            let intended = tl.start + schedule.due(i);
            let sent_ns = u64::try_from((intended - core.epoch).as_nanos()).unwrap_or(u64::MAX);
            proto::privmsg(&mut line, channel, id, seq, sent_ns, size);
            out.extend_from_slice(line.as_bytes());
            expected += core.plan.fanout(channel);
        }
        if let Err(err) = stream.write_all(out).await.0 {
            core.error(|e| e.count_io(&err));
            break;
        }
        core.sent_messages(upto - k, expected);
        k = upto;
    }
}
