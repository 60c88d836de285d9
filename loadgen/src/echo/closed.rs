//! The closed loop: `pipeline` messages in flight per connection; each echo completed lets one
//! more out. Every echoed byte is verified in the provided buffer it arrived in.
//!
//! It is the loop the loadgen-vs-minimal-client bench holds against a hand-written io_uring
//! client, so a message costs one task wake, not two: the SEND is polled with a no-op waker,
//! and the connection runs when its echo arrives. That is safe because an echo server answers
//! every byte the kernel accepted, so a SEND's completion is always followed by a RECV that
//! wakes the task, which then sees the SEND done (and resends the rest of a short one). The
//! one exception, echoed bytes seen before their SEND's completion was reaped, is detected
//! (more bytes back than known sent) and then the SEND is polled with the real waker. A
//! server that stops answering is caught by the drain deadline, as before. On the epoll
//! backend a SEND only progresses when polled (a full socket buffer waits for writability),
//! so there it always gets the real waker.

use super::conn::connect;
use super::state::CoreState;
use crate::pattern::{Pattern, Verifier, WINDOW};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use uringo::buf::RecvBuf;
use uringo::net::TcpStream;

/// One connection's bookkeeping, apart from its SEND future.
struct Flow<'a> {
    st: &'a CoreState,
    pattern: Pattern,
    verifier: Verifier,
    /// When each message sent and not yet echoed was let out, oldest first, in
    /// [`Timeline::nanos`](super::timeline::Timeline::nanos).
    in_flight: VecDeque<u64>,
    /// Stream bytes the kernel has accepted (completed SENDs).
    acked: u64,
    /// Stream bytes let out so far: `acked` plus what is being or is still to be sent.
    target: u64,
    /// Whether a SEND runs in the kernel without being polled (io_uring), so that it may be
    /// polled with a no-op waker.
    quiet_sends: bool,
}

/// What one item of the receive stream did to the connection.
enum Step {
    Continue,
    /// The connection is finished (error counted).
    Stop,
}

impl<'a> Flow<'a> {
    fn new(st: &'a CoreState, id: u64) -> Self {
        let pattern = Pattern::new(id);
        Flow {
            st,
            pattern,
            verifier: Verifier::new(pattern, st.size),
            in_flight: VecDeque::with_capacity(st.pipeline),
            acked: 0,
            target: 0,
            quiet_sends: uringo::features().backend == uringo::Backend::IoUring,
        }
    }

    /// Lets `n` more messages out at `now` ([`Timeline::nanos`](super::timeline::Timeline::nanos)),
    /// unless the window has ended.
    fn let_out(&mut self, n: usize, now: u64) {
        if n == 0 || self.st.timeline.ended_by_nanos(now) {
            return;
        }
        for _ in 0..n {
            self.in_flight.push_back(now);
        }
        self.target += (n * self.st.size) as u64;
    }

    /// The next bytes to hand to a SEND: straight from the pattern table, up to its window.
    fn unsent(&self) -> Option<&'static [u8]> {
        let len = (self.target - self.acked).min(WINDOW as u64) as usize;
        (len > 0).then(|| {
            self.pattern
                .slice(self.acked, len)
                .expect("len fits the window")
        })
    }

    /// Whether the pending SEND must wake the task: on epoll always; on io_uring when echoed
    /// bytes outran the completed SENDs, as its completion is then the only event still to
    /// come for sure.
    fn send_must_wake(&self) -> bool {
        !self.quiet_sends || self.verifier.position() > self.acked
    }

    /// Verifies one receive, records the messages it completed and lets as many new ones out.
    fn received(&mut self, item: io::Result<Option<RecvBuf>>) -> Step {
        let st = self.st;
        let buf = match item {
            Ok(Some(buf)) => buf,
            Ok(None) => {
                st.error(|e| e.short_reads += 1);
                return Step::Stop;
            }
            Err(err) => {
                st.error(|e| e.count_io(&err));
                return Step::Stop;
            }
        };
        let n = match self.verifier.feed(&buf) {
            Ok(n) if n <= self.in_flight.len() as u64 => n as usize,
            // Wrong bytes, or more than were sent: the server made some up.
            Ok(_) | Err(_) => {
                st.error(|e| e.mismatches += 1);
                return Step::Stop;
            }
        };
        drop(buf);
        if n > 0 {
            // One clock read per receive: the moment these echoes completed is also the send
            // time of the messages they let out.
            let now = st.timeline.nanos(Instant::now());
            st.echoes_completed(now, self.in_flight.drain(..n));
            self.let_out(n, now);
        }
        Step::Continue
    }

    /// Everything let out has come back, and nothing more will be let out.
    fn finished(&self) -> bool {
        self.in_flight.is_empty()
    }

    fn timed_out(&self) {
        let left = self.in_flight.len() as u64;
        self.st.error(|e| e.timeouts += left);
    }
}

/// Polls the SEND in flight, with the task's waker only when [`Flow::send_must_wake`]; a
/// completed one is cleared. False once it failed (error counted).
fn poll_send<F>(flow: &mut Flow<'_>, send: &mut Pin<&mut Option<F>>, cx: &mut Context<'_>) -> bool
where
    F: Future<Output = (io::Result<usize>, &'static [u8])>,
{
    let Some(fut) = send.as_mut().as_pin_mut() else {
        return true;
    };
    let mut quiet = Context::from_waker(Waker::noop());
    let waker_cx = if flow.send_must_wake() {
        cx
    } else {
        &mut quiet
    };
    match fut.poll(waker_cx) {
        Poll::Pending => true,
        Poll::Ready((Ok(n), _)) => {
            flow.acked += n as u64;
            send.set(None);
            true
        }
        Poll::Ready((Err(err), _)) => {
            flow.st.error(|e| e.count_io(&err));
            false
        }
    }
}

/// Closed loop on connection `id`: keep `pipeline` messages in flight until the window ends,
/// then wait (until the drain deadline) for the last echoes.
pub async fn closed_loop(st: Rc<CoreState>, id: u64) {
    let Some(stream) = connect(&st, id).await else {
        return;
    };
    run(&st, &stream, id).await;
    let _ = stream.close().await;
}

async fn run(st: &CoreState, stream: &TcpStream, id: u64) {
    let mut flow = Flow::new(st, id);
    flow.let_out(st.pipeline, st.timeline.nanos(Instant::now()));
    let mut send = pin!(None);
    let mut drain = pin!(uringo::time::sleep_until(st.timeline.drain_until));
    let mut drain_armed = false;
    poll_fn(|cx| {
        let mut progress = false;
        loop {
            let was_sending = send.is_some();
            if !poll_send(&mut flow, &mut send, cx) {
                return Poll::Ready(());
            }
            progress |= was_sending && send.is_none();
            if send.is_none() {
                if let Some(bytes) = flow.unsent() {
                    // Polled at the top of the loop, which submits it.
                    send.set(Some(stream.write(bytes)));
                    continue;
                }
            }
            if flow.finished() {
                return Poll::Ready(());
            }
            if let Poll::Ready(item) = pin!(stream.recv()).poll(cx) {
                progress = true;
                match flow.received(item) {
                    Step::Continue => continue,
                    Step::Stop => return Poll::Ready(()),
                }
            }
            break;
        }
        // The drain timer keeps the waker it was first polled with; after that it is only
        // looked at when a wake brought nothing else (it may be the one that fired).
        if (!drain_armed || !progress) && drain.as_mut().poll(cx).is_ready() {
            flow.timed_out();
            return Poll::Ready(());
        }
        drain_armed = true;
        Poll::Pending
    })
    .await;
}
