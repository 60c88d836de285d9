//! One core's share of a chat run: its clients' counters, and the cross-core start and drain.
//!
//! Sending starts only when every client, on every core, is registered and has joined its
//! channels; otherwise early messages would miss late joiners and count as lost. The client
//! that completes setup last picks a start instant and tells each core with `spawn_on`. After
//! the sending window each core publishes its counts to [`Shared`] and stops reading once the
//! whole run has delivered what it expected, or nothing arrived for a while (a backlog
//! still arriving is waited for, up to a cap).

use super::accounting::Deliveries;
use super::order::ChannelOrders;
use super::plan::Plan;
use super::window::Window;
use crate::cli::ChatArgs;
use crate::echo::timeline::Timeline;
use crate::errors::Errors;
use crate::latch::Latch;
use crate::latency;
use crate::ticker::Tick;
use hdrhistogram::Histogram;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The drain ends after this long without a new delivery anywhere: what is still missing
/// then is lost (generous: a machine under load stalls for a second or more).
const DRAIN_IDLE: Duration = Duration::from_secs(5);

/// The drain ends at the latest this long after the sending window, deliveries arriving
/// or not.
const DRAIN_CAP: Duration = Duration::from_secs(60);

/// Counts a core publishes for the drain decision.
#[derive(Default)]
pub struct Progress {
    pub delivered: AtomicU64,
    pub expected: AtomicU64,
    pub senders_done: AtomicU64,
}

/// What all cores share (atomics only, written rarely).
pub struct Shared {
    pub clients: u64,
    pub cores: usize,
    /// Setup progress, for the lines printed while thousands of clients register.
    pub connected: AtomicU64,
    pub registered: AtomicU64,
    /// Clients done with setup, joined or failed.
    pub setup_done: AtomicU64,
    pub progress: Vec<Progress>,
    /// Closed loop only: per sender, the deliveries its messages still owe (else empty).
    pub windows: Vec<Window>,
    /// With `--connect-concurrency`: one permit per client between connect and 001.
    pub connecting: Option<uringo::sync::Semaphore>,
}

impl Shared {
    fn totals(&self) -> (u64, u64, u64) {
        self.progress.iter().fold((0, 0, 0), |(d, e, s), p| {
            (
                d + p.delivered.load(Ordering::Acquire),
                e + p.expected.load(Ordering::Acquire),
                s + p.senders_done.load(Ordering::Acquire),
            )
        })
    }
}

/// The deliveries of one receive completion (all arrived at one instant), gathered line by
/// line and counted into the [`ChatCore`] at once: the core's counters and histograms are
/// touched once per completion, and latency is integer arithmetic on nanoseconds.
#[derive(Debug, Default)]
pub struct DeliveryBatch {
    pub counts: Deliveries,
    /// Text bytes of the new (not duplicated) deliveries.
    pub bytes: u64,
    /// When the new deliveries arrived; `None` while there are none.
    pub at: Option<Instant>,
    /// Intended send times, in nanoseconds after the epoch, of the new deliveries.
    pub sent_ns: Vec<u64>,
}

impl DeliveryBatch {
    /// Notes a new delivery of a message intended to be sent `sent_ns` after the epoch, with
    /// `bytes` bytes of text, received at `at`.
    pub fn add(&mut self, sent_ns: u64, bytes: usize, at: Instant) {
        self.at = Some(at);
        self.bytes += bytes as u64;
        self.sent_ns.push(sent_ns);
    }
}

pub struct ChatCore {
    pub args: ChatArgs,
    pub plan: Arc<Plan>,
    pub shared: Arc<Shared>,
    pub core: usize,
    /// Origin of the send times carried in messages.
    pub epoch: Instant,
    pub start: Latch,
    pub stop: Latch,
    pub timeline: Cell<Option<Timeline>>,
    pub tick: RefCell<Tick>,
    /// Every delivery's latency. Each second's progress line reads the part recorded in that
    /// second, this minus `hist_at_tick`, so a delivery is recorded once, not twice.
    pub hist: RefCell<Histogram<u64>>,
    hist_at_tick: RefCell<Histogram<u64>>,
    pub counts: Cell<Deliveries>,
    pub expected: Cell<u64>,
    pub sent: Cell<u64>,
    pub errors: RefCell<Errors>,
    pub senders_done: Cell<u64>,
    /// Every receiver's order of arrival per channel, handed in as each client ends.
    pub orders: RefCell<ChannelOrders>,
    server_errors_shown: Cell<u32>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<ChatCore>>> = const { RefCell::new(None) };
}

