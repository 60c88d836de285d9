//! `select!`: wait on several channel operations (and timers) at once and
//! run the branch of the one that happens, like Go's `select` statement.
//!
//! How a select runs (see the cancellation rules on [`select!`](crate::select!)):
//! 1. *Try*: visit the branches in a fresh uniformly random order (written
//!    order with `biased;`) and complete the first one that can complete
//!    without waiting. Trying is atomic per channel, so untried or failed
//!    branches have no effect.
//! 2. *Default*: if none could and there is a `default` branch, run it.
//! 3. *Park*: park one waiter per channel branch, all sharing one
//!    `Token`. A counterpart (or `close`) completes a waiter only after
//!    winning the token's CAS, so exactly one branch takes effect. If a
//!    channel turned ready while parking, or a timer fires, the select aborts
//!    its token, unparks everything and goes back to step 1.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::chan::waiter::Token;
use crate::chan::{Receiver, RecvStep, SendError, SendStep, Sender, Shared};
use crate::shim::Arc;

/// Waits on several channel operations and runs the branch of the one that
/// completes.
///
/// ```
/// use std::time::Duration;
///
/// uringo::start(async {
///     let (jobs_tx, jobs_rx) = uringo::chan::<u32>(1);
///     let (done_tx, done_rx) = uringo::chan::<&str>(1);
///     done_tx.send("finished").await.unwrap();
///     loop {
///         uringo::select! {
///             // v: Option<u32>, None once jobs_rx is closed and drained
///             v = recv(jobs_rx) => println!("job {v:?}"),
///             // r: Result<(), SendError<u32>>
///             r = send(jobs_tx, 7) => r.unwrap(),
///             msg = recv(done_rx) => {
///                 println!("{}", msg.unwrap());
///                 break;
///             }
///             _ = after(Duration::from_secs(1)) => panic!("nothing happened for a second"),
///         }
///     }
///     // With `default`, a select never waits.
///     let idle = uringo::select! {
///         v = recv(done_rx) => v.is_none(),
///         default => true,
///     };
///     assert!(idle);
/// });
/// ```
///
/// Branches are `pattern = recv(receiver)`, `pattern = send(sender, value)`,
/// `pattern = after(duration)` (a [`time::sleep`](crate::time::sleep)),
/// `pattern = future` for any other future (a `JoinHandle`, a
/// [`Signal`](crate::signal::Signal), `ctx.done()`, `sleep_until(t)`, an I/O
/// future...), and at most one `default`; patterns must be irrefutable.
/// `recv`, `send` and `after` are the channel and timer operations (a
/// function of yours with one of those names must be written as an
/// expression, e.g. `(recv(x))`). A branch may carry a guard,
/// `pattern = op, if condition => handler`: when the condition is false the
/// branch is disabled and its operation is not even evaluated (Go's nil
/// channel idiom). A handler is a block (comma optional) or an expression
/// followed by a comma. `break`, `continue`, `return` and `?` in a handler
/// act on the enclosing code, and every branch's borrow ends before its
/// handler runs. Operation expressions are evaluated once, in written
/// order, before anything waits. Without `default` and with no enabled
/// branch, it waits forever (as Go's select on nil channels). At most 16
/// branches besides `default`: more is a compile error saying so.
///
/// Future branches are boxed (one allocation per future branch per
/// select) and polled whenever the select is woken; channel branches park
/// on their channel and allocate nothing after warm-up.
///
/// ```
/// use std::time::Duration;
///
/// uringo::start(async {
///     let (tx, rx) = uringo::chan::<u32>(1);
///     let worker = uringo::spawn(async { 7 });
///     let mut worker_done = false;
///     tx.send(1).await.unwrap();
///     for _ in 0..2 {
///         uringo::select! {
///             v = recv(rx) => assert_eq!(v, Some(1)),
///             out = std::future::ready(0), if false => unreachable!("{out}"),
///             n = uringo::time::timeout(Duration::from_secs(5), async { 1 }) => assert_eq!(n, Ok(1)),
///             _ = uringo::time::sleep(Duration::from_secs(60)) => unreachable!(),
///         }
///     }
///     let out = uringo::select! {
///         r = worker, if !worker_done => { worker_done = true; r }
///         _ = after(Duration::from_secs(5)) => 0,
///     };
///     assert_eq!((out, worker_done), (7, true));
/// });
/// ```
///
/// More than 16 branches do not compile:
///
/// ```compile_fail
/// uringo::start(async {
///     let (_tx, rx) = uringo::chan::<u8>(1);
///     uringo::select! {
///         _ = recv(rx) => {} _ = recv(rx) => {} _ = recv(rx) => {} _ = recv(rx) => {}
///         _ = recv(rx) => {} _ = recv(rx) => {} _ = recv(rx) => {} _ = recv(rx) => {}
///         _ = recv(rx) => {} _ = recv(rx) => {} _ = recv(rx) => {} _ = recv(rx) => {}
///         _ = recv(rx) => {} _ = recv(rx) => {} _ = recv(rx) => {} _ = recv(rx) => {}
///         _ = recv(rx) => {}
///     }
/// });
/// ```
///
/// Choice: when several branches are ready, one is picked uniformly at
/// random (Go's fairness); `biased;` as the first token picks the first
/// ready branch in written order. With `default`, the select never waits
/// for a branch. Like a channel operation, each select spends one unit of the
/// task's cooperative budget, so a loop whose select is always ready still
/// yields to its siblings now and then (invariant 6).
///
/// Cancellation rules (what a branch that was not chosen leaves behind):
/// - a `recv` branch not chosen takes nothing: its value stays in the
///   channel for the next receiver;
/// - a `send` branch not chosen delivers nothing: its value is dropped
///   (never seen by a receiver), and the channel's other senders keep their
///   place in the queue;
/// - an `after` branch not chosen is just dropped; a timer that fires while
///   a channel branch completes concurrently loses and has no effect;
/// - at most one branch ever takes effect, even when counterparts on other
///   cores race to complete several of them;
/// - dropping the whole select future while it waits leaves every channel
///   consistent: waiting branches are unparked, and a value a counterpart
///   already handed to a `recv` branch goes back to the front of its channel.
///   A `send` branch completed by a counterpart just before the drop has
///   been delivered, as with a dropped [`SendFuture`](crate::chan::SendFuture)
///   that completed.
#[macro_export]
macro_rules! select {
    (biased; $($t:tt)*) => {
        $crate::__select!(@parse true; [$($t)*]; []; []; [
            (0 __b0) (1 __b1) (2 __b2) (3 __b3) (4 __b4) (5 __b5) (6 __b6) (7 __b7)
            (8 __b8) (9 __b9) (10 __b10) (11 __b11) (12 __b12) (13 __b13) (14 __b14) (15 __b15)
        ])
    };
    ($($t:tt)*) => {
        $crate::__select!(@parse false; [$($t)*]; []; []; [
            (0 __b0) (1 __b1) (2 __b2) (3 __b3) (4 __b4) (5 __b5) (6 __b6) (7 __b7)
            (8 __b8) (9 __b9) (10 __b10) (11 __b11) (12 __b12) (13 __b13) (14 __b14) (15 __b15)
        ])
    };
}

