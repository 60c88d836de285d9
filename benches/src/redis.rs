//! A real `redis-server` for the cluster benchmark: started on a free loopback port with
//! persistence off, ready once it answers PING, emptied between measurements so that no run
//! inherits another's nick claims, and stopped with SIGTERM at the end.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::server::{free_local_addr, terminate};

/// A running redis-server; dropping it kills the process if `stop` was not called.
#[derive(Debug)]
pub struct Redis {
    pub addr: SocketAddr,
    child: Child,
}

impl Redis {
    /// Starts `exe` (e.g. `redis-server`) on a free port, its log in `log`.
    pub fn start(exe: &str, log: &Path) -> io::Result<Redis> {
        let addr = free_local_addr()?;
        let out = File::create(log)?;
        let port = addr.port().to_string();
        let child = Command::new(exe)
            .args(["--port", &port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot run {exe}: {e} (apt-get install redis-server)"),
                )
            })?;
        let mut redis = Redis { addr, child };
        redis.wait_ready(Duration::from_secs(10))?;
        Ok(redis)
    }

    fn wait_ready(&mut self, limit: Duration) -> io::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "redis-server exited at startup: {status}"
                )));
            }
            match self.command(&["PING"]) {
                Ok(reply) if reply == "+PONG" => return Ok(()),
                _ if Instant::now() > deadline => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("redis-server did not answer PING within {limit:?}"),
                    ))
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The cluster URL the nodes take (`--cluster`).
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Deletes every key (nick claims and leases of the previous measurement).
    pub fn flush_all(&self) -> io::Result<()> {
        match self.command(&["FLUSHALL"])?.as_str() {
            "+OK" => Ok(()),
            other => Err(io::Error::other(format!("FLUSHALL answered {other:?}"))),
        }
    }

    /// Sends one command on a fresh connection; the first line of the reply.
    fn command(&self, words: &[&str]) -> io::Result<String> {
        let mut conn = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1))?;
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        conn.write_all(&resp_command(words))?;
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n") {
            if conn.read(&mut byte)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            reply.push(byte[0]);
        }
        reply.truncate(reply.len() - 2);
        Ok(String::from_utf8_lossy(&reply).into_owned())
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub fn stop(mut self, grace: Duration) -> io::Result<ExitStatus> {
        terminate(&mut self.child, grace)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `words` as a RESP array of bulk strings.
fn resp_command(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for w in words {
        out.extend_from_slice(format!("${}\r\n{w}\r\n", w.len()).as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_resp_arrays() {
        assert_eq!(resp_command(&["PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            resp_command(&["SET", "k", "vv"]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n"
        );
    }

    #[test]
    fn a_missing_binary_is_a_clear_error() {
        let log = std::env::temp_dir().join("uringo-benches-redis-missing.log");
        let err = Redis::start("/nonexistent/redis-server", &log).unwrap_err();
        assert!(
            err.to_string().contains("apt-get install redis-server"),
            "{err}"
        );
    }
}
