//! A hierarchical timer wheel, one per core.
//!
//! Six levels of 64 slots; a slot of level `l` spans 64^l milliseconds. A
//! timer goes to the lowest level whose slot span separates its deadline
//! from the current time (the highest 6-bit digit in which they differ);
//! when time reaches a slot of a higher level, its timers cascade down.
//! Insert and cancel are O(1) (intrusive lists in a slab); finding the next
//! deadline is a bit scan per level. Resolution is 1 ms, deadlines round
//! up, so a timer never fires early.

use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

const LEVELS: usize = 6;
const SLOTS: usize = 64;
const NIL: usize = usize::MAX;
const MAX_MS: u64 = (1 << (6 * LEVELS as u64)) - 1;

struct Entry {
    deadline: u64,
    waker: Option<Waker>,
    level: u8,
    slot: u8,
    prev: usize,
    next: usize,
}

/// A handle to a registered timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey(usize);

pub(crate) struct Wheel {
    origin: Instant,
    /// Milliseconds since `origin` up to which timers have been processed.
    elapsed: u64,
    entries: Slab<Entry>,
    heads: [[usize; SLOTS]; LEVELS],
    occupied: [u64; LEVELS],
}

impl Wheel {
    pub(crate) fn new(origin: Instant) -> Wheel {
        Wheel {
            origin,
            elapsed: 0,
            entries: Slab::new(),
            heads: [[NIL; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
        }
    }

    fn to_ms_ceil(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.origin);
        let ms = d.as_millis() as u64 + u64::from(d.subsec_nanos() % 1_000_000 != 0);
        ms.min(MAX_MS)
    }

    fn to_ms_floor(&self, t: Instant) -> u64 {
        (t.saturating_duration_since(self.origin).as_millis() as u64).min(MAX_MS)
    }

    /// Whether any timer is registered (pending or fired but not removed).
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Registers a timer; `None` if its deadline has already passed.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> Option<TimerKey> {
        let when = self.to_ms_ceil(deadline);
        if when <= self.elapsed {
            return None;
        }
        let key = self.entries.insert(Entry {
            deadline: when,
            waker: Some(waker),
            level: 0,
            slot: 0,
            prev: NIL,
            next: NIL,
        });
        self.link(key);
        Some(TimerKey(key))
    }

    /// Replaces the waker of a registered timer.
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) {
        if let Some(entry) = self.entries.get_mut(key.0) {
            match &entry.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => entry.waker = Some(waker.clone()),
            }
        }
    }

    /// Whether the timer is still pending (not fired, not cancelled).
    pub(crate) fn is_pending(&self, key: TimerKey) -> bool {
        self.entries.get(key.0).is_some_and(|e| e.waker.is_some())
    }

    /// Removes a timer (fired or not).
    pub(crate) fn remove(&mut self, key: TimerKey) {
        if let Some(entry) = self.entries.get(key.0) {
            if entry.waker.is_some() {
                self.unlink(key.0);
            }
            self.entries.remove(key.0);
        }
    }

    /// The earliest instant at which a timer may fire.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.next_expiration()
            .map(|(_, _, ms)| self.origin + Duration::from_millis(ms))
    }

    /// Fires every timer due at `now`: their wakers go to `out`. A fired
    /// timer stays registered (not pending) until its owner removes it.
    pub(crate) fn expire(&mut self, now: Instant, out: &mut Vec<Waker>) {
        let now = self.to_ms_floor(now);
        while let Some((level, slot, at)) = self.next_expiration() {
            if at > now {
                break;
            }
            self.elapsed = self.elapsed.max(at);
            let mut key = std::mem::replace(&mut self.heads[level][slot], NIL);
            self.occupied[level] &= !(1 << slot);
            while key != NIL {
                let entry = &mut self.entries[key];
                let next = entry.next;
                entry.prev = NIL;
                entry.next = NIL;
                if entry.deadline <= self.elapsed {
                    if let Some(w) = entry.waker.take() {
                        out.push(w);
                    }
                } else {
                    self.link(key);
                }
                key = next;
            }
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// Drops every timer (runtime shutdown).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.heads = [[NIL; SLOTS]; LEVELS];
        self.occupied = [0; LEVELS];
    }

    fn level_for(&self, deadline: u64) -> usize {
        let differing = (deadline ^ self.elapsed) | (SLOTS as u64 - 1);
        let bit = 63 - differing.leading_zeros() as usize;
        (bit / 6).min(LEVELS - 1)
    }

    fn link(&mut self, key: usize) {
        let deadline = self.entries[key].deadline;
        let level = self.level_for(deadline);
        let slot = ((deadline >> (6 * level)) as usize) & (SLOTS - 1);
        let head = self.heads[level][slot];
        {
            let entry = &mut self.entries[key];
            entry.level = level as u8;
            entry.slot = slot as u8;
            entry.prev = NIL;
            entry.next = head;
        }
        if head != NIL {
            self.entries[head].prev = key;
        }
        self.heads[level][slot] = key;
        self.occupied[level] |= 1 << slot;
    }

    fn unlink(&mut self, key: usize) {
        let (level, slot, prev, next) = {
            let e = &self.entries[key];
            (e.level as usize, e.slot as usize, e.prev, e.next)
        };
        if prev != NIL {
            self.entries[prev].next = next;
        } else if self.heads[level][slot] == key {
            self.heads[level][slot] = next;
            if next == NIL {
                self.occupied[level] &= !(1 << slot);
            }
        }
        if next != NIL {
            self.entries[next].prev = prev;
        }
    }

    /// (level, slot, start in ms) of the earliest non-empty slot.
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        for level in 0..LEVELS {
            let occupied = self.occupied[level];
            if occupied == 0 {
                continue;
            }
            let shift = 6 * level as u64;
            let digit = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            let ahead = occupied & (u64::MAX << digit);
            let slot = if ahead != 0 {
                ahead.trailing_zeros() as usize
            } else {
                occupied.trailing_zeros() as usize
            };
            let span = 1u64 << shift;
            let base = self.elapsed & !((span << 6) - 1);
            let mut start = base + slot as u64 * span;
            if ahead == 0 {
                start += span << 6;
            }
            return Some((level, slot, start.max(self.elapsed)));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Waker, Arc<Count>) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (Waker::from(c.clone()), c)
    }

    #[test]
    fn fires_each_timer_at_or_after_its_deadline_never_before() {
        let origin = Instant::now();
        let mut wheel = Wheel::new(origin);
        let deadlines = [
            1u64, 5, 63, 64, 65, 100, 4095, 4096, 4097, 300_000, 20_000_000,
        ];
        let mut counters = Vec::new();
        for &ms in &deadlines {
            let (w, c) = waker();
            wheel.insert(origin + Duration::from_millis(ms), w).unwrap();
            counters.push(c);
        }
        let mut out = Vec::new();
        let mut fired_at = vec![None; deadlines.len()];
        let mut t = 0;
        while fired_at.iter().any(Option::is_none) {
            // Jump straight to the next deadline, as the core does when parked.
            let next = wheel.next_deadline().expect("timers left");
            t = next.duration_since(origin).as_millis() as u64;
            wheel.expire(next, &mut out);
            for w in out.drain(..) {
                w.wake();
            }
            for (i, c) in counters.iter().enumerate() {
                if c.0.load(Ordering::SeqCst) == 1 && fired_at[i].is_none() {
                    fired_at[i] = Some(t);
                }
            }
        }
        for (i, &ms) in deadlines.iter().enumerate() {
            assert_eq!(
                fired_at[i],
                Some(ms),
                "timer {ms}ms fired at {:?}",
                fired_at[i]
            );
        }
        assert_eq!(t, 20_000_000);
    }

    #[test]
    fn removed_timers_never_fire_and_free_their_slot() {
        let origin = Instant::now();
        let mut wheel = Wheel::new(origin);
        let (w1, c1) = waker();
        let (w2, c2) = waker();
        let k1 = wheel
            .insert(origin + Duration::from_millis(10), w1)
            .unwrap();
        let _k2 = wheel
            .insert(origin + Duration::from_millis(10), w2)
            .unwrap();
        wheel.remove(k1);
        let mut out = Vec::new();
        wheel.expire(origin + Duration::from_millis(10), &mut out);
        out.drain(..).for_each(Waker::wake);
        assert_eq!(c1.0.load(Ordering::SeqCst), 0);
        assert_eq!(c2.0.load(Ordering::SeqCst), 1);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn past_deadlines_are_refused_and_coarse_expiry_catches_up() {
        let origin = Instant::now();
        let mut wheel = Wheel::new(origin);
        let (w, _) = waker();
        assert!(wheel.insert(origin, w).is_none());
        let mut counters = Vec::new();
        for ms in (1..2000).step_by(7) {
            let (w, c) = waker();
            wheel.insert(origin + Duration::from_millis(ms), w).unwrap();
            counters.push(c);
        }
        let mut out = Vec::new();
        wheel.expire(origin + Duration::from_millis(999), &mut out);
        assert_eq!(out.len(), (1..1000).step_by(7).count());
        out.clear();
        wheel.expire(origin + Duration::from_secs(5), &mut out);
        assert_eq!(out.len(), counters.len() - (1..1000).step_by(7).count());
    }
}
