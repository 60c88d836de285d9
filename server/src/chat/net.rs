//! Runs the chat server on the uringo runtime: per core, one `Shard`, a
//! SO_REUSEPORT listener, a task draining the core's inbox, an idle sweeper
//! and one task per connection. Shard calls never await, so the shard is a
//! plain `RefCell` borrowed for the length of one call.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uringo::net::{TcpListener, TcpStream};

use super::cli::ChatArgs;
use super::mailbox::{self, Batch, Outbox};
use super::msg::{ClientId, Msg};
use super::shard::{now_secs, Config, Counters, Shard};

/// How long a quitting client's writer may take to flush before its socket
/// is shut down under it (a peer that stopped reading).
const CLOSE_GRACE: Duration = Duration::from_secs(10);
/// On SIGINT/SIGTERM, time given to writers to send the goodbye ERROR.
const SHUTDOWN_FLUSH: Duration = Duration::from_millis(300);

/// One core's server: the shard and the ways out of it.
pub struct Net {
    pub shard: RefCell<Shard>,
    pub args: ChatArgs,
    outbox: Rc<Outbox>,
    cores: usize,
    /// Sockets by client, so the sweeper can shut down stuck ones.
    pub streams: RefCell<HashMap<ClientId, Rc<TcpStream>>>,
}

impl Net {
    /// Runs `f` on the shard, then sends whatever it produced for other
    /// cores, one batch per destination core.
    pub fn with<R>(&self, f: impl FnOnce(&mut Shard) -> R) -> R {
        let (r, out) = {
            let mut s = self.shard.borrow_mut();
            let r = f(&mut s);
            (r, s.flush())
        };
        self.route(out);
        r
    }

    fn route(&self, out: Vec<(usize, Msg)>) {
        if out.is_empty() {
            return;
        }
        let mut batches: Vec<Batch> = (0..self.cores).map(|_| Vec::new()).collect();
        for (core, msg) in out {
            if let Some(b) = batches.get_mut(core) {
                b.push(msg);
            }
        }
        for (core, batch) in batches.into_iter().enumerate() {
            if !batch.is_empty() {
                self.outbox.send(core, batch);
            }
        }
    }
}

/// Runs the chat server until SIGINT/SIGTERM.
pub fn run(args: ChatArgs) -> io::Result<()> {
    let cores = args.cores.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let motd = match &args.motd {
        Some(p) => Some(
            std::fs::read_to_string(p)?
                .lines()
                .map(str::to_string)
                .collect(),
        ),
        None => None,
    };
    let cfg = Arc::new(Config {
        motd,
        password: args.password.clone(),
        sendq: args.sendq,
        created: format!("at unix time {}", now_secs()),
        ..Config::new(&args.name, cores)
    });
    // Port 0 would give every core its own port: pick one first, holding it
    // with SO_REUSEPORT until the cores have bound it too.
    let probe = reserve(args.listen)?;
    let mut args = args;
    args.listen = probe.local_addr()?.as_socket().unwrap_or(args.listen);
    let counters = Arc::new(Counters::default());
    let (senders, receivers) = mailbox::inboxes(cores);
    let mut builder = uringo::Builder::new().cores(cores);
    if let Some(backend) = args.backend {
        builder = builder.backend(backend);
    }
    let rt = builder.build()?;
    let backend = rt.backend();
    let ready = Arc::new(std::sync::Barrier::new(cores + 1));
    let listen = args.listen;
    let waiter = {
        let ready = ready.clone();
        std::thread::spawn(move || {
            ready.wait();
            drop(probe);
            tracing::info!(%backend, "chat: {cores} cores on {backend}, listening on {listen}");
            println!("listening on {listen}");
        })
    };
    let results = rt.run_on_all_cores(move |core| {
        core_main(
            core,
            args.clone(),
            cfg.clone(),
            counters.clone(),
            senders.clone(),
            receivers[core].clone(),
            ready.clone(),
        )
    });
    let _ = waiter.join();
    results.into_iter().collect()
}

fn reserve(addr: SocketAddr) -> io::Result<socket2::Socket> {
    let s = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    s.bind(&addr.into())?;
    Ok(s)
}

async fn core_main(
    core: usize,
    args: ChatArgs,
    cfg: Arc<Config>,
    counters: Arc<Counters>,
    senders: Vec<uringo::chan::Sender<Batch>>,
    inbox: uringo::chan::Receiver<Batch>,
    ready: Arc<std::sync::Barrier>,
) -> io::Result<()> {
    let bound = TcpListener::bind_reuseport(args.listen);
    // Every core reaches the barrier, bound or not, so none waits forever.
    ready.wait();
    let listener = match bound {
        Ok(l) => l,
        Err(e) => {
            // The other cores would serve on without this one: stop them all.
            tracing::error!(
                "uringo-server chat: core {core} cannot listen on {}: {e}",
                args.listen
            );
            std::process::exit(1);
        }
    };
    let net = Rc::new(Net {
        cores: cfg.cores,
        shard: RefCell::new(Shard::new(core, cfg, counters)),
        args,
        outbox: Outbox::start(senders),
        streams: RefCell::new(HashMap::new()),
    });
    uringo::spawn(inbox_loop(net.clone(), inbox));
    uringo::spawn(sweeper(net.clone()));
    if core == 0 {
        let net = net.clone();
        uringo::spawn(async move {
            if uringo::signal::shutdown().await.is_ok() {
                // Every client gets an ERROR line before the process goes.
                net.with(|s| s.shutdown_all());
                uringo::time::sleep(SHUTDOWN_FLUSH).await;
                std::process::exit(0);
            }
        });
    }
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                uringo::spawn(super::conn::serve(net.clone(), stream, peer));
            }
            Err(e) => {
                // Out of fds and the like: back off instead of spinning.
                tracing::error!("chat: accept on core {core}: {e}");
                uringo::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn inbox_loop(net: Rc<Net>, inbox: uringo::chan::Receiver<Batch>) {
    let mut batches = Vec::new();
    while mailbox::recv(&inbox, &mut batches).await {
        net.with(|s| {
            for msg in batches.drain(..).flatten() {
                s.handle(msg);
            }
        });
    }
}

async fn sweeper(net: Rc<Net>) {
    let interval = Duration::from_secs(net.args.ping_interval.max(1));
    let every = (interval / 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
    loop {
        uringo::time::sleep(every).await;
        let stuck = net.with(|s| s.sweep(Instant::now(), interval, CLOSE_GRACE));
        let streams = net.streams.borrow();
        for id in stuck {
            if let Some(st) = streams.get(&id) {
                let _ = st.shutdown(Shutdown::Both);
            }
        }
    }
}
