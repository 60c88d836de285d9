//! The line-per-second progress report.
//!
//! Each core counts into its own [`Tick`] and, once a second, sends it to a printer thread over a
//! std channel; the printer merges the ticks of one second from every core and prints a line when
//! all cores have reported. Cores never share counters, so the hot path takes no locks.

use crate::echo::timeline::Timeline;
use crate::latency;
use crate::live::Live;
use hdrhistogram::Histogram;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// One core's counts for one second of the run (or, merged, every core's).
#[derive(Debug, Clone)]
pub struct Tick {
    /// 1-based second since the run (warmup included) began.
    pub second: u64,
    /// Whether this second is part of the warmup (not in the summary).
    pub warmup: bool,
    /// Length of the interval: one second, except the run's last, partial one.
    pub span: Duration,
    pub sent: u64,
    /// Completed messages: echoes received and verified, or chat deliveries.
    pub done: u64,
    /// Payload bytes received.
    pub bytes: u64,
    pub errors: u64,
    pub hist: Histogram<u64>,
}

impl Tick {
    pub fn new(second: u64, warmup: bool) -> Self {
        Tick {
            second,
            warmup,
            span: Duration::from_secs(1),
            sent: 0,
            done: 0,
            bytes: 0,
            errors: 0,
            hist: latency::progress_histogram(),
        }
    }

    /// Hands out the counts so far and starts the next second.
    pub fn take(&mut self, next_second: u64, next_warmup: bool) -> Tick {
        std::mem::replace(self, Tick::new(next_second, next_warmup))
    }

    fn merge(&mut self, o: &Tick) {
        self.warmup &= o.warmup;
        self.span = self.span.max(o.span);
        self.sent += o.sent;
        self.done += o.done;
        self.bytes += o.bytes;
        self.errors += o.errors;
        latency::merge(&mut self.hist, &o.hist);
    }
}

/// Merges per-core ticks of the same second.
#[derive(Debug)]
pub struct TickCollector {
    cores: usize,
    pending: BTreeMap<u64, (usize, Tick)>,
}

impl TickCollector {
    pub fn new(cores: usize) -> Self {
        TickCollector {
            cores,
            pending: BTreeMap::new(),
        }
    }

    /// Adds one core's tick; returns the merged tick of its second once every core reported it.
    pub fn add(&mut self, tick: Tick) -> Option<Tick> {
        let second = tick.second;
        let entry = self
            .pending
            .entry(second)
            .or_insert_with(|| (0, Tick::new(second, true)));
        entry.0 += 1;
        entry.1.merge(&tick);
        if entry.0 >= self.cores {
            self.pending.remove(&second).map(|(_, t)| t)
        } else {
            None
        }
    }

    /// The seconds some core never reported (the run ended mid-second), merged as far as known.
    pub fn flush(&mut self) -> Vec<Tick> {
        std::mem::take(&mut self.pending)
            .into_values()
            .map(|(_, t)| t)
            .collect()
    }
}

/// Sends this core's `tick` to the printer at the end of every report second of `tl`, until
/// the end of the run, or (with `live`) until the second in which the run's last connection
/// ended.
pub async fn report_seconds(
    tl: Timeline,
    tick: &RefCell<Tick>,
    tx: mpsc::Sender<Tick>,
    live: Option<&Live>,
) {
    report_seconds_with(tl, tick, tx, live, |_| {}).await;
}

/// [`report_seconds`], with `complete` adding to each second's tick what was counted
/// elsewhere before it is sent.
pub async fn report_seconds_with(
    tl: Timeline,
    tick: &RefCell<Tick>,
    tx: mpsc::Sender<Tick>,
    live: Option<&Live>,
    mut complete: impl FnMut(&mut Tick),
) {
    let mut n = 1;
    loop {
        let mut at = tl.second_end(n);
        uringo::time::sleep_until(at).await;
        let ended = live.and_then(Live::ended);
        if let Some(ended) = ended {
            at = at.min(ended.max(tl.start));
        }
        let mut done = tick.borrow_mut().take(n + 1, tl.second_is_warmup(n + 1));
        let began = if n == 1 {
            tl.start
        } else {
            tl.second_end(n - 1)
        };
        done.span = at.saturating_duration_since(began);
        complete(&mut done);
        let _ = tx.send(done);
        if at >= tl.end || ended.is_some() {
            break;
        }
        n += 1;
    }
}

/// Starts the printer thread: it prints `format(tick)` for each completed second (to stdout, or
/// stderr when stdout carries JSON) and ends when every sender is dropped.
pub fn spawn_printer(
    cores: usize,
    format: fn(&Tick) -> String,
    to_stderr: bool,
) -> (mpsc::Sender<Tick>, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Tick>();
    let handle = thread::Builder::new()
        .name("loadgen-ticker".into())
        .spawn(move || {
            let mut collector = TickCollector::new(cores);
            for tick in rx {
                if let Some(done) = collector.add(tick) {
                    if to_stderr {
                        eprintln!("{}", format(&done));
                    } else {
                        println!("{}", format(&done));
                    }
                }
            }
        })
        .expect("spawning the report thread");
    (tx, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(second: u64, done: u64, lat_ms: u64) -> Tick {
        let mut t = Tick::new(second, false);
        t.done = done;
        t.sent = done;
        latency::record(&mut t.hist, Duration::from_millis(lat_ms));
        t
    }

    #[test]
    fn second_completes_when_all_cores_reported() {
        let mut c = TickCollector::new(2);
        assert!(c.add(tick(1, 10, 1)).is_none());
        assert!(c.add(tick(2, 5, 1)).is_none());
        let one = c.add(tick(1, 20, 3)).expect("second 1 complete");
        assert_eq!((one.second, one.done, one.hist.len()), (1, 30, 2));
        assert!(!one.warmup);
        assert_eq!(one.span, Duration::from_secs(1));
        let rest = c.flush();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].done, 5);
    }

    #[test]
    fn second_is_warmup_only_if_every_core_says_so() {
        let mut c = TickCollector::new(2);
        let mut w = tick(1, 1, 1);
        w.warmup = true;
        c.add(w.clone());
        assert!(c.add(w).unwrap().warmup);
        let mut w = tick(2, 1, 1);
        w.warmup = true;
        c.add(w);
        assert!(!c.add(tick(2, 1, 1)).unwrap().warmup);
    }

    #[test]
    fn take_resets_counts_for_the_next_second() {
        let mut t = tick(4, 9, 1);
        let old = t.take(5, false);
        assert_eq!((old.second, old.done), (4, 9));
        assert_eq!((t.second, t.done, t.hist.len()), (5, 0, 0));
    }
}
