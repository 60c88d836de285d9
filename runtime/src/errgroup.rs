//! Go's `errgroup`: run a group of fallible tasks, wait for all of them,
//! get the first error; the first error cancels the group's [`Context`] so
//! the other tasks can stop early.
//!
//! ```
//! use uringo::errgroup::Group;
//!
//! uringo::start(async {
//!     let mut group = Group::new();
//!     for i in 0..4u32 {
//!         let ctx = group.context();
//!         group.spawn(async move {
//!             if i == 2 {
//!                 return Err(format!("shard {i} failed"));
//!             }
//!             ctx.done().await; // the others stop once one fails
//!             Ok(())
//!         });
//!     }
//!     assert_eq!(group.wait().await, Err("shard 2 failed".to_string()));
//! });
//! ```
//!
//! Differences from Go, by design: a panicking task's panic resumes in
//! `wait` (after the other tasks finished), as awaiting its `JoinHandle`
//! would; [`Group::set_limit`] makes tasks over the limit wait inside the
//! group (Go's `Go` blocks the caller instead, which would need an async
//! `spawn`).

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::context::{CancelFunc, Context};
use crate::sync::Semaphore;
use crate::task::JoinSet;

/// The first error, shared by the group's tasks.
type FirstErr<E> = Arc<Mutex<Option<E>>>;

/// A group of tasks with a shared cancellation context; see the module docs.
pub struct Group<E> {
    ctx: Context,
    cancel: CancelFunc,
    first_err: FirstErr<E>,
    limit: Option<Arc<Semaphore>>,
    tasks: JoinSet<()>,
}

impl<E: Send + 'static> Group<E> {
    /// A group whose context derives from the background context.
    pub fn new() -> Group<E> {
        Group::with_context(&Context::background())
    }

    /// A group whose context derives from `parent` (cancelling `parent`
    /// cancels the group's context, as Go's `WithContext`).
    pub fn with_context(parent: &Context) -> Group<E> {
        let (ctx, cancel) = parent.with_cancel();
        Group {
            ctx,
            cancel,
            first_err: Arc::new(Mutex::new(None)),
            limit: None,
            tasks: JoinSet::new(),
        }
    }

    /// The group's context: done once a task fails or `wait` returns.
    pub fn context(&self) -> Context {
        self.ctx.clone()
    }

    /// Runs at most `n` of the group's tasks at once; the others wait for a
    /// slot inside the group. Applies to tasks spawned after the call.
    ///
    /// # Panics
    /// If `n` is zero.
    pub fn set_limit(&mut self, n: usize) {
        assert!(n > 0, "errgroup: a limit of zero would never run a task");
        self.limit = Some(Arc::new(Semaphore::new(n)));
    }

    /// Starts `task` on the current core (Go's `g.Go(f)`).
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F)
    where
        F: Future<Output = Result<(), E>> + 'static,
    {
        let (first_err, cancel, limit) = self.parts();
        self.tasks
            .spawn(async move { run(task, limit, first_err, cancel).await });
    }

    /// Starts the task `make` builds on `core`.
    #[track_caller]
    pub fn spawn_on<F, Fut>(&mut self, core: usize, make: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
    {
        let (first_err, cancel, limit) = self.parts();
        self.tasks
            .spawn_on(core, move || run(make(), limit, first_err, cancel));
    }

    fn parts(&self) -> (FirstErr<E>, CancelFunc, Option<Arc<Semaphore>>) {
        (
            self.first_err.clone(),
            self.cancel.clone(),
            self.limit.clone(),
        )
    }

    /// Waits for every task, cancels the context and returns the first
    /// error, if any (Go's `g.Wait()`).
    pub async fn wait(mut self) -> Result<(), E> {
        let mut panic = None;
        while let Some(outcome) = self.tasks.join_next().await {
            if let Err(e) = outcome {
                if e.is_panic() && panic.is_none() {
                    self.cancel.cancel();
                    panic = Some(e.into_panic());
                }
            }
        }
        self.cancel.cancel();
        if let Some(p) = panic {
            std::panic::resume_unwind(p);
        }
        match self
            .first_err
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

async fn run<E>(
    task: impl Future<Output = Result<(), E>>,
    limit: Option<Arc<Semaphore>>,
    first_err: FirstErr<E>,
    cancel: CancelFunc,
) {
    let _slot = match &limit {
        Some(sem) => Some(
            sem.acquire()
                .await
                .expect("the group never closes its limit"),
        ),
        None => None,
    };
    if let Err(e) = task.await {
        let mut slot = first_err.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
            cancel.cancel();
        }
    }
}

impl<E: Send + 'static> Default for Group<E> {
    fn default() -> Self {
        Group::new()
    }
}

impl<E> std::fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("tasks", &self.tasks.len())
            .finish()
    }
}
