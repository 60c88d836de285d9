//! Invariant 6: no task starves its siblings. A task that finds I/O ready
//! over and over is made to yield after its coop budget; a tick runs a
//! bounded number of tasks and then reaps completions and fires timers;
//! the run queue is FIFO (round robin).

mod support;

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use support::within;
use uringo::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(60);
const BUDGET: u32 = 4;

/// Spawns a sibling that counts how often it runs until `stop` is set.
fn spawn_sibling(stop: &Rc<Cell<bool>>) -> (Rc<Cell<usize>>, uringo::JoinHandle<()>) {
    let runs = Rc::new(Cell::new(0));
    let (r, s) = (runs.clone(), stop.clone());
    let handle = uringo::spawn(async move {
        while !s.get() {
            r.set(r.get() + 1);
            uringo::yield_now().await;
        }
    });
    (runs, handle)
}

/// Tracks the longest streak of ready results the measured task took
/// while its sibling did not run.
#[derive(Default)]
struct Streak {
    seen: usize,
    current: usize,
    longest: usize,
}

impl Streak {
    fn record(&mut self, sibling_runs: usize) {
        if sibling_runs != self.seen {
            self.seen = sibling_runs;
            self.current = 0;
        }
        self.current += 1;
        self.longest = self.longest.max(self.current);
    }
}

/// The longest streak of `recv()` results a task gets, with data always
/// ready, before its sibling runs.
fn recv_streak(budget: u32) -> usize {
    const TOTAL: usize = 1 << 20;
    let rt = uringo::Builder::new()
        .cores(1)
        .pin(false)
        .coop_budget(budget)
        .recv_buffers(1024, 64)
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let server = listener.accept().unwrap().0;
    let sender = std::thread::spawn(move || client.write_all(&vec![5u8; TOTAL]));
    let longest = rt.block_on(async move {
        assert!(
            uringo::features().multishot_recv || support::on_epoll(),
            "the coop budget matters where recv lends pool buffers"
        );
        let stream = TcpStream::from_std(server);
        let stop = Rc::new(Cell::new(false));
        let (runs, sibling) = spawn_sibling(&stop);
        let mut streak = Streak::default();
        let mut total = 0;
        while total < TOTAL {
            let buf = stream.recv().await.unwrap().expect("sender closed early");
            total += buf.len();
            streak.record(runs.get());
        }
        stop.set(true);
        sibling.await;
        streak.longest
    });
    sender.join().unwrap().unwrap();
    longest
}

#[test]
fn a_task_looping_on_ready_recv_data_yields_after_its_budget() {
    within(LIMIT, "recv coop", || {
        // The scenario matters: without a budget the kernel's batches of
        // ready completions let one task run far longer than the budget.
        let unbounded = recv_streak(u32::MAX);
        assert!(
            unbounded > BUDGET as usize,
            "control: only {unbounded} ready recvs in a row"
        );
        let bounded = recv_streak(BUDGET);
        assert!(
            bounded <= BUDGET as usize,
            "{bounded} ready recvs in a row with a budget of {BUDGET}"
        );
    });
}

/// The longest streak of `accept()` results a task gets from a backlog of
/// connections before its sibling runs.
fn accept_streak(budget: u32) -> usize {
    const CONNS: usize = 200;
    let rt = uringo::Builder::new()
        .cores(1)
        .pin(false)
        .coop_budget(budget)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        // The handshakes complete in the kernel: all of them wait in the backlog.
        let clients: Vec<_> = (0..CONNS)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let stop = Rc::new(Cell::new(false));
        let (runs, sibling) = spawn_sibling(&stop);
        let mut streak = Streak::default();
        for _ in 0..CONNS {
            listener.accept().await.unwrap();
            streak.record(runs.get());
        }
        stop.set(true);
        sibling.await;
        drop(clients);
        streak.longest
    })
}

#[test]
fn a_task_accepting_a_backlog_yields_after_its_budget() {
    within(LIMIT, "accept coop", || {
        let unbounded = accept_streak(u32::MAX);
        assert!(
            unbounded > BUDGET as usize,
            "control: only {unbounded} ready accepts in a row"
        );
        let bounded = accept_streak(BUDGET);
        assert!(
            bounded <= BUDGET as usize,
            "{bounded} ready accepts in a row with a budget of {BUDGET}"
        );
    });
}

#[test]
fn yielding_tasks_run_round_robin() {
    within(LIMIT, "round robin", || {
        const TASKS: usize = 10;
        const ROUNDS: usize = 1000;
        let rt = uringo::Builder::new()
            .cores(1)
            .pin(false)
            .scheduler_budget(7)
            .build()
            .unwrap();
        rt.block_on(async {
            let counts: Rc<Vec<Cell<usize>>> = Rc::new((0..TASKS).map(|_| Cell::new(0)).collect());
            let handles: Vec<_> = (0..TASKS)
                .map(|i| {
                    let counts = counts.clone();
                    uringo::spawn(async move {
                        for _ in 0..ROUNDS {
                            counts[i].set(counts[i].get() + 1);
                            let min = counts.iter().map(Cell::get).min().unwrap();
                            let max = counts.iter().map(Cell::get).max().unwrap();
                            assert!(max - min <= 1, "task {i} ran ahead: {min}..{max}");
                            uringo::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
        });
    });
}

#[test]
fn spinning_tasks_do_not_starve_io_or_timers() {
    within(LIMIT, "spinners vs io", || {
        for tick_tasks in [1, 128] {
            let rt = uringo::Builder::new()
                .cores(1)
                .pin(false)
                .scheduler_budget(tick_tasks)
                .build()
                .unwrap();
            rt.block_on(async {
                let stop = Rc::new(Cell::new(false));
                let spinners: Vec<_> = (0..4).map(|_| spawn_sibling(&stop)).collect();
                // Both need the core to leave its run queue and turn the ring.
                let (client, server) = support::tcp_pair();
                let io = uringo::spawn(async move {
                    let (res, _) = client.write_all(b"x".to_vec()).await;
                    res.unwrap();
                    let (n, _) = server.read(vec![0u8; 8]).await;
                    n.unwrap()
                });
                uringo::time::sleep(Duration::from_millis(5)).await;
                assert_eq!(io.await, 1);
                stop.set(true);
                for (runs, handle) in spinners {
                    handle.await;
                    assert!(runs.get() > 0);
                }
            });
        }
    });
}
