//! The epoll backend: readiness instead of completions.
//!
//! An op runs when its future is polled: [`Operation::attempt`] makes its
//! syscall non-blocking (MSG_DONTWAIT, or an fd in O_NONBLOCK). If that would
//! block, the future registers its waker for the fd's readiness and the
//! core goes on; the core's `epoll_wait` (with the timer wheel's next
//! deadline as its timeout) wakes it once the fd becomes ready, and the
//! attempt is made again.
//!
//! Fds are registered once, edge-triggered, for both directions. Edges need
//! no readiness bookkeeping here because an op always tries before it
//! waits: an edge that came before the try is seen by the try itself, and
//! one after it finds the waker registered (both happen on this thread,
//! between two `epoll_wait`s). A dropped op has done nothing in the kernel,
//! so its resources are freed at once and no byte is lost.
//!
//! Foreign threads wake the core through its eventfd, registered here too.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::{Attempt, Backend, BufPool, Config, Counters, Cqe, Features, Interest, Operation};

/// The event token of the core's wake eventfd (fds are never negative).
const WAKE: u64 = u64::MAX;
/// Events taken per epoll_wait.
const EVENTS: usize = 256;

pub(crate) struct Driver {
    epoll: OwnedFd,
    eventfd: RawFd,
    /// Registered fds and the ops waiting for their readiness.
    fds: HashMap<RawFd, Waiters>,
    /// NOPs waiting for the next turn.
    next_turn: Vec<Waker>,
    events: Vec<libc::epoll_event>,
    pub(crate) bufs: Rc<BufPool>,
    pub(crate) features: Features,
    pub(crate) counters: Counters,
}

#[derive(Default)]
struct Waiters {
    read: Vec<Waker>,
    write: Vec<Waker>,
}

impl Driver {
    pub(crate) fn new(config: &Config<'_>) -> io::Result<Driver> {
        // SAFETY: epoll_create1 has no memory-safety preconditions.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just created and nobody else owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        let driver = Driver {
            epoll,
            eventfd: config.eventfd,
            fds: HashMap::with_capacity(256),
            next_turn: Vec::new(),
            events: Vec::with_capacity(EVENTS),
            bufs: Rc::new(BufPool::local(config.buf_count, config.buf_size)?),
            features: Features {
                backend: Backend::Epoll,
                ..Features::default()
            },
            counters: Counters::default(),
        };
        driver.ctl(
            libc::EPOLL_CTL_ADD,
            config.eventfd,
            libc::EPOLLIN as u32,
            WAKE,
        )?;
        Ok(driver)
    }

    fn ctl(&self, op: i32, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: `event` is a live epoll_event; epoll_ctl only reads it.
        let rc = unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Runs one attempt of `op`; if it would block, registers `cx` for the
    /// readiness it waits for.
    pub(crate) fn poll_attempt(&mut self, op: &mut impl Operation, cx: &Context<'_>) -> Poll<Cqe> {
        match op.attempt() {
            Attempt::Done(cqe) => Poll::Ready(cqe),
            Attempt::NextTurn => {
                self.next_turn.push(cx.waker().clone());
                Poll::Pending
            }
            Attempt::Wait(fd, interest) => match self.wait(fd, interest, cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Cqe::new(-e.raw_os_error().unwrap_or(libc::EIO))),
            },
        }
    }

    fn wait(&mut self, fd: RawFd, interest: Interest, cx: &Context<'_>) -> io::Result<()> {
        if !self.fds.contains_key(&fd) {
            let events = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
            self.ctl(libc::EPOLL_CTL_ADD, fd, events, fd as u64)?;
        }
        let waiters = self.fds.entry(fd).or_default();
        let list = match interest {
            Interest::Read => &mut waiters.read,
            Interest::Write => &mut waiters.write,
        };
        if !list.iter().any(|w| w.will_wake(cx.waker())) {
            list.push(cx.waker().clone());
        }
        Ok(())
    }

    /// `fd` is about to be closed: deregister it.
    pub(crate) fn forget(&mut self, fd: RawFd) {
        if let Some(waiters) = self.fds.remove(&fd) {
            // An fd duplicated elsewhere would stay registered past close.
            let _ = self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
            drop(waiters);
        }
    }

    pub(crate) fn turn(&mut self, wait: Option<Duration>, out: &mut Vec<Waker>) -> io::Result<()> {
        let timeout = match wait {
            _ if !self.next_turn.is_empty() => 0,
            None => -1,
            // Rounded up: waking before the deadline would only spin.
            Some(d) => d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
        };
        self.counters.enters += 1;
        self.events.clear();
        // SAFETY: the buffer has room for EVENTS entries; the kernel writes
        // at most that many and returns how many.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                self.events.as_mut_ptr(),
                EVENTS as i32,
                timeout,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(e)
            };
        }
        // SAFETY: epoll_wait initialised the first n entries.
        unsafe { self.events.set_len(n as usize) };
        self.counters.cqes += n as u64;
        for i in 0..self.events.len() {
            let libc::epoll_event { events, u64: token } = self.events[i];
            self.dispatch(token, events, out);
        }
        out.append(&mut self.next_turn);
        Ok(())
    }

    fn dispatch(&mut self, token: u64, events: u32, out: &mut Vec<Waker>) {
        if token == WAKE {
            let mut count = 0u64;
            // SAFETY: reads 8 bytes into a live u64 from the (non-blocking)
            // eventfd the core's signal owns; this resets it.
            unsafe { libc::read(self.eventfd, (&mut count as *mut u64).cast(), 8) };
            return;
        }
        let Some(waiters) = self.fds.get_mut(&(token as RawFd)) else {
            return;
        };
        let failed = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
        if events & (libc::EPOLLIN as u32 | libc::EPOLLRDHUP as u32 | failed) != 0 {
            out.append(&mut waiters.read);
        }
        if events & (libc::EPOLLOUT as u32 | failed) != 0 {
            out.append(&mut waiters.write);
        }
    }
}