/// The result a core hands back.
pub struct ChatCoreResult {
    pub hist: Histogram<u64>,
    pub counts: Deliveries,
    pub expected: u64,
    pub sent: u64,
    pub errors: Errors,
    pub orders: ChannelOrders,
    /// Core 0 only: CPU time (loadgen, servers) from the start of sending to the drain's end.
    pub cpu: Option<(Duration, Option<(Duration, Duration)>)>,
}

impl ChatCore {
    pub fn new(
        args: ChatArgs,
        plan: Arc<Plan>,
        shared: Arc<Shared>,
        core: usize,
        epoch: Instant,
    ) -> Rc<Self> {
        let me = Rc::new(ChatCore {
            args,
            plan,
            shared,
            core,
            epoch,
            start: Latch::default(),
            stop: Latch::default(),
            timeline: Cell::new(None),
            tick: RefCell::new(Tick::new(1, false)),
            hist: RefCell::new(latency::histogram()),
            hist_at_tick: RefCell::new(latency::histogram()),
            counts: Cell::new(Deliveries::default()),
            expected: Cell::new(0),
            sent: Cell::new(0),
            errors: RefCell::new(Errors::default()),
            senders_done: Cell::new(0),
            orders: RefCell::default(),
            server_errors_shown: Cell::new(0),
        });
        CURRENT.with(|c| *c.borrow_mut() = Some(me.clone()));
        me
    }

    /// Forgets the thread-local registration (the core is done).
    pub fn unregister() {
        CURRENT.with(|c| c.borrow_mut().take());
    }

    /// A client finished setup (successfully or not); the last one starts the run everywhere.
    pub fn setup_finished(&self) {
        let done = self.shared.setup_done.fetch_add(1, Ordering::AcqRel) + 1;
        if done == self.shared.clients {
            let at = Instant::now() + Duration::from_millis(20);
            for core in 0..self.shared.cores {
                drop(uringo::spawn_on(core, move || async move {
                    if let Some(c) = CURRENT.with(|c| c.borrow().clone()) {
                        c.begin(at);
                    }
                }));
            }
        }
    }

    fn begin(&self, at: Instant) {
        self.timeline
            .set(Some(Timeline::new(at, Duration::ZERO, self.args.duration)));
        self.start.trigger();
    }

    pub fn error(&self, f: impl FnOnce(&mut Errors)) {
        let mut e = self.errors.borrow_mut();
        let before = e.total();
        f(&mut e);
        self.tick.borrow_mut().errors += e.total() - before;
    }

    /// Shows the first few error replies from the server, then only counts them.
    pub fn server_error(&self, line: &[u8]) {
        self.error(|e| e.other += 1);
        let shown = self.server_errors_shown.get();
        if shown < 5 {
            self.server_errors_shown.set(shown + 1);
            eprintln!("server error reply: {}", String::from_utf8_lossy(line));
        }
    }

    pub fn sent_messages(&self, n: u64, expected: u64) {
        self.sent.set(self.sent.get() + n);
        self.expected.set(self.expected.get() + expected);
        self.tick.borrow_mut().sent += n;
    }

    /// Counts the deliveries of one receive completion into the core, and their latencies
    /// into the run's histogram; leaves `batch` empty for the next completion.
    pub fn delivered(&self, batch: &mut DeliveryBatch) {
        let mut c = self.counts.get();
        c.add(&batch.counts);
        self.counts.set(c);
        batch.counts = Deliveries::default();
        let Some(at) = batch.at.take() else {
            return;
        };
        let at_ns = u64::try_from((at - self.epoch).as_nanos()).unwrap_or(u64::MAX);
        let mut hist = self.hist.borrow_mut();
        let mut t = self.tick.borrow_mut();
        t.done += batch.sent_ns.len() as u64;
        t.bytes += std::mem::take(&mut batch.bytes);
        for &sent_ns in &batch.sent_ns {
            let latency = at_ns.saturating_sub(sent_ns);
            latency::record_nanos(&mut hist, latency);
        }
        batch.sent_ns.clear();
    }

