//! `JoinSet`: a set of tasks whose outputs are taken in completion order
//! (tokio's `JoinSet`); dropping the set aborts them.
//!
//! Each task runs inside a small wrapper whose drop (the task finished,
//! panicked or was cancelled) pushes the task's key on the set's ready list
//! and wakes the set, so `join_next` polls only handles that have news
//! instead of all of them. The key can be pushed a moment before the task
//! publishes its output; that handle is then polled normally and wakes the
//! set when the output lands.

use std::any::Any;
use std::fmt;
use std::future::{poll_fn, Future};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::raw::TaskError;
use super::JoinHandle;
use crate::chan::lock::Lock;
use crate::shim::Arc;

/// A collection of tasks, awaited in the order they finish.
///
/// ```
/// use uringo::task::JoinSet;
///
/// uringo::start(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u64 {
///         set.spawn(async move { i * i });
///     }
///     let mut sum = 0;
///     while let Some(res) = set.join_next().await {
///         sum += res.unwrap();
///     }
///     assert_eq!(sum, 285);
/// });
/// ```
pub struct JoinSet<T> {
    tasks: Slab<JoinHandle<T>>,
    ready: Arc<Ready>,
    /// Keys signalled ready whose handles have not yet yielded an output.
    polling: Vec<usize>,
}

type Ready = Lock<ReadyList>;

struct ReadyList {
    keys: Vec<usize>,
    waker: Option<Waker>,
}

/// Why a task of a [`JoinSet`] produced no output.
pub struct JoinError {
    repr: TaskError,
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: Slab::new(),
            ready: Arc::new(Lock::new(ReadyList {
                keys: Vec::new(),
                waker: None,
            })),
            polling: Vec::new(),
        }
    }

    /// Tasks in the set (running or finished but not yet joined).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Spawns `future` on the current core into the set.
    ///
    /// # Panics
    /// Outside a runtime thread.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        let entry = self.tasks.vacant_entry();
        let guard = Signal {
            key: entry.key(),
            ready: self.ready.clone(),
        };
        entry.insert(crate::spawn(async move {
            let _guard = guard;
            future.await
        }));
    }

    /// Spawns the future `make` builds on `core` into the set.
    ///
    /// # Panics
    /// If `core` does not exist, or outside a runtime thread.
    #[track_caller]
    pub fn spawn_on<F, Fut>(&mut self, core: usize, make: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let entry = self.tasks.vacant_entry();
        let guard = Signal {
            key: entry.key(),
            ready: self.ready.clone(),
        };
        entry.insert(crate::spawn_on(core, move || {
            let future = make();
            async move {
                let _guard = guard;
                future.await
            }
        }));
    }

    /// Waits for the next task to finish and returns its outcome; `None`
    /// when the set is empty. Cancel safe: a dropped `join_next` loses no
    /// output.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The poll form of [`join_next`](Self::join_next).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.tasks.is_empty() {
            return Poll::Ready(None);
        }
        {
            let mut ready = self.ready.lock();
            self.polling.append(&mut ready.keys);
            if !ready
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                ready.waker = Some(cx.waker().clone());
            }
        }
        let mut i = 0;
        while i < self.polling.len() {
            let key = self.polling[i];
            // A key can be stale: its task was detached (`detach_all`) and
            // the slot reused, or it was signalled twice.
            let Some(handle) = self.tasks.get_mut(key) else {
                self.polling.swap_remove(i);
                continue;
            };
            if let Poll::Ready(outcome) = handle.poll_result(cx) {
                self.polling.swap_remove(i);
                self.tasks.remove(key);
                return Poll::Ready(Some(outcome.map_err(|repr| JoinError { repr })));
            }
            i += 1;
        }
        crate::task::wait_tag::set(crate::task::WaitOn::Join);
        Poll::Pending
    }

    /// Aborts every task; they still have to be joined (their outcome is a
    /// cancelled [`JoinError`] unless they finished first).
    pub fn abort_all(&mut self) {
        for (_, handle) in self.tasks.iter() {
            handle.request_abort();
        }
    }

    /// Aborts every task and waits until all have stopped.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Lets every task run on without the set (dropping the set no longer
    /// aborts them).
    pub fn detach_all(&mut self) {
        self.tasks.clear();
        self.polling.clear();
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

/// Tells the set a task is done when the task's future is dropped.
struct Signal {
    key: usize,
    ready: Arc<Ready>,
}

impl Drop for Signal {
    fn drop(&mut self) {
        let mut ready = self.ready.lock();
        ready.keys.push(self.key);
        let waker = ready.waker.take();
        drop(ready);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl JoinError {
    /// Whether the task was aborted.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, TaskError::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, TaskError::Panicked(_))
    }

    /// The panic payload.
    ///
    /// # Panics
    /// If the task did not panic.
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        match self.repr {
            TaskError::Panicked(p) => p,
            TaskError::Cancelled => panic!("JoinError::into_panic on a cancelled task"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            TaskError::Cancelled => f.write_str("task was cancelled"),
            TaskError::Panicked(_) => f.write_str("task panicked"),
        }
    }
}

impl std::error::Error for JoinError {}
