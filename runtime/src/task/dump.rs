//! Task dumps, as Go prints its goroutines on SIGQUIT: every live task of
//! every core with its id, spawn location, state (running, queued, or
//! parked and on what), age and poll count.
//!
//! Taking a dump reads each core's task registry on that core's own thread
//! (the registry is not shared), so [`dump`] visits the other cores with a
//! short task each; [`dump_core`] reads the calling core at once.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use super::meta::now_ms;
use super::raw::Header;
use super::wait_tag::WaitOn;

/// A snapshot of every core's tasks; `Display` prints it as Go prints
/// goroutines.
#[derive(Debug, Clone)]
pub struct Dump {
    /// One entry per core, in core order.
    pub cores: Vec<CoreDump>,
}

/// The live tasks of one core.
#[derive(Debug, Clone)]
pub struct CoreDump {
    /// The core's id.
    pub core: usize,
    /// Its live tasks, by id.
    pub tasks: Vec<TaskInfo>,
}

/// One live task.
#[derive(Debug, Clone)]
pub struct TaskInfo {
    /// The task's id on its core (its registry slot; reused after it ends).
    pub id: usize,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// Running, queued or parked.
    pub state: TaskState,
    /// Time since it was spawned (a few ms of resolution).
    pub age: Duration,
    /// How often it has been polled (saturating at `u32::MAX`).
    pub polls: u32,
}

/// What a task is doing at the time of the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Being polled (the task that took the dump).
    Running,
    /// Woken, waiting in its core's run queue.
    Queued,
    /// Waiting to be woken, on what the tag says.
    Parked(WaitOn),
}

/// Dumps every core's tasks. The small tasks that read the other cores are
/// left out of the dump.
///
/// ```
/// uringo::start(async {
///     let (_tx, rx) = uringo::chan::<u32>(0);
///     let parked = uringo::spawn(async move { rx.recv().await });
///     uringo::yield_now().await;
///     let dump = uringo::dump().await;
///     println!("{dump}");
///     let core = &dump.cores[uringo::core_id()];
///     assert!(core.tasks.iter().any(|t| t.state
///         == uringo::task::TaskState::Parked(uringo::task::WaitOn::ChanRecv)));
///     parked.abort();
/// });
/// ```
///
/// # Panics
/// Outside a runtime thread.
pub async fn dump() -> Dump {
    let here = crate::core_id();
    let mut handles = Vec::new();
    for core in (0..crate::cores()).filter(|&c| c != here) {
        handles.push(crate::spawn_on(core, || async { dump_core() }));
    }
    let mut cores = vec![dump_core()];
    for h in handles {
        cores.push(h.await);
    }
    cores.sort_by_key(|c| c.core);
    Dump { cores }
}

/// Dumps the calling core's tasks; the calling task shows as running.
///
/// # Panics
/// Outside a runtime thread.
pub fn dump_core() -> CoreDump {
    let now = now_ms();
    let running = super::meta::current();
    crate::executor::with_current(|core| {
        let registry = core.registry.borrow();
        let mut tasks: Vec<TaskInfo> = registry
            .iter()
            .map(|(id, task)| info(id, task.header(), now, running))
            .filter(|t| !(t.state == TaskState::Running && is_dump_task(t)))
            .collect();
        tasks.sort_by_key(|t| t.id);
        CoreDump {
            core: core.id,
            tasks,
        }
    })
}

/// The reader tasks [`dump`] spawns on the other cores.
fn is_dump_task(t: &TaskInfo) -> bool {
    t.location.file() == file!()
}

fn info(id: usize, h: &Header, now: u32, running: *const Header) -> TaskInfo {
    let state = if std::ptr::eq(h, running) {
        TaskState::Running
    } else if h.scheduled.get() {
        TaskState::Queued
    } else {
        TaskState::Parked(WaitOn::from_u8(h.wait.get()))
    };
    TaskInfo {
        id,
        location: h.location,
        state,
        age: Duration::from_millis(u64::from(now.wrapping_sub(h.born_ms.get()))),
        polls: h.polls.get(),
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for core in &self.cores {
            write!(f, "{core}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CoreDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "core {}: live tasks: {}", self.core, self.tasks.len())?;
        for t in &self.tasks {
            writeln!(f, "{t}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            TaskState::Running => "running".to_string(),
            TaskState::Queued => "runnable".to_string(),
            TaskState::Parked(on) => on.name().to_string(),
        };
        writeln!(
            f,
            "task {} [{state}, {} ms, {} polls]:",
            self.id,
            self.age.as_millis(),
            self.polls
        )?;
        write!(f, "\tspawned at {}", self.location)
    }
}