    /// Completes a second's progress `tick` with the latencies recorded since the last one.
    pub fn complete_second(&self, tick: &mut Tick) {
        tick.hist = latency::gained_since(&self.hist.borrow(), &mut self.hist_at_tick.borrow_mut());
    }

    fn publish(&self) {
        let p = &self.shared.progress[self.core];
        p.delivered
            .store(self.counts.get().delivered, Ordering::Release);
        p.expected.store(self.expected.get(), Ordering::Release);
        p.senders_done
            .store(self.senders_done.get(), Ordering::Release);
    }

    /// After the sending window: stop once every expected delivery arrived everywhere, or
    /// nothing new arrived for [`DRAIN_IDLE`], or [`DRAIN_CAP`] passed. While deliveries
    /// keep arriving the drain waits: a loaded machine delivers a backlog late, not never.
    pub async fn drain(&self) {
        let Some(tl) = self.timeline.get() else {
            return;
        };
        uringo::time::sleep_until(tl.end).await;
        let mut last = (u64::MAX, Instant::now());
        loop {
            self.publish();
            let (delivered, expected, senders) = self.shared.totals();
            let now = Instant::now();
            if senders >= self.shared.clients && delivered >= expected {
                break;
            }
            if delivered != last.0 {
                last = (delivered, now);
            } else if now - last.1 >= DRAIN_IDLE {
                break;
            }
            if now >= tl.end + DRAIN_CAP {
                break;
            }
            uringo::time::sleep(Duration::from_millis(20)).await;
        }
        self.stop.trigger();
    }

    pub fn take_result(&self) -> ChatCoreResult {
        ChatCoreResult {
            hist: self.hist.replace(latency::histogram()),
            counts: self.counts.take(),
            expected: self.expected.take(),
            sent: self.sent.take(),
            errors: self.errors.take(),
            orders: self.orders.take(),
            cpu: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core() -> Rc<ChatCore> {
        let args = ChatArgs::short(vec!["127.0.0.1:1".parse().unwrap()]);
        let shared = Arc::new(super::super::run::new_shared(&args, 1));
        let plan = Arc::new(Plan::new(args.clients, args.channels, args.joins));
        ChatCore::new(args, plan, shared, 0, Instant::now())
    }

    fn batch_of(core: &ChatCore, latencies_ms: &[u64]) -> DeliveryBatch {
        let at = core.epoch + Duration::from_secs(10);
        let mut batch = DeliveryBatch::default();
        for &ms in latencies_ms {
            let sent_ns = 10_000_000_000 - ms * 1_000_000;
            batch.counts.delivered += 1;
            batch.add(sent_ns, 64, at);
        }
        batch
    }

    #[test]
    fn each_second_shows_only_its_own_latencies_and_the_run_all() {
        let core = core();
        core.delivered(&mut batch_of(&core, &[1, 2, 3]));
        let mut first = core.tick.borrow_mut().take(2, false);
        core.complete_second(&mut first);
        core.delivered(&mut batch_of(&core, &[50, 60]));
        let mut second = core.tick.borrow_mut().take(3, false);
        core.complete_second(&mut second);
        let ms = |h: &Histogram<u64>| (h.len(), h.min() / 1_000_000, h.max() / 1_000_000);
        assert_eq!(
            (first.done, first.bytes, ms(&first.hist)),
            (3, 192, (3, 0, 3))
        );
        assert_eq!((second.done, ms(&second.hist)), (2, (2, 49, 60)));
        let run = core.take_result();
        assert_eq!((run.counts.delivered, ms(&run.hist)), (5, (5, 0, 60)));
        ChatCore::unregister();
    }
}