/// The machinery of [`select!`]; not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __select {
    // Parsing: @parse biased; [input]; [parsed branches]; [default]; [free names].
    // A parsed branch is (index name kind (args) (pattern) {handler} (guard)).
    (@parse $b:tt; [default => $body:block $(,)? $($rest:tt)*]; $br:tt; []; $names:tt) => {
        $crate::__select!(@parse $b; [$($rest)*]; $br; [$body]; $names)
    };
    (@parse $b:tt; [default => $body:expr $(, $($rest:tt)*)?]; $br:tt; []; $names:tt) => {
        $crate::__select!(@parse $b; [$($($rest)*)?]; $br; [{ $body }]; $names)
    };
    (@parse $b:tt; [$($t:tt)+]; $br:tt; $d:tt; []) => {
        ::core::compile_error!("select!: at most 16 branches (besides `default`); split the select or merge channels")
    };
    // Channel operations and `after`: `pattern = kind(args)`, optional `, if guard`.
    (@parse $b:tt; [$p:pat = $kind:ident $args:tt $(, if $g:expr)? => $body:block $(,)? $($rest:tt)*];
        [$($br:tt)*]; $d:tt; [($i:tt $n:ident) $($names:tt)*]) => {
        $crate::__select!(@parse $b; [$($rest)*];
            [$($br)* ($i $n $kind $args ($p) $body ($($g)?))]; $d; [$($names)*])
    };
    (@parse $b:tt; [$p:pat = $kind:ident $args:tt $(, if $g:expr)? => $body:expr $(, $($rest:tt)*)?];
        [$($br:tt)*]; $d:tt; [($i:tt $n:ident) $($names:tt)*]) => {
        $crate::__select!(@parse $b; [$($($rest)*)?];
            [$($br)* ($i $n $kind $args ($p) { $body } ($($g)?))]; $d; [$($names)*])
    };
    // Any other future: `pattern = future_expression`.
    (@parse $b:tt; [$p:pat = $f:expr $(, if $g:expr)? => $body:block $(,)? $($rest:tt)*];
        [$($br:tt)*]; $d:tt; [($i:tt $n:ident) $($names:tt)*]) => {
        $crate::__select!(@parse $b; [$($rest)*];
            [$($br)* ($i $n __future ($f) ($p) $body ($($g)?))]; $d; [$($names)*])
    };
    (@parse $b:tt; [$p:pat = $f:expr $(, if $g:expr)? => $body:expr $(, $($rest:tt)*)?];
        [$($br:tt)*]; $d:tt; [($i:tt $n:ident) $($names:tt)*]) => {
        $crate::__select!(@parse $b; [$($($rest)*)?];
            [$($br)* ($i $n __future ($f) ($p) { $body } ($($g)?))]; $d; [$($names)*])
    };
    (@parse $b:tt; []; [$(($i:tt $n:ident $kind:ident $args:tt $p:tt $body:tt $g:tt))*]; []; $names:tt) => {
        $crate::__select!(@emit $b; false; {
            ::core::future::pending::<()>().await;
            ::core::unreachable!()
        }; [$($n)*]; [$(($i $n $kind $args $p $body $g))*])
    };
    (@parse $b:tt; []; [$(($i:tt $n:ident $kind:ident $args:tt $p:tt $body:tt $g:tt))*]; [$d:tt]; $names:tt) => {
        $crate::__select!(@emit $b; true; $d; [$($n)*]; [$(($i $n $kind $args $p $body $g))*])
    };
    (@parse $b:tt; [$($t:tt)*]; $($x:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "select!: expected `pattern = recv(rx) => ...`, `pattern = send(tx, v) => ...`, ",
            "`pattern = after(duration) => ...`, `pattern = some_future => ...` ",
            "(each optionally with `, if guard` before `=>`) or one `default => ...`, found: ",
            ::core::stringify!($($t)*)
        ))
    };

    (@emit $b:tt; $has_default:tt; $d:tt; $all:tt;
        [$(($i:tt $n:ident $kind:ident $args:tt ($p:pat) $body:tt $g:tt))*]) => {{
        $( let mut $n = $crate::__select!(@guarded $g; $kind $args); )*
        let __select_index = $crate::select::__private::Select::new(
            $b,
            $has_default,
            &mut [$( &mut $n as &mut dyn $crate::select::__private::Branch ),*],
        ).await;
        match __select_index {
            $(
                $i => {
                    let __select_output = $crate::select::__private::Output::take_output(&mut $n);
                    $crate::__select!(@drop $all);
                    let $p = __select_output;
                    $body
                }
            )*
            _ => {
                $crate::__select!(@drop $all);
                $d
            }
        }
    }};

    // A disabled branch (guard false) is not even evaluated, as in tokio.
    (@guarded (); $kind:ident $args:tt) => {
        $crate::__select!(@branch $kind $args)
    };
    (@guarded ($g:expr); $kind:ident $args:tt) => {
        if $g {
            ::core::option::Option::Some($crate::__select!(@branch $kind $args))
        } else {
            ::core::option::Option::None
        }
    };

    (@branch recv ($rx:expr)) => {
        $crate::select::__private::RecvBranch::new(&$rx)
    };
    (@branch send ($tx:expr, $v:expr $(,)?)) => {
        $crate::select::__private::SendBranch::new(&$tx, $v)
    };
    (@branch after ($d:expr)) => {
        $crate::select::__private::FutureBranch::new($crate::time::sleep($d))
    };
    (@branch __future ($f:expr)) => {
        $crate::select::__private::FutureBranch::new($f)
    };
    // A call that is not a channel operation: a future like any other.
    (@branch $kind:ident ($($args:tt)*)) => {
        $crate::select::__private::FutureBranch::new($kind($($args)*))
    };

    (@drop [$($n:ident)*]) => {
        $( ::core::mem::drop($n); )*
    };
}

