//! A future built from a closure on its first poll, i.e. on the core that
//! runs it: how `spawn_on` moves only a `Send` closure across threads.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) enum Lazy<F, Fut> {
    Make(Option<F>),
    Run(Fut),
}

impl<F, Fut> Lazy<F, Fut> {
    pub(crate) fn new(make: F) -> Self {
        Lazy::Make(Some(make))
    }
}

impl<F: FnOnce() -> Fut, Fut: Future> Future for Lazy<F, Fut> {
    type Output = Fut::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        // SAFETY: we never move `Fut` out of the pinned enum; the `Make`
        // variant (an unpinned closure) is replaced before `Run` is pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if let Lazy::Make(make) = this {
            let make = make
                .take()
                .expect("Lazy polled after a panic in its closure");
            *this = Lazy::Run(make());
        }
        match this {
            // SAFETY: `this` is pinned and `fut` is never moved out of it.
            Lazy::Run(fut) => unsafe { Pin::new_unchecked(fut) }.poll(cx),
            Lazy::Make(_) => unreachable!(),
        }
    }
}
