//! Connecting, and the open loop: a sender on the schedule, a reader measuring from it.

use super::source::source_addr;
use super::state::CoreState;
use crate::latch::Latch;
use crate::pattern::{Pattern, Verifier};
use crate::schedule::Schedule;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};
use uringo::net::{TcpSocket, TcpStream};

/// Most messages one write carries when the open-loop sender catches up after a stall.
const MAX_BATCH: u64 = 256;

/// Connects connection `id`, from the source address [`source_addr`] gives it (if any).
pub(super) async fn connect(st: &CoreState, id: u64) -> Option<TcpStream> {
    let connecting = async {
        let socket = match st.addr {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if let Some(source) = source_addr(st.addr, id) {
            socket.bind(source)?;
        }
        socket.connect(st.addr).await
    };
    match uringo::time::timeout(Duration::from_secs(10), connecting).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Some(stream)
        }
        _ => {
            st.error(|e| e.connect_errors += 1);
            None
        }
    }
}

/// Writes stream bytes `pos .. pos + len`: straight from the pattern's shared table when they
/// fit its window (no copy), else through `spare`, which keeps its allocation across calls.
async fn send_stream(
    stream: &TcpStream,
    pattern: &Pattern,
    pos: u64,
    len: usize,
    spare: &mut Vec<u8>,
) -> io::Result<()> {
    if let Some(bytes) = pattern.slice(pos, len) {
        return stream.write_all(bytes).await.0;
    }
    let mut out = std::mem::take(spare);
    out.resize(len, 0);
    pattern.fill(pos, &mut out);
    let (res, out) = stream.write_all(out).await;
    *spare = out;
    res
}

/// The receiving side of a connection: every echoed byte goes through the verifier, and each
/// failure is counted on the core before the connection is given up.
struct Reader<'a> {
    st: &'a CoreState,
    stream: &'a TcpStream,
    verifier: Verifier,
    /// The deadline timer, registered once and kept across reads (not a
    /// timer per message).
    deadline: Option<uringo::time::Sleep>,
}

enum ReadOutcome {
    /// Some messages completed (possibly zero: a partial message).
    Completed(u64),
    /// The connection is finished (error counted).
    Closed,
    /// Nothing arrived before the deadline.
    TimedOut,
}

impl Reader<'_> {
    /// Waits (until `deadline`) for the next echoed bytes; `outstanding` messages were sent and
    /// not yet echoed, so completing more than that means the server invented data.
    async fn read(&mut self, deadline: Instant, outstanding: u64) -> ReadOutcome {
        let st = self.st;
        let sleep = match &mut self.deadline {
            Some(sleep) if sleep.deadline() == deadline => sleep,
            slot => slot.insert(uringo::time::sleep_until(deadline)),
        };
        let stream = self.stream;
        let mut recv = std::pin::pin!(stream.recv());
        let received = std::future::poll_fn(|cx| {
            use std::future::Future;
            use std::task::Poll;
            if let Poll::Ready(r) = recv.as_mut().poll(cx) {
                return Poll::Ready(Some(r));
            }
            std::pin::Pin::new(&mut *sleep).poll(cx).map(|()| None)
        })
        .await;
        match received {
            None => ReadOutcome::TimedOut,
            Some(Ok(Some(buf))) => match self.verifier.feed(&buf) {
                Ok(n) if n <= outstanding => ReadOutcome::Completed(n),
                // More bytes than were sent: the server made some up.
                Ok(_) | Err(_) => {
                    st.error(|e| e.mismatches += 1);
                    ReadOutcome::Closed
                }
            },
            Some(Ok(None)) => {
                st.error(|e| e.short_reads += 1);
                ReadOutcome::Closed
            }
            Some(Err(err)) => {
                st.error(|e| e.count_io(&err));
                ReadOutcome::Closed
            }
        }
    }
}

/// Open loop: a sender task writes each message at its scheduled time (catching up in one
/// write when late); this task reads and measures from the scheduled time.
pub async fn open_loop(st: Rc<CoreState>, id: u64) {
    let Some(stream) = connect(&st, id).await else {
        return;
    };
    let stream = Rc::new(stream);
    let rate = st.rate.expect("open loop needs a rate");
    let schedule = Schedule::new(id, st.conns, rate);
    let pattern = Pattern::new(id);
    let pending: Rc<RefCell<VecDeque<(Instant, Instant)>>> = Rc::default();
    let sender_done = Latch::default();
    let sender = uringo::spawn(send_scheduled(
        st.clone(),
        stream.clone(),
        schedule,
        pattern,
        pending.clone(),
        sender_done.clone(),
    ));

    let mut reader = Reader {
        st: &st,
        stream: &stream,
        verifier: Verifier::new(pattern, st.size),
        deadline: None,
    };
    loop {
        let outstanding = pending.borrow().len() as u64;
        if sender_done.is_triggered() && outstanding == 0 {
            break;
        }
        let deadline = st.timeline.drain_until;
        let outcome = if sender_done.is_triggered() {
            reader.read(deadline, outstanding).await
        } else {
            // Also wake when the sender finishes, in case nothing is outstanding then.
            match sender_done
                .unless_triggered(reader.read(deadline, u64::MAX))
                .await
            {
                Some(o) => o,
                None => continue,
            }
        };
        match outcome {
            ReadOutcome::Completed(n) => {
                let now = Instant::now();
                let mut q = pending.borrow_mut();
                if n > q.len() as u64 {
                    st.error(|e| e.mismatches += 1);
                    break;
                }
                for (intended, actual) in q.drain(..n as usize) {
                    st.completed(now, intended, actual);
                }
            }
            ReadOutcome::Closed => break,
            ReadOutcome::TimedOut => {
                st.error(|e| e.timeouts += pending.borrow().len() as u64);
                break;
            }
        }
    }
    sender.abort();
    // The aborted sender may still hold a reference for a moment; then the fd closes when it
    // lets go.
    if let Ok(stream) = Rc::try_unwrap(stream) {
        let _ = stream.close().await;
    }
}

async fn send_scheduled(
    st: Rc<CoreState>,
    stream: Rc<TcpStream>,
    schedule: Schedule,
    pattern: Pattern,
    pending: Rc<RefCell<VecDeque<(Instant, Instant)>>>,
    done: Latch,
) {
    let tl = st.timeline;
    let size = st.size;
    // Messages due strictly before the end of the window.
    let last = schedule.due_by((tl.end - tl.start).saturating_sub(Duration::from_nanos(1)));
    let mut spare = Vec::new();
    let mut k = 0u64;
    while k < last {
        let wake_at = tl.start + schedule.due(k);
        uringo::time::sleep_until(wake_at).await;
        let now = Instant::now();
        // How late the sender itself woke: the part of any lateness the machine is to blame for.
        let woke_late = now.saturating_duration_since(wake_at);
        let upto = schedule
            .due_by(now - tl.start)
            .clamp(k + 1, last)
            .min(k + MAX_BATCH);
        let n = upto - k;
        pending.borrow_mut().extend((k..upto).map(|i| {
            let intended = tl.start + schedule.due(i);
            st.sent_at(intended, now, woke_late);
            (intended, now)
        }));
        let (pos, len) = (k * size as u64, n as usize * size);
        if let Err(err) = send_stream(&stream, &pattern, pos, len, &mut spare).await {
            let mut q = pending.borrow_mut();
            let keep = q.len().saturating_sub(n as usize);
            q.truncate(keep);
            st.error(|e| e.count_io(&err));
            break;
        }
        k = upto;
    }
    done.trigger();
}