#[doc(hidden)]
pub mod __private {
    pub use super::{Branch, FutureBranch, Output, RecvBranch, Select, SendBranch};
}

/// Index [`Select`] returns for the `default` branch.
const DEFAULT: usize = usize::MAX;

/// Whether parking found the channel ready (so the select must retry).
#[doc(hidden)]
pub enum Park {
    Parked,
    Ready,
}

/// One branch of a select, as the driver sees it.
#[doc(hidden)]
pub trait Branch {
    /// Completes the operation if it needs no waiting, storing its output.
    fn try_complete(&mut self, cx: &mut Context<'_>) -> bool;
    /// Parks a waiter for `token`/`index`, unless the channel is ready.
    fn park(&mut self, waker: &Waker, token: &Arc<Token>, index: usize) -> Park;
    /// Removes the parked waiter; if a counterpart completed it, stores the output.
    fn unpark(&mut self);
    /// Timers are polled rather than parked.
    fn is_future(&self) -> bool {
        false
    }
}

/// The typed result of a branch, taken by the handler the macro runs.
#[doc(hidden)]
pub trait Output {
    type Out;
    fn take_output(&mut self) -> Self::Out;
}

#[doc(hidden)]
pub struct RecvBranch<'a, T> {
    shared: &'a Shared<T>,
    key: Option<usize>,
    out: Option<Option<T>>,
}

