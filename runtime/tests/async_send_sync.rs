//! Compile-time checks of which public types may cross threads.
//!
//! Tasks never migrate (invariant 5), so everything bound to one core's
//! ring or timer wheel (sockets, provided buffers, sleeps, the runtime
//! handle of core 0) must be `!Send`; handles meant to cross cores
//! (`JoinHandle<T: Send>`, `Builder`, plain data) must be `Send`.
//!
//! `assert_not_send!` is the auto-trait ambiguity trick: a blanket impl
//! for every type plus one for `Send` types makes the trait's item
//! ambiguous (a compile error) exactly when the type is `Send`.
#![allow(dead_code)]

use std::future::Ready;
use std::rc::Rc;

use uringo::buf::RecvBuf;
use uringo::net::{ReadHalf, TcpListener, TcpStream, WriteHalf};
use uringo::time::{Elapsed, Interval, Sleep, Timeout};
use uringo::{Backend, Builder, CoreStats, Features, JoinHandle, Runtime};

macro_rules! assert_send {
    ($($t:ty),+ $(,)?) => {$(
        const _: fn() = || {
            fn is_send<T: ?Sized + Send>() {}
            is_send::<$t>();
        };
    )+};
}

macro_rules! assert_sync {
    ($($t:ty),+ $(,)?) => {$(
        const _: fn() = || {
            fn is_sync<T: ?Sized + Sync>() {}
            is_sync::<$t>();
        };
    )+};
}

macro_rules! assert_not_send {
    ($($t:ty),+ $(,)?) => {$(
        const _: fn() = || {
            trait NameOnlyIfNotSend<Which> {
                fn name() {}
            }
            impl<T: ?Sized> NameOnlyIfNotSend<()> for T {}
            struct IsSend;
            impl<T: ?Sized + Send> NameOnlyIfNotSend<IsSend> for T {}
            let _ = <$t as NameOnlyIfNotSend<_>>::name;
        };
    )+};
}

macro_rules! assert_not_sync {
    ($($t:ty),+ $(,)?) => {$(
        const _: fn() = || {
            trait NameOnlyIfNotSync<Which> {
                fn name() {}
            }
            impl<T: ?Sized> NameOnlyIfNotSync<()> for T {}
            struct IsSync;
            impl<T: ?Sized + Sync> NameOnlyIfNotSync<IsSync> for T {}
            let _ = <$t as NameOnlyIfNotSync<_>>::name;
        };
    )+};
}

// Crossing cores and threads.
assert_send!(
    JoinHandle<()>,
    JoinHandle<u32>,
    JoinHandle<Vec<u8>>,
    Builder,
    CoreStats,
    Features,
    Backend,
    Elapsed
);
assert_sync!(
    JoinHandle<u32>,
    Builder,
    CoreStats,
    Features,
    Backend,
    Elapsed
);
assert_send!(uringo::signal::Signal);

// Bound to the core that made them.
assert_not_send!(
    Runtime,
    TcpStream,
    TcpListener,
    RecvBuf,
    ReadHalf,
    WriteHalf
);
assert_not_sync!(Runtime, TcpStream, TcpListener, RecvBuf);
assert_not_send!(Sleep, Interval, Timeout<Ready<()>>);
// A handle whose output cannot cross threads cannot either.
assert_not_send!(JoinHandle<Rc<()>>);

/// `spawn` takes `!Send` futures; `spawn_on` only needs its closure and the
/// output to be `Send` (the future is built on the target core). These
/// compile, which is the check; they never run.
fn spawn_bounds() {
    drop(uringo::spawn(async {
        let local = Rc::new(1);
        uringo::yield_now().await;
        *local
    }));
    drop(uringo::spawn_on(1, || {
        let local = Rc::new(2);
        async move {
            uringo::time::sleep(std::time::Duration::from_millis(1)).await;
            *local
        }
    }));
}

// The other sockets (#9): bound to their core like TcpStream. A TcpSocket
// has no op yet, so it may be made on one thread and used on another; a
// Unix socket address is plain data.
assert_not_send!(
    uringo::net::UdpSocket,
    uringo::net::UnixStream,
    uringo::net::UnixListener,
    uringo::net::UnixDatagram,
    uringo::net::Incoming<'static, uringo::net::UnixStream>
);
assert_not_sync!(
    uringo::net::UdpSocket,
    uringo::net::UnixStream,
    uringo::net::UnixListener,
    uringo::net::UnixDatagram
);
assert_send!(uringo::net::TcpSocket, uringo::net::unix::SocketAddr);
assert_sync!(uringo::net::TcpSocket, uringo::net::unix::SocketAddr);
