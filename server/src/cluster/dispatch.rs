//! The pub/sub connection's frames turned into [`Event`]s, keeping the
//! member mirror in step with what other nodes did to this node's members.

use std::rc::Rc;

use bytes::Bytes;
use uringo::chan::Receiver;

use super::counters::ClusterCounters;
use super::resp::{as_array, as_bytes, Reply};
use super::state::Inner;
use super::wire::{Envelope, Kind};
use super::Event;
use crate::chat::casemap::fold_byte;

/// Runs until the connection's frame channel closes.
pub async fn dispatch(inner: Rc<Inner>, frames: Receiver<Reply>) {
    while let Some(frame) = frames.recv().await {
        let Some(items) = as_array(&frame) else {
            continue;
        };
        let field = |i: usize| items.get(i).and_then(as_bytes).cloned();
        match field(0).as_deref() {
            Some(b"message") => {
                let Some(payload) = field(2) else { continue };
                ClusterCounters::add(&inner.counters.receives, 1);
                let Some(envelope) = Envelope::decode(&payload) else {
                    tracing::warn!("cluster: ignoring a message that is not an envelope");
                    continue;
                };
                for chan in track(&inner, &envelope) {
                    inner.unsubscribe(inner.topic(&chan)).await;
                }
                if inner.events.send(Event::Message(envelope)).await.is_err() {
                    return;
                }
            }
            Some(b"subscribe") => {
                if let Some(topic) = field(1) {
                    inner.subscribed_to(topic);
                }
            }
            _ => {}
        }
    }
}

/// Applies a membership change to the mirror; returns the channels that
/// no longer have a member joined through this client.
fn track(inner: &Inner, e: &Envelope) -> Vec<Bytes> {
    let mut mirror = inner.mirror.borrow_mut();
    let mut emptied = Vec::new();
    for chan in &e.chans {
        let Some(members) = mirror.get_mut(chan) else {
            continue;
        };
        match e.kind {
            Kind::Part | Kind::Kick | Kind::Quit => {
                members.remove(&e.subject);
            }
            Kind::Nick if members.remove(&e.subject).is_some() => {
                let nick = e.extra.split(|&b| b == b'!').next().unwrap_or_default();
                let key: Vec<u8> = nick.iter().map(|&b| fold_byte(b)).collect();
                members.insert(key.into(), e.extra.clone());
            }
            _ => {}
        }
        if members.is_empty() {
            mirror.remove(chan);
            // A channel subscribed through `Cluster::subscribe` stays so.
            if !inner.channels.borrow().contains(chan) {
                emptied.push(chan.clone());
            }
        }
    }
    emptied
}
