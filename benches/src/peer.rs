//! What the peer echo servers share, so that they differ only in their
//! runtime's echo loop: the command line, the line announcing the bound
//! address (which the harnesses wait for), and a clean exit on SIGTERM/SIGINT.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

/// Command line of every peer echo server.
#[derive(Debug, clap::Parser)]
pub struct PeerArgs {
    /// Address to listen on; port 0 picks a free port. The bound address is printed on stdout.
    #[arg(long, default_value = "127.0.0.1:7000")]
    pub listen: SocketAddr,
    /// Size in bytes of each connection's read buffer.
    #[arg(long, default_value_t = DEFAULT_BUF)]
    pub buf: usize,
    /// CPU to pin the executor to (glommio only; default: the first CPU this process may use).
    #[arg(long)]
    pub cpu: Option<usize>,
}

/// A page: what echo examples of all three peers allocate per connection, give or take.
pub const DEFAULT_BUF: usize = 4096;

/// How long a peer waits before accepting again after an accept error (EMFILE and the like),
/// so that fd exhaustion does not turn the accept loop into a busy loop.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Prints `<name> listening on <addr>` on stdout and flushes it (stdout is a pipe under the
/// harness, so it would otherwise sit in the buffer).
pub fn announce(name: &str, addr: SocketAddr) {
    let mut out = io::stdout().lock();
    // A closed stdout only loses the announcement; the server itself keeps serving.
    let _ = writeln!(out, "{name} listening on {addr}");
    let _ = out.flush();
}

/// Makes SIGTERM and SIGINT end the process with exit status 0.
///
/// Blocks both signals in the calling thread and starts a thread that waits for them with
/// `sigwait`. Call it first thing in `main`, before the runtime starts threads of its own:
/// they inherit the mask, so the signal can only be taken by the waiting thread.
pub fn exit_on_termination() -> io::Result<()> {
    let set = termination_signals();
    // SAFETY: `set` is an initialised sigset_t; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    std::thread::Builder::new()
        .name("sigwait".into())
        .spawn(move || loop {
            let mut sig = 0;
            // SAFETY: `set` is initialised and `sig` is a valid out-pointer.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                eprintln!("signal {sig}: exiting");
                std::process::exit(0);
            }
        })?;
    Ok(())
}

fn termination_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before any read.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` points to a sigset_t we own; SIGINT and SIGTERM are valid signals.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
    }
    set
}

/// The first CPU in this thread's affinity mask (CPU 1 under `taskset -c 1`).
pub fn first_allowed_cpu() -> io::Result<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the size passed is that of `set`, which is a valid out-pointer.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE and `set` is initialised.
        .find(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .ok_or_else(|| io::Error::other("empty CPU affinity mask"))
}