impl<'a, T> RecvBranch<'a, T> {
    pub fn new(rx: &'a Receiver<T>) -> Self {
        RecvBranch {
            shared: &rx.shared,
            key: None,
            out: None,
        }
    }
}

impl<T> Branch for RecvBranch<'_, T> {
    fn try_complete(&mut self, _cx: &mut Context<'_>) -> bool {
        let mut s = self.shared.lock();
        match s.try_recv() {
            RecvStep::Got(v, waker) => {
                drop(s);
                self.out = Some(Some(v));
                if let Some(w) = waker {
                    w.wake();
                }
                true
            }
            RecvStep::Closed => {
                self.out = Some(None);
                true
            }
            RecvStep::Empty => false,
        }
    }

    fn park(&mut self, waker: &Waker, token: &Arc<Token>, index: usize) -> Park {
        let mut s = self.shared.lock();
        if s.recv_ready() {
            return Park::Ready;
        }
        self.key = Some(s.park_receiver(waker, Some((token, index))));
        Park::Parked
    }

    fn unpark(&mut self) {
        if let Some(key) = self.key.take() {
            let w = self.shared.lock().receivers.remove(key);
            if w.done {
                self.out = Some(w.value);
            }
        }
    }
}

impl<T> Output for RecvBranch<'_, T> {
    type Out = Option<T>;
    fn take_output(&mut self) -> Option<T> {
        self.out
            .take()
            .expect("select!: winning recv branch has no output")
    }
}

impl<T> Drop for RecvBranch<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            crate::chan::cancel_recv(self.shared, key);
        }
    }
}

#[doc(hidden)]
pub struct SendBranch<'a, T> {
    shared: &'a Shared<T>,
    value: Option<T>,
    key: Option<usize>,
    out: Option<Result<(), SendError<T>>>,
}

impl<'a, T> SendBranch<'a, T> {
    pub fn new(tx: &'a Sender<T>, v: T) -> Self {
        SendBranch {
            shared: &tx.shared,
            value: Some(v),
            key: None,
            out: None,
        }
    }
}

