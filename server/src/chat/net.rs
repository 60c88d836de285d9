//! Runs the chat server on the uringo runtime: per core, one `Node` (its
//! shard and sockets), a SO_REUSEPORT listener, a task draining the core's
//! inbox, an idle sweeper and one task per connection.
//!
//! Shutdown (SIGINT/SIGTERM): core 0 tells every core; each says goodbye
//! (ERROR) to its clients, stops accepting, waits up to `SHUTDOWN_FLUSH`
//! for the writers to flush and close, shuts down the sockets still open,
//! and returns; then the runtime is dropped normally, draining its rings.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use uringo::chan::{Receiver, Sender};
use uringo::net::TcpListener;

use super::cli::ChatArgs;
use super::clock::now_secs;
use super::config::Config;
use super::counters::Counters;
use super::mailbox::{self, Batch, Outbox};
use super::msg::Msg;
use super::node::Node;
use super::shard::Shard;
use crate::cluster::{parse_redis_url, Cluster, ClusterConfig, Event};
use crate::scaffold::announce::Startup;
use crate::scaffold::bind::Reservation;
use crate::scaffold::pacer::{AcceptPacer, Accepted};

/// How long a quitting client's writer may take to flush before its socket
/// is shut down under it (a peer that stopped reading).
const CLOSE_GRACE: Duration = Duration::from_secs(10);
/// On shutdown, how long writers get to flush the goodbye and close.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(2);

/// Runs the chat server until SIGINT/SIGTERM.
pub fn run(mut args: ChatArgs) -> io::Result<()> {
    let cores = args
        .cores
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let motd = match &args.motd {
        Some(p) => Some(
            std::fs::read_to_string(p)?
                .lines()
                .map(str::to_string)
                .collect(),
        ),
        None => None,
    };
    let reservation = Reservation::new(args.listen)
        .map_err(|e| io::Error::new(e.kind(), format!("binding {}: {e}", args.listen)))?;
    let startup = Arc::new(Startup::new("chat", cores, reservation));
    args.listen = startup.addr();
    let cfg = Arc::new(Config {
        motd,
        password: args.password.clone(),
        opers: args.opers.clone(),
        sendq: args.sendq,
        created: format!("at unix time {}", now_secs()),
        ..Config::new(&args.name, cores)
    });
    let cluster = cluster_config(&args)?;
    let counters = Arc::new(Counters::default());
    let (senders, receivers) = mailbox::inboxes(cores);
    let mut builder = uringo::Builder::new().cores(cores);
    if let Some(backend) = args.backend {
        builder = builder.backend(backend);
    }
    let rt = builder.build()?;
    let metrics = args.metrics.map(|_| crate::metrics::Metrics::chat(cores));
    let results = rt.run_on_all_cores(move |core| {
        if let Some(m) = &metrics {
            m.install_chat(core);
        }
        let metrics = metrics.clone();
        let mut shard = Shard::new(core, cfg.clone(), counters.clone());
        if cluster.is_some() {
            shard.set_clustered();
        }
        let inbox = receivers[core].clone();
        core_main(
            core,
            args.clone(),
            shard,
            senders.clone(),
            inbox,
            startup.clone(),
            metrics,
        )
    });
    drop(rt);
    let result: io::Result<()> = results.into_iter().collect();
    if result.is_ok() {
        tracing::info!("chat: shut down cleanly");
    }
    result
}

