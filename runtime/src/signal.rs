//! SIGINT and SIGTERM as awaitables, and the SIGQUIT task dump.
//!
//! A signalfd would need the signals blocked in every thread of the process,
//! including threads the runtime does not own, and would silently change
//! what Ctrl-C does to programs that never asked. Instead a minimal handler
//! (installed on first use, async-signal-safe: atomics and write(2) only)
//! counts the signal and writes each core's eventfd, whose read is always
//! armed in the core's ring; the core then wakes the tasks waiting here.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::Once;
use std::task::{Context, Poll, Waker};

use crate::executor::{with_current, Core};

const MAX_CORES: usize = 1024;
static CORE_EVENTFDS: [AtomicI32; MAX_CORES] = [const { AtomicI32::new(-1) }; MAX_CORES];
static SIGINT_COUNT: AtomicU64 = AtomicU64::new(0);
static SIGTERM_COUNT: AtomicU64 = AtomicU64::new(0);
static SIGQUIT_COUNT: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();
static INSTALL_QUIT: Once = Once::new();
static INSTALL_ERROR: AtomicI32 = AtomicI32::new(0);

/// Lets the handler wake this core. Returns the slot to release.
pub(crate) fn register_core(eventfd: i32) -> Option<usize> {
    CORE_EVENTFDS.iter().position(|slot| {
        slot.compare_exchange(-1, eventfd, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    })
}

pub(crate) fn unregister_core(slot: usize) {
    CORE_EVENTFDS[slot].store(-1, Ordering::Release);
}

extern "C" fn handler(signo: libc::c_int) {
    let counter = match signo {
        libc::SIGINT => &SIGINT_COUNT,
        libc::SIGQUIT => &SIGQUIT_COUNT,
        _ => &SIGTERM_COUNT,
    };
    counter.fetch_add(1, Ordering::SeqCst);
    let one: u64 = 1;
    for slot in &CORE_EVENTFDS {
        let fd = slot.load(Ordering::Acquire);
        if fd >= 0 {
            // SAFETY: write(2) is async-signal-safe; 8 bytes from a live u64.
            unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
        }
    }
}

fn install() -> io::Result<()> {
    INSTALL.call_once(|| {
        for signo in [libc::SIGINT, libc::SIGTERM] {
            if let Err(e) = install_handler(signo) {
                INSTALL_ERROR.store(e.raw_os_error().unwrap_or(libc::EINVAL), Ordering::Release);
            }
        }
    });
    match INSTALL_ERROR.load(Ordering::Acquire) {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

fn install_handler(signo: libc::c_int) -> io::Result<()> {
    // SAFETY: a zeroed sigaction is valid; the handler only does
    // async-signal-safe work; sigaction reads the struct we pass.
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signo, &action, std::ptr::null_mut())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes SIGQUIT print each core's task dump to stderr instead of ending
/// the process ([`Builder::dump_on_sigquit`](crate::Builder::dump_on_sigquit)).
pub(crate) fn dump_on_sigquit() -> io::Result<()> {
    let mut result = Ok(());
    INSTALL_QUIT.call_once(|| result = install_handler(libc::SIGQUIT));
    result
}

thread_local! {
    /// SIGQUITs this core thread has answered with a dump.
    static QUIT_SEEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Prints this core's dump if a SIGQUIT came since it last looked.
fn dump_if_asked() {
    let quits = SIGQUIT_COUNT.load(Ordering::Relaxed);
    if quits == QUIT_SEEN.with(|s| s.replace(quits)) {
        return;
    }
    let dump = crate::task::dump_core();
    use std::io::Write;
    // One locked write per core, so the cores' dumps do not interleave.
    let _ = write!(std::io::stderr().lock(), "uringo: SIGQUIT: {dump}");
}

fn total() -> u64 {
    SIGINT_COUNT.load(Ordering::SeqCst) + SIGTERM_COUNT.load(Ordering::SeqCst)
}

/// Wakes this core's signal waiters if a signal came since the last tick.
pub(crate) fn dispatch(core: &Core) {
    dump_if_asked();
    let now = total();
    if now != core.signal_seq.get() {
        core.signal_seq.set(now);
        for waker in core.signal_waiters.borrow_mut().drain(..) {
            waker.wake();
        }
    }
}

/// Completes at the next SIGINT (Ctrl-C) after it was created.
pub fn ctrl_c() -> Signal {
    Signal::new(&[&SIGINT_COUNT])
}

/// Completes at the next SIGINT or SIGTERM: the usual "shut down gracefully" trigger.
pub fn shutdown() -> Signal {
    Signal::new(&[&SIGINT_COUNT, &SIGTERM_COUNT])
}

/// A future of a signal; see [`ctrl_c`] and [`shutdown`]. Installing the
/// handler replaces the default action (terminate) for SIGINT and SIGTERM
/// for the rest of the process, as in tokio.
#[must_use = "futures do nothing unless awaited"]
pub struct Signal {
    counters: Vec<(&'static AtomicU64, u64)>,
    installed: io::Result<()>,
    /// Our entry in the waiter list of the core that last polled us: that
    /// core's id, its dispatch count then (a dispatch empties the list),
    /// and the waker. Replaced on each poll, removed on drop, so a future
    /// polled often or dropped early leaves no wakers (and tasks) behind.
    registered: Option<(usize, u64, Waker)>,
}

impl Signal {
    fn new(counters: &[&'static AtomicU64]) -> Signal {
        let installed = install();
        Signal {
            counters: counters
                .iter()
                .map(|c| (*c, c.load(Ordering::SeqCst)))
                .collect(),
            installed,
            registered: None,
        }
    }

    /// Removes our entry from `core`'s waiter list if it is still there.
    fn unregister(&mut self, core: &Core) {
        let Some((id, seq, waker)) = self.registered.take() else {
            return;
        };
        if id != core.id || seq != core.signal_seq.get() {
            return; // drained by a dispatch, or on another core's list
        }
        if let Ok(mut waiters) = core.signal_waiters.try_borrow_mut() {
            if let Some(i) = waiters.iter().position(|w| w.will_wake(&waker)) {
                waiters.swap_remove(i);
            }
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        crate::executor::try_with_current(|core| self.unregister(core));
    }
}

impl Future for Signal {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = std::mem::replace(&mut self.installed, Ok(())) {
            return Poll::Ready(Err(e));
        }
        if self
            .counters
            .iter()
            .any(|(c, seen)| c.load(Ordering::SeqCst) != *seen)
        {
            return Poll::Ready(Ok(()));
        }
        let this = &mut *self;
        crate::task::wait_tag::set(crate::task::WaitOn::Signal);
        with_current(|core| {
            if let Some((id, seq, waker)) = &this.registered {
                if *id == core.id && *seq == core.signal_seq.get() && waker.will_wake(cx.waker()) {
                    return; // still registered with this waker
                }
            }
            this.unregister(core);
            core.signal_waiters.borrow_mut().push(cx.waker().clone());
            this.registered = Some((core.id, core.signal_seq.get(), cx.waker().clone()));
        });
        Poll::Pending
    }
}