impl<T> Branch for SendBranch<'_, T> {
    fn try_complete(&mut self, _cx: &mut Context<'_>) -> bool {
        let Some(v) = self.value.take() else {
            return false;
        };
        let mut s = self.shared.lock();
        match s.try_send(v) {
            SendStep::Sent(waker) => {
                drop(s);
                self.out = Some(Ok(()));
                if let Some(w) = waker {
                    w.wake();
                }
                true
            }
            SendStep::Closed(v) => {
                self.out = Some(Err(SendError(v)));
                true
            }
            SendStep::Full(v) => {
                self.value = Some(v);
                false
            }
        }
    }

    fn park(&mut self, waker: &Waker, token: &Arc<Token>, index: usize) -> Park {
        let mut s = self.shared.lock();
        if s.send_ready() {
            return Park::Ready;
        }
        if let Some(v) = self.value.take() {
            self.key = Some(s.park_sender(v, waker, Some((token, index))));
        }
        Park::Parked
    }

    fn unpark(&mut self) {
        if let Some(key) = self.key.take() {
            let w = self.shared.lock().senders.remove(key);
            match (w.done, w.value) {
                (true, None) => self.out = Some(Ok(())),
                (true, Some(v)) => self.out = Some(Err(SendError(v))),
                (false, v) => self.value = v,
            }
        }
    }
}

impl<T> Output for SendBranch<'_, T> {
    type Out = Result<(), SendError<T>>;
    fn take_output(&mut self) -> Self::Out {
        self.out
            .take()
            .expect("select!: winning send branch has no output")
    }
}

impl<T> Drop for SendBranch<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let w = self.shared.lock().senders.remove(key);
            drop(w);
        }
    }
}

/// A timer (or any future) branch: polled, never parked on a channel.
#[doc(hidden)]
pub struct FutureBranch<F: Future> {
    fut: Pin<Box<F>>,
    out: Option<F::Output>,
}

impl<F: Future> FutureBranch<F> {
    pub fn new(fut: F) -> Self {
        FutureBranch {
            fut: Box::pin(fut),
            out: None,
        }
    }
}

impl<F: Future> Branch for FutureBranch<F> {
    fn try_complete(&mut self, cx: &mut Context<'_>) -> bool {
        match self.fut.as_mut().poll(cx) {
            Poll::Ready(v) => {
                self.out = Some(v);
                true
            }
            Poll::Pending => false,
        }
    }

    fn park(&mut self, _waker: &Waker, _token: &Arc<Token>, _index: usize) -> Park {
        Park::Parked
    }

    fn unpark(&mut self) {}

    fn is_future(&self) -> bool {
        true
    }
}

impl<F: Future> Output for FutureBranch<F> {
    type Out = F::Output;
    fn take_output(&mut self) -> F::Output {
        self.out
            .take()
            .expect("select!: winning future branch has no output")
    }
}

/// A branch behind an `if` guard: `None` when the guard was false, and
/// then it never completes.
impl<B: Branch> Branch for Option<B> {
    fn try_complete(&mut self, cx: &mut Context<'_>) -> bool {
        self.as_mut().is_some_and(|b| b.try_complete(cx))
    }

    fn park(&mut self, waker: &Waker, token: &Arc<Token>, index: usize) -> Park {
        match self {
            Some(b) => b.park(waker, token, index),
            None => Park::Parked,
        }
    }

    fn unpark(&mut self) {
        if let Some(b) = self {
            b.unpark();
        }
    }

    fn is_future(&self) -> bool {
        self.as_ref().is_some_and(|b| b.is_future())
    }
}

impl<B: Output> Output for Option<B> {
    type Out = B::Out;
    fn take_output(&mut self) -> B::Out {
        self.as_mut()
            .expect("select!: a disabled branch cannot win")
            .take_output()
    }
}

/// The select driver: resolves to the index of the branch that completed
/// (its output is stored in the branch), or `usize::MAX` for `default`.
#[doc(hidden)]
#[must_use = "futures do nothing unless polled"]
pub struct Select<'s, 'b> {
    branches: &'s mut [&'b mut dyn Branch],
    biased: bool,
    has_default: bool,
    token: Option<Arc<Token>>,
    parked: bool,
    waker: Option<Waker>,
}

