//! One core's counters during an echo run, shared by its connection tasks (`Rc`, single core).

use super::timeline::Timeline;
use crate::errors::Errors;
use crate::latency;
use crate::ticker::Tick;
use hdrhistogram::Histogram;
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub struct CoreState {
    pub addr: SocketAddr,
    pub size: usize,
    pub pipeline: usize,
    /// Open loop: total rate and connection count, for the schedule.
    pub rate: Option<u64>,
    pub conns: u64,
    pub timeline: Timeline,
    pub tick: RefCell<Tick>,
    /// Latencies of messages intended to be sent in the measured window.
    pub hist: RefCell<Histogram<u64>>,
    /// Open loop only: the same messages, measured from the actual send.
    pub service: RefCell<Histogram<u64>>,
    /// Open loop only: how the sends of those messages kept to the schedule.
    pub lateness: RefCell<Lateness>,
    pub errors: RefCell<Errors>,
    /// Messages and bytes completed within the measured window.
    pub messages: Cell<u64>,
    pub bytes: Cell<u64>,
    /// The core's ring across the measured window, once it has ended.
    pub ring: Cell<Option<RingCounts>>,
}

/// How a core used its ring over the measured window (from [`uringo::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingCounts {
    /// io_uring_enter calls (epoll: epoll_wait calls).
    pub enters: u64,
    /// Times the core blocked in the kernel with nothing to run.
    pub parks: u64,
}

impl RingCounts {
    fn now() -> Self {
        let s = uringo::stats();
        RingCounts {
            enters: s.enters,
            parks: s.parks,
        }
    }

    fn since(self, before: RingCounts) -> Self {
        RingCounts {
            enters: self.enters - before.enters,
            parks: self.parks - before.parks,
        }
    }
}

/// Open loop: sends against the schedule, for messages due in the measured window.
pub struct Lateness {
    /// How long after its due time each was sent.
    pub hist: Histogram<u64>,
    /// Sent before the window ended.
    pub sent_by_end: u64,
    /// Sent before their due time.
    pub early: u64,
    /// Sent later after their due time than the sender woke after the time it slept until.
    pub late_beyond_wakeup: u64,
}

impl Default for Lateness {
    fn default() -> Self {
        Lateness {
            hist: latency::histogram(),
            sent_by_end: 0,
            early: 0,
            late_beyond_wakeup: 0,
        }
    }
}

impl Lateness {
    pub fn add(&mut self, o: &Lateness) {
        latency::merge(&mut self.hist, &o.hist);
        self.sent_by_end += o.sent_by_end;
        self.early += o.early;
        self.late_beyond_wakeup += o.late_beyond_wakeup;
    }
}

/// What a core hands back at the end: plain data, sent to the main thread.
pub struct CoreResult {
    pub hist: Histogram<u64>,
    pub service: Histogram<u64>,
    pub lateness: Lateness,
    pub errors: Errors,
    pub messages: u64,
    pub bytes: u64,
    /// `None` if the run ended before its window did.
    pub ring: Option<RingCounts>,
}

impl CoreState {
    /// Records one message completed at `now`, intended to be sent at `intended` and actually
    /// sent at `actual` (the same in closed loop).
    ///
    /// Its latency is recorded once: into the run's histogram when it was intended in the
    /// measured window, else into the progress line's; each second's line then takes the run
    /// histogram's new latencies too ([`complete_tick`](CoreState::complete_tick)).
    pub fn completed(&self, now: Instant, intended: Instant, actual: Instant) {
        let size = self.size as u64;
        let latency = now.saturating_duration_since(intended);
        let mut tick = self.tick.borrow_mut();
        tick.done += 1;
        tick.bytes += size;
        if self.timeline.measured(now) {
            self.messages.set(self.messages.get() + 1);
            self.bytes.set(self.bytes.get() + size);
        }
        if self.timeline.measured(intended) {
            latency::record(&mut self.hist.borrow_mut(), latency);
            if self.rate.is_some() {
                latency::record(&mut self.service.borrow_mut(), now - actual);
            }
        } else {
            latency::record(&mut tick.hist, latency);
        }
    }

    /// Closed loop: records the messages let out at `sent` (oldest first) whose echoes one
    /// receive completed at `now`, both in [`Timeline::nanos`]. The same as a
    /// [`completed`](CoreState::completed) per message, with one borrow and one window check
    /// per receive and integer latencies: it is on the path of every echo.
    pub fn echoes_completed(&self, now: u64, sent: impl ExactSizeIterator<Item = u64>) {
        let tl = &self.timeline;
        let (count, size) = (sent.len() as u64, self.size as u64);
        let mut tick = self.tick.borrow_mut();
        tick.done += count;
        tick.bytes += count * size;
        if tl.measured_nanos(now) {
            self.messages.set(self.messages.get() + count);
            self.bytes.set(self.bytes.get() + count * size);
        }
        let mut hist = self.hist.borrow_mut();
        for at in sent {
            let latency = now.saturating_sub(at);
            if tl.measured_nanos(at) {
                latency::record_nanos(&mut hist, latency);
            } else {
                latency::record_nanos(&mut tick.hist, latency);
            }
        }
    }

    /// Adds to the second's `tick` the latencies the run's histogram gained since `seen`, its
    /// copy at the previous second, which it then updates.
    pub fn complete_tick(&self, tick: &mut Tick, seen: &mut Histogram<u64>) {
        let gained = latency::gained_since(&self.hist.borrow(), seen);
        latency::merge(&mut tick.hist, &gained);
    }

