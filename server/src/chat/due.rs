//! Writers that got output during a core's turn, woken together once the
//! tasks ready now have run. A client's writer is not woken at its first
//! line: the tasks ahead of this core's waker task add their lines for the
//! same client first, so one send carries them all (as a writer yielding
//! once before it takes its output did, but with one poll of one task per
//! turn instead of one more poll of every writer). When nothing else is
//! ready the waker task runs at once: an idle core adds no delay.

use std::task::Waker;

use super::client::Client;
use super::msg::ClientId;

/// Past this many, the list's capacity is let go once drained (a burst).
const SPARE_IDS: usize = 1024;

/// The clients whose waiting writer has output, and the task that wakes them.
#[derive(Default)]
pub struct DueWriters {
    ids: Vec<ClientId>,
    /// The waker task (`conn::wake_due_writers`), once it runs.
    waker: Option<Waker>,
}

impl DueWriters {
    /// Client `id` (record `c`) got output: its writer is woken with the
    /// others due, or now if no waker task runs (nothing would wake it).
    /// Each wait of the writer is counted once (`Client::writer_due`), so
    /// the list holds a client at most once.
    pub fn output_for(&mut self, id: ClientId, c: &mut Client) {
        if !c.writer_due() {
            return;
        }
        let Some(waker) = &self.waker else {
            c.wake();
            return;
        };
        if self.ids.is_empty() {
            waker.wake_by_ref();
        }
        self.ids.push(id);
    }

    /// For the waker task: the clients due, remembering `waker` for the
    /// next ones. The list comes back through `give_back`.
    pub fn take(&mut self, waker: &Waker) -> Vec<ClientId> {
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            self.waker = Some(waker.clone());
        }
        std::mem::take(&mut self.ids)
    }

    /// Keeps the list `take` gave out (its capacity) unless a burst grew it.
    pub fn give_back(&mut self, mut ids: Vec<ClientId>) {
        if self.ids.is_empty() && ids.capacity() <= SPARE_IDS {
            ids.clear();
            self.ids = ids;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Count(AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    fn woken(c: &Count) -> usize {
        c.0.load(Ordering::Relaxed)
    }

    /// Before the waker task runs, a writer is woken at once (nothing
    /// else would); afterwards its wake waits for the task, which is woken
    /// once per batch, and a writer is listed once per wait.
    #[test]
    fn writers_are_woken_together_once_per_wait() {
        let mut due = DueWriters::default();
        let (writer_count, writer) = counter();
        let (task_count, task) = counter();
        let mut alice = Client::new("127.0.0.1".into(), 0);
        alice.writer_wait(&writer);
        due.output_for(1, &mut alice);
        assert_eq!((woken(&writer_count), due.ids.len()), (1, 0), "no task yet");

        assert!(due.take(&task).is_empty());
        let mut bob = Client::new("127.0.0.1".into(), 0);
        alice.writer_wait(&writer);
        bob.writer_wait(&writer);
        due.output_for(1, &mut alice);
        due.output_for(1, &mut alice);
        due.output_for(2, &mut bob);
        assert_eq!(woken(&writer_count), 1, "the writers wait for the task");
        assert_eq!(woken(&task_count), 1, "the task is woken once");
        let ids = due.take(&task);
        assert_eq!(ids, [1, 2], "each writer once");
        due.give_back(ids);
        due.output_for(1, &mut alice);
        assert_eq!(
            (due.ids.len(), woken(&task_count)),
            (0, 1),
            "alice's writer was not waiting again"
        );
    }
}