async fn core_main(
    core: usize,
    args: ChatArgs,
    shard: Shard,
    senders: Vec<Sender<Batch>>,
    inbox: Receiver<Batch>,
    startup: Arc<Startup>,
    metrics: Option<crate::metrics::Metrics>,
) -> io::Result<()> {
    let listener = match TcpListener::bind_reuseport(args.listen) {
        Ok(l) => l,
        Err(e) => {
            // The other cores would serve on without this one: stop them all.
            for s in &senders {
                let _ = s.try_send(vec![Msg::Shutdown]);
            }
            let msg = format!("core {core}: binding {}: {e}", args.listen);
            return Err(io::Error::new(e.kind(), msg));
        }
    };
    let cores = senders.len();
    let node = Rc::new(Node::new(shard, args, Outbox::start(senders), cores));
    // Checked in `run` already.
    if let Some(cfg) = cluster_config(node.args())? {
        let (cluster, events) = Cluster::start(cfg);
        if let Some(m) = &metrics {
            m.add_cluster(cluster.counters());
        }
        // Serve once Redis answered (or refused): claims made before would fail.
        match events.recv().await {
            Some(Event::Up) | None => {}
            Some(e) => tracing::warn!(core, "cluster: starting without Redis: {e:?}"),
        }
        node.set_bridge(super::bridge::start(node.clone(), cluster, events));
    }
    uringo::spawn(inbox_loop(node.clone(), inbox));
    uringo::spawn(super::conn::wake_due_writers(node.clone()));
    uringo::spawn(sweeper(node.clone()));
    if let (Some(metrics), Some(at), 0) = (metrics, node.args().metrics, core) {
        let stop = node.stopped().clone();
        crate::metrics::serve(at, metrics, async move {
            let _ = stop.recv().await;
        })?;
    }
    if core == 0 {
        uringo::spawn(watch_signals(node.clone()));
        // Let the watcher start waiting before the server announces itself.
        uringo::yield_now().await;
    }
    startup.core_bound();
    accept_loop(&node, &listener).await;
    drop(listener);
    if uringo::time::timeout(SHUTDOWN_FLUSH, node.drained())
        .await
        .is_err()
    {
        tracing::warn!(
            core,
            "clients still flushing after {SHUTDOWN_FLUSH:?}; closing them"
        );
        node.shut_down(None);
        let _ = uringo::time::timeout(SHUTDOWN_FLUSH, node.drained()).await;
    }
    Ok(())
}

/// `--cluster URL --node NAME`, checked before anything starts.
fn cluster_config(args: &ChatArgs) -> io::Result<Option<ClusterConfig>> {
    let (Some(url), Some(node)) = (&args.cluster, &args.node) else {
        return Ok(None);
    };
    let bad = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
    let mut cfg = ClusterConfig::new(parse_redis_url(url).map_err(bad)?, node).map_err(bad)?;
    cfg.lease = Duration::from_millis(args.cluster_lease_ms);
    Ok(Some(cfg))
}

async fn watch_signals(node: Rc<Node>) {
    match uringo::signal::shutdown().await {
        Ok(()) => tracing::info!("chat: signal received, saying goodbye to every client"),
        Err(e) => tracing::error!("chat: waiting for signals failed ({e}); shutting down"),
    }
    node.with(|s| s.shutdown_all());
}

async fn accept_loop(node: &Rc<Node>, listener: &TcpListener) {
    let stop = node.stopped();
    let mut pacer = AcceptPacer::default();
    while let Some(result) = unless_stopped(stop, listener.accept()).await {
        match pacer.on_result(result, Instant::now()) {
            Accepted::Conn((stream, peer)) => {
                uringo::spawn(super::conn::serve(node.clone(), stream, peer));
            }
            Accepted::Pause(pause) => {
                if unless_stopped(stop, uringo::time::sleep(pause))
                    .await
                    .is_none()
                {
                    return;
                }
            }
            Accepted::Skip => {}
        }
    }
}

/// Runs `fut` unless `stop` is closed first (then `fut` is dropped,
/// cancelling its I/O). `fut` is polled first, so a ready result wins.
async fn unless_stopped<F: Future>(stop: &Receiver<()>, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut stopped = pin!(stop.recv());
    poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        match stopped.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Hands the core's inbox to the shard.
async fn inbox_loop(node: Rc<Node>, inbox: Receiver<Batch>) {
    let mut batches = Vec::new();
    while mailbox::recv(&inbox, &mut batches).await {
        node.with(|s| {
            for msg in batches.drain(..).flatten() {
                s.handle(msg);
            }
        });
    }
}

async fn sweeper(node: Rc<Node>) {
    let interval = Duration::from_secs(node.args().ping_interval.max(1));
    let every = (interval / 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
    loop {
        uringo::time::sleep(every).await;
        let stuck = node.with(|s| s.sweep(Instant::now(), interval, CLOSE_GRACE));
        node.shut_down(Some(&stuck));
    }
}