    /// Counts this core's ring calls across the measured window, into `ring` at its end.
    pub async fn count_ring(&self) {
        uringo::time::sleep_until(self.timeline.measure_from).await;
        let before = RingCounts::now();
        uringo::time::sleep_until(self.timeline.end).await;
        self.ring.set(Some(RingCounts::now().since(before)));
    }

    /// Open loop: a message due at `intended` was sent at `actual` by a sender that woke
    /// `woke_late` after the time it slept until.
    pub fn sent_at(&self, intended: Instant, actual: Instant, woke_late: Duration) {
        if !self.timeline.measured(intended) {
            return;
        }
        let mut l = self.lateness.borrow_mut();
        match actual.checked_duration_since(intended) {
            Some(late) => {
                latency::record(&mut l.hist, late);
                l.late_beyond_wakeup += u64::from(late > woke_late);
            }
            None => l.early += 1,
        }
        if actual < self.timeline.end {
            l.sent_by_end += 1;
        }
    }

    /// Counts an error of the kind `f` picks.
    pub fn error(&self, f: impl FnOnce(&mut Errors)) {
        let mut e = self.errors.borrow_mut();
        let before = e.total();
        f(&mut e);
        self.tick.borrow_mut().errors += e.total() - before;
    }

    /// Hands out the totals (leaving empty ones behind) once the core's tasks are done.
    pub fn take_result(&self) -> CoreResult {
        CoreResult {
            hist: self.hist.replace(latency::histogram()),
            service: self.service.replace(latency::histogram()),
            lateness: self.lateness.take(),
            errors: self.errors.take(),
            messages: self.messages.take(),
            bytes: self.bytes.take(),
            ring: self.ring.take(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(tl: Timeline) -> CoreState {
        CoreState {
            addr: "127.0.0.1:1".parse().unwrap(),
            size: 64,
            pipeline: 1,
            rate: None,
            conns: 1,
            timeline: tl,
            tick: RefCell::new(Tick::new(1, false)),
            hist: RefCell::new(latency::histogram()),
            service: RefCell::new(latency::histogram()),
            lateness: RefCell::default(),
            errors: RefCell::default(),
            messages: Cell::new(0),
            bytes: Cell::new(0),
            ring: Cell::new(None),
        }
    }

    #[test]
    fn each_latency_is_recorded_once_and_every_second_shows_it() {
        let start = Instant::now();
        let tl = Timeline::new(start, Duration::from_secs(1), Duration::from_secs(10));
        let st = state(tl);
        let now = start + Duration::from_secs(2);
        // Intended in the warmup: only the progress line has it.
        st.completed(now, start, start);
        // Intended in the measured window: only the run's histogram, until the second ends.
        st.completed(now, now - Duration::from_millis(5), now);
        st.completed(now, now - Duration::from_millis(7), now);
        assert_eq!(st.hist.borrow().len(), 2);
        assert_eq!(st.tick.borrow().hist.len(), 1);
        assert_eq!(st.messages.get(), 3);

        let mut seen = latency::histogram();
        let mut first = st.tick.borrow_mut().take(2, false);
        st.complete_tick(&mut first, &mut seen);
        assert_eq!((first.done, first.hist.len()), (3, 3));
        let p99 = first.hist.value_at_quantile(0.99);
        assert!(first.hist.equivalent(p99, 2_000_000_000), "{p99}");

        // The next second shows only what came after.
        st.completed(now, now - Duration::from_millis(1), now);
        let mut second = st.tick.borrow_mut().take(3, false);
        st.complete_tick(&mut second, &mut seen);
        assert_eq!((second.done, second.hist.len()), (1, 1));
        assert!(second.hist.equivalent(second.hist.max(), 1_000_000));
        assert_eq!(st.hist.borrow().len(), 3);
    }

    #[test]
    fn echoes_completed_records_like_completed_per_message() {
        let start = Instant::now();
        let tl = Timeline::new(start, Duration::from_secs(1), Duration::from_secs(10));
        let (one_by_one, batched) = (state(tl), state(tl));
        let now = start + Duration::from_millis(1500);
        // Let out in the warmup, at the window's start, and inside it.
        let sent_ms = [200u64, 1000, 1400];
        for ms in sent_ms {
            let at = start + Duration::from_millis(ms);
            one_by_one.completed(now, at, at);
        }
        batched.echoes_completed(tl.nanos(now), sent_ms.iter().map(|ms| ms * 1_000_000));
        assert_eq!(batched.messages.get(), one_by_one.messages.get());
        assert_eq!(batched.bytes.get(), 3 * 64);
        assert_eq!(*batched.hist.borrow(), *one_by_one.hist.borrow());
        assert_eq!(batched.hist.borrow().len(), 2);
        let (a, b) = (batched.tick.borrow(), one_by_one.tick.borrow());
        assert_eq!((a.done, a.bytes, a.hist.len()), (b.done, b.bytes, 1));
        assert_eq!(a.hist, b.hist);
        // Completed after the window: counted in the second, not in the run's totals.
        let late = state(tl);
        late.echoes_completed(
            tl.nanos(start + Duration::from_secs(12)),
            [10_500_000_000].into_iter(),
        );
        assert_eq!((late.messages.get(), late.tick.borrow().done), (0, 1));
        assert_eq!(late.hist.borrow().len(), 1);
    }
}
