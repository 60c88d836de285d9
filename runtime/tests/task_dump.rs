//! Task dumps: every live task with its spawn location, state (parked on
//! what, queued, running), age and poll count, on every core; and the
//! SIGQUIT dump, which prints to stderr and keeps the process running.

use std::time::Duration;

mod support;

use support::{runtime, within};
use uringo::context::Context;
use uringo::sync::{Mutex, WaitGroup};
use uringo::task::{dump, TaskInfo, TaskState, WaitOn};
use uringo::{chan, spawn, spawn_on, yield_now};

fn at_line(tasks: &[TaskInfo], line: u32) -> &TaskInfo {
    tasks
        .iter()
        .find(|t| t.location.file().ends_with("task_dump.rs") && t.location.line() == line)
        .unwrap_or_else(|| panic!("no task spawned at line {line} in {tasks:#?}"))
}

/// `spawn`, also returning the line it was called from (the location the
/// dump must report, as `spawn` is `#[track_caller]` too).
#[track_caller]
fn spawn_at<F: std::future::Future + 'static>(f: F) -> (u32, uringo::JoinHandle<F::Output>) {
    (std::panic::Location::caller().line(), spawn(f))
}

#[track_caller]
fn spawn_on_at<F, Fut>(core: usize, make: F) -> (u32, uringo::JoinHandle<Fut::Output>)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future + 'static,
    Fut::Output: Send + 'static,
{
    (std::panic::Location::caller().line(), spawn_on(core, make))
}

#[test]
fn a_dump_lists_parked_tasks_with_what_they_wait_on() {
    within(Duration::from_secs(20), "dump", || {
        runtime(2).block_on(async {
            let (_tx, rx) = chan::<u32>(0);
            let m = std::rc::Rc::new(Mutex::new(()));
            let held = m.lock().await;
            let wg = WaitGroup::new();
            wg.add(1);
            let (ctx, cancel) = Context::background().with_cancel();

            let (l_chan, h_chan) = spawn_at(async move { rx.recv().await });
            let m2 = m.clone();
            let (l_mutex, h_mutex) = spawn_at(async move { drop(m2.lock().await) });
            let (l_timer, h_timer) = spawn_at(uringo::time::sleep(Duration::from_secs(60)));
            let wg2 = wg.clone();
            let (l_wg, h_wg) = spawn_on_at(1, move || async move { wg2.wait().await });
            let c2 = ctx.clone();
            let (l_ctx, h_ctx) = spawn_on_at(1, move || async move { c2.done().await });
            for _ in 0..4 {
                yield_now().await;
            }
            spawn_on(1, || async {}).await; // core 1 has polled its tasks
            let (a, _b) = support::tcp_pair();
            let (l_read, h_read) = spawn_at(async move { a.read(vec![0u8; 16]).await.0.is_ok() });
            let listener = uringo::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let (l_accept, h_accept) = spawn_at(async move { listener.accept().await.is_ok() });
            for _ in 0..4 {
                yield_now().await;
            }
            let (l_queued, h_queued) = spawn_at(async {});

            let d = dump().await;
            assert_eq!(d.cores.len(), 2);
            let (c0, c1) = (&d.cores[0].tasks, &d.cores[1].tasks);
            assert_eq!(
                at_line(c0, l_chan).state,
                TaskState::Parked(WaitOn::ChanRecv)
            );
            assert_eq!(at_line(c0, l_mutex).state, TaskState::Parked(WaitOn::Mutex));
            assert_eq!(at_line(c0, l_timer).state, TaskState::Parked(WaitOn::Timer));
            assert_eq!(
                at_line(c1, l_wg).state,
                TaskState::Parked(WaitOn::WaitGroup)
            );
            assert_eq!(at_line(c1, l_ctx).state, TaskState::Parked(WaitOn::Context));
            assert_eq!(at_line(c0, l_read).state, TaskState::Parked(WaitOn::IoRecv));
            assert_eq!(
                at_line(c0, l_accept).state,
                TaskState::Parked(WaitOn::IoAccept)
            );
            let queued = at_line(c0, l_queued);
            assert_eq!((queued.state, queued.polls), (TaskState::Queued, 0));
            assert!(at_line(c0, l_chan).polls >= 1);
            // The readers dump() ran on core 1 are not listed.
            assert_eq!(c1.len(), 2, "{c1:#?}");
            let text = d.to_string();
            assert!(
                text.contains("[chan receive,") && text.contains("task_dump.rs"),
                "{text}"
            );

            drop(held);
            wg.done();
            cancel.cancel();
            h_mutex.await;
            h_wg.await;
            h_ctx.await;
            h_queued.await;
            h_read.abort();
            h_accept.abort();
            h_chan.abort();
            h_timer.abort();
        })
    });
}

#[test]
fn the_dumping_task_shows_as_running_and_ages_grow() {
    runtime(1).block_on(async {
        let (line, me) = spawn_at(async {
            uringo::time::sleep(Duration::from_millis(20)).await;
            uringo::task::dump_core()
        });
        let d = me.await;
        let t = at_line(&d.tasks, line);
        assert_eq!(t.state, TaskState::Running);
        assert!(t.age >= Duration::from_millis(10), "{t:?}");
        assert_eq!(t.polls, 2);
    });
}

/// Run by [`sigquit_prints_a_dump_and_the_process_goes_on`] in a child
/// process, whose stderr it reads.
#[test]
#[ignore = "a child process of sigquit_prints_a_dump_and_the_process_goes_on"]
fn sigquit_child() {
    let rt = uringo::Builder::new()
        .cores(2)
        .pin(false)
        .dump_on_sigquit(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let (_tx, rx) = chan::<u32>(0);
        let parked = spawn(async move { rx.recv().await });
        yield_now().await;
        // SAFETY: raise(3) with a signal whose handler the runtime installed.
        assert_eq!(unsafe { libc::raise(libc::SIGQUIT) }, 0);
        yield_now().await; // this core dumps in its next tick
                           // Two round trips: core 1's tick that ran the first has dumped.
        spawn_on(1, || async {}).await;
        spawn_on(1, || async {}).await;
        parked.abort();
    });
    println!("child still running after SIGQUIT");
}

#[test]
fn sigquit_prints_a_dump_and_the_process_goes_on() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "sigquit_child", "--nocapture"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains("child still running after SIGQUIT"),
        "{stdout}"
    );
    assert!(
        stderr.contains("uringo: SIGQUIT: core 0: live tasks: 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("uringo: SIGQUIT: core 1: live tasks: 0"),
        "{stderr}"
    );
    assert!(stderr.contains("[chan receive,"), "{stderr}");
}
