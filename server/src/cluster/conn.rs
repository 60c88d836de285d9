//! One TCP connection to Redis, on the current core.
//!
//! A writer task takes queued commands and sends everything queued at that
//! moment in one `write_all` (pipelining without asking the caller to
//! batch); a reader task decodes frames from the multishot `recv` stream.
//! On a command connection each reply completes the oldest waiting call
//! (Redis answers in order); on a pub/sub connection every frame is pushed
//! to a channel. When either side fails, the connection is *lost*: waiting
//! calls get [`ClusterError::Unavailable`] and `lost` is signalled once so
//! the supervisor reconnects.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::types::BytesFrame;
use uringo::chan::{Receiver, Sender};
use uringo::net::TcpStream;
use uringo::JoinHandle;

use super::error::ClusterError;
use super::resp::{next_frame, Reply};

/// Most bytes the writer gathers into one send.
const BATCH: usize = 64 * 1024;
/// Commands queued to the writer before `call` waits for room.
const QUEUE: usize = 1024;

/// Where decoded frames go.
pub enum Sink {
    /// Request/response: each reply completes the oldest call.
    Replies,
    /// Pub/sub: every frame is sent here (the reader waits when it is full,
    /// which pushes back on Redis rather than buffering without bound).
    Pushes(Sender<Reply>),
}

type Waiting = Rc<RefCell<VecDeque<Option<Sender<Reply>>>>>;

/// A live connection; dropping it closes the socket.
pub struct Conn {
    stream: Rc<TcpStream>,
    queue: Sender<(Bytes, Option<Sender<Reply>>)>,
    lost: Rc<Cell<bool>>,
    tasks: [Option<JoinHandle<()>>; 2],
}

impl Conn {
    /// Connects and starts the reader and writer; `on_lost` gets one value
    /// when the connection fails.
    pub async fn open(addr: SocketAddr, sink: Sink, on_lost: Sender<()>) -> io::Result<Conn> {
        let stream = Rc::new(TcpStream::connect(addr).await?);
        stream.set_nodelay(true)?;
        let (queue, queued) = uringo::chan(QUEUE);
        let waiting = Waiting::default();
        let lost = Rc::new(Cell::new(false));
        let writer = uringo::spawn(write_loop(stream.clone(), queued, waiting.clone()));
        let reader = uringo::spawn(read_loop(
            stream.clone(),
            sink,
            waiting,
            lost.clone(),
            on_lost,
        ));
        Ok(Conn {
            stream,
            queue,
            lost,
            tasks: [Some(writer), Some(reader)],
        })
    }

    /// Whether the connection has failed.
    pub fn is_lost(&self) -> bool {
        self.lost.get()
    }

    /// Sends one encoded command and waits for its reply. An error reply
    /// is returned as [`ClusterError::Redis`].
    pub async fn call(&self, command: Bytes) -> Result<Reply, ClusterError> {
        let (tx, rx) = uringo::chan(1);
        self.enqueue(command, Some(tx)).await?;
        match rx.recv().await {
            Some(BytesFrame::Error(e)) => Err(ClusterError::Redis(e.to_string())),
            Some(reply) => Ok(reply),
            None => Err(ClusterError::Unavailable),
        }
    }

    /// Sends one encoded command; its reply (if any) is discarded.
    pub async fn send(&self, command: Bytes) -> Result<(), ClusterError> {
        self.enqueue(command, None).await
    }

    async fn enqueue(
        &self,
        command: Bytes,
        reply: Option<Sender<Reply>>,
    ) -> Result<(), ClusterError> {
        if self.lost.get() {
            return Err(ClusterError::Unavailable);
        }
        self.queue
            .send((command, reply))
            .await
            .map_err(|_| ClusterError::Unavailable)
    }

    /// Breaks the connection (a call timed out): the reader sees the
    /// shutdown, fails waiting calls and signals `lost`.
    pub fn abandon(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.lost.set(true);
        self.queue.close();
        for task in self.tasks.iter_mut().filter_map(Option::take) {
            task.abort();
        }
    }
}

async fn write_loop(
    stream: Rc<TcpStream>,
    queued: Receiver<(Bytes, Option<Sender<Reply>>)>,
    waiting: Waiting,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = queued.recv().await {
        let mut next = Some(first);
        while let Some((command, reply)) = next.take() {
            // Registered before the bytes leave, so a reply always finds its call.
            waiting.borrow_mut().push_back(reply);
            batch.extend_from_slice(&command);
            if batch.len() < BATCH {
                next = queued.try_recv().ok();
            }
        }
        let (result, returned) = stream.write_all(batch).await;
        batch = returned;
        batch.clear();
        if let Err(e) = result {
            tracing::debug!("redis write failed: {e}");
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

async fn read_loop(
    stream: Rc<TcpStream>,
    sink: Sink,
    waiting: Waiting,
    lost: Rc<Cell<bool>>,
    on_lost: Sender<()>,
) {
    let why = read_frames(&stream, &sink, &waiting).await;
    tracing::debug!("redis connection lost: {why}");
    lost.set(true);
    // Dropping the reply senders fails every waiting call.
    waiting.borrow_mut().clear();
    let _ = on_lost.try_send(());
}

async fn read_frames(stream: &TcpStream, sink: &Sink, waiting: &Waiting) -> String {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    loop {
        match stream.recv().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            Ok(None) => return "closed by redis".into(),
            Err(e) => return e.to_string(),
        }
        loop {
            let frame = match next_frame(&mut buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => return e,
            };
            match sink {
                Sink::Replies => {
                    let Some(call) = waiting.borrow_mut().pop_front() else {
                        return "a reply nobody asked for".into();
                    };
                    if let Some(call) = call {
                        let _ = call.try_send(frame);
                    }
                }
                Sink::Pushes(to) => {
                    if to.send(frame).await.is_err() {
                        return "pub/sub consumer gone".into();
                    }
                }
            }
        }
    }
}