impl<'s, 'b> Select<'s, 'b> {
    pub fn new(biased: bool, has_default: bool, branches: &'s mut [&'b mut dyn Branch]) -> Self {
        assert!(branches.len() <= 16, "select!: at most 16 branches");
        Select {
            branches,
            biased,
            has_default,
            token: None,
            parked: false,
            waker: None,
        }
    }

    fn order(&self) -> ([u8; 16], usize) {
        let n = self.branches.len();
        let mut order = [0u8; 16];
        for (i, slot) in order.iter_mut().enumerate().take(n) {
            *slot = i as u8;
        }
        if !self.biased {
            shuffle(&mut order[..n]);
        }
        (order, n)
    }

    fn unpark_all(&mut self) {
        for b in self.branches.iter_mut() {
            b.unpark();
        }
        self.parked = false;
    }

    /// Finishes with the branch a counterpart completed.
    fn finish(&mut self, winner: usize) -> Poll<usize> {
        self.unpark_all();
        Poll::Ready(winner)
    }

    /// Polls timers while parked; `Some` when the select is decided.
    fn poll_parked(&mut self, cx: &mut Context<'_>) -> Option<Poll<usize>> {
        let token = self.token.clone()?;
        if let Some(winner) = token.selected() {
            return Some(self.finish(winner));
        }
        let (order, n) = self.order();
        let fired = order[..n]
            .iter()
            .map(|&i| i as usize)
            .find(|&i| self.branches[i].is_future() && self.branches[i].try_complete(cx));
        let moved = !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        if fired.is_none() && !moved {
            return Some(Poll::Pending);
        }
        match token.abort() {
            // A timer that fired lost the race; its output is dropped with it.
            Err(winner) => Some(self.finish(winner)),
            Ok(()) => {
                self.unpark_all();
                token.reset();
                fired.map(Poll::Ready)
            }
        }
    }
}

impl Future for Select<'_, '_> {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = self.get_mut();
        // A select that always finds a branch ready still yields (invariant 6).
        std::task::ready!(crate::op::coop_proceed(cx));
        let decided = this.poll_branches(cx);
        if decided.is_pending() {
            // After the branches, whose futures tag their own waits.
            crate::task::wait_tag::set(crate::task::WaitOn::Select);
        }
        decided
    }
}

impl Select<'_, '_> {
    fn poll_branches(&mut self, cx: &mut Context<'_>) -> Poll<usize> {
        let this = self;
        loop {
            if this.parked {
                if let Some(p) = this.poll_parked(cx) {
                    return p;
                }
            }
            let (order, n) = this.order();
            for &i in &order[..n] {
                if this.branches[i as usize].try_complete(cx) {
                    return Poll::Ready(i as usize);
                }
            }
            if this.has_default {
                return Poll::Ready(DEFAULT);
            }
            let token = this
                .token
                .get_or_insert_with(|| Arc::new(Token::new()))
                .clone();
            this.parked = true;
            this.waker = Some(cx.waker().clone());
            let mut ready = false;
            for &i in &order[..n] {
                if let Park::Ready = this.branches[i as usize].park(cx.waker(), &token, i as usize)
                {
                    ready = true;
                    break;
                }
            }
            if let Some(winner) = token.selected() {
                return this.finish(winner);
            }
            if !ready {
                return Poll::Pending;
            }
            match token.abort() {
                Err(winner) => return this.finish(winner),
                Ok(()) => {
                    this.unpark_all();
                    token.reset();
                }
            }
        }
    }
}

impl Drop for Select<'_, '_> {
    fn drop(&mut self) {
        if self.parked {
            if let Some(token) = &self.token {
                // Stop counterparts; a branch already completed hands its
                // result to its own drop (a received value goes back).
                let _ = token.abort();
            }
        }
    }
}

/// Shuffles `s` uniformly (Fisher-Yates) with a per-thread xorshift PRNG.
/// Loom needs every execution of a model to be deterministic, so under loom
/// the order stays as written (loom explores the interleavings instead).
#[cfg(loom)]
fn shuffle(_: &mut [u8]) {}

#[cfg(not(loom))]
fn shuffle(s: &mut [u8]) {
    for i in (1..s.len()).rev() {
        let j = (next_random() % (i as u64 + 1)) as usize;
        s.swap(i, j);
    }
}

#[cfg(not(loom))]
fn next_random() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let stack = 0u8;
            let addr = &stack as *const u8 as u64;
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            (addr ^ t.rotate_left(17)) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}
