//! The yardstick echo client: what the cheapest possible closed-loop client costs, to hold
//! uringo-loadgen against.
//!
//! One thread, one io_uring, no runtime, no timers, no latency histogram and no check of the
//! echoed bytes beyond their count: each connection SENDs one message, RECVs until that many
//! bytes are back, and sends the next. Prints one JSON line with messages/s and its own CPU
//! time per message over the measured window (after the warmup).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use clap::Parser;
use io_uring::{opcode, squeue, types, IoUring};

#[derive(Debug, Parser)]
#[command(about = "Minimal io_uring closed-loop echo client (the loadgen yardstick)")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:7000")]
    addr: SocketAddr,
    #[arg(long, default_value_t = 128)]
    conns: usize,
    /// Message size in bytes.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Measured seconds, after the warmup.
    #[arg(long, default_value_t = 8.0)]
    duration: f64,
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
}

/// One connection: its message, what was sent of it and what came back.
struct Conn {
    stream: TcpStream,
    msg: Vec<u8>,
    back: Vec<u8>,
    sent: usize,
    received: usize,
}

const SEND: u64 = 0;
const RECV: u64 = 1;

fn user_data(conn: usize, op: u64) -> u64 {
    (conn as u64) << 1 | op
}

impl Conn {
    fn send_entry(&self, id: usize) -> squeue::Entry {
        let rest = &self.msg[self.sent..];
        opcode::Send::new(
            types::Fd(self.stream.as_raw_fd()),
            rest.as_ptr(),
            rest.len() as u32,
        )
        .build()
        .user_data(user_data(id, SEND))
    }

    fn recv_entry(&mut self, id: usize) -> squeue::Entry {
        let rest = &mut self.back[self.received..];
        opcode::Recv::new(
            types::Fd(self.stream.as_raw_fd()),
            rest.as_mut_ptr(),
            rest.len() as u32,
        )
        .build()
        .user_data(user_data(id, RECV))
    }
}

fn cpu_time() -> Duration {
    // SAFETY: rusage is plain data that getrusage fills.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Pushes `e`, submitting first when the submission queue is full.
fn push(ring: &mut IoUring, e: &squeue::Entry) -> io::Result<()> {
    // SAFETY: every entry points into a `Conn` buffer that lives (unmoved, not resized) until
    // the ring is dropped, and each buffer has at most one op in flight.
    while unsafe { ring.submission().push(e) }.is_err() {
        ring.submit()?;
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let mut conns = Vec::with_capacity(args.conns);
    for i in 0..args.conns {
        let stream = TcpStream::connect(args.addr)?;
        stream.set_nodelay(true)?;
        let msg = (0..args.size).map(|b| (b + i) as u8).collect();
        conns.push(Conn {
            stream,
            msg,
            back: vec![0; args.size],
            sent: 0,
            received: 0,
        });
    }
    let entries = (args.conns * 2).next_power_of_two().clamp(8, 4096) as u32;
    let mut ring = IoUring::new(entries)?;
    for (id, c) in conns.iter().enumerate() {
        push(&mut ring, &c.send_entry(id))?;
    }
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.duration);
    let (mut messages, mut errors) = (0u64, 0u64);
    let mut cpu_before = None;
    let mut completions = Vec::with_capacity(entries as usize * 2);
    loop {
        ring.submit_and_wait(1)?;
        let now = Instant::now();
        if now >= end {
            break;
        }
        if cpu_before.is_none() && now >= measure_from {
            cpu_before = Some(cpu_time());
        }
        completions.extend(ring.completion().map(|c| (c.user_data(), c.result())));
        for (ud, res) in completions.drain(..) {
            let (id, op) = ((ud >> 1) as usize, ud & 1);
            let c = &mut conns[id];
            if res <= 0 {
                errors += 1;
                continue; // connection finished; it sends no more
            }
            let next = if op == SEND {
                c.sent += res as usize;
                if c.sent < c.msg.len() {
                    c.send_entry(id)
                } else {
                    c.recv_entry(id)
                }
            } else {
                c.received += res as usize;
                if c.received < c.back.len() {
                    c.recv_entry(id)
                } else {
                    if cpu_before.is_some() {
                        messages += 1;
                    }
                    (c.sent, c.received) = (0, 0);
                    c.send_entry(id)
                }
            };
            push(&mut ring, &next)?;
        }
    }
    let cpu = cpu_time().saturating_sub(cpu_before.unwrap_or_default());
    let secs = args.duration.max(1e-9);
    println!(
        "{{\"messages\": {messages}, \"msgs_per_s\": {:.1}, \"cpu_us_per_msg\": {:.4}, \"errors\": {errors}}}",
        messages as f64 / secs,
        cpu.as_secs_f64() * 1e6 / messages.max(1) as f64
    );
    // In-flight ops still point into `conns`: exit without unwinding them (the kernel tears the
    // ring down with the process).
    std::process::exit(0)
}
