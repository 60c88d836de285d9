//! Subscriptions: SUBSCRIBE waits for Redis's confirmation, so a caller
//! that subscribes before it joins sees every message published after.

use bytes::Bytes;

use super::error::ClusterError;
use super::resp::command;
use super::state::Inner;

impl Inner {
    /// Subscribes to every topic of `topics` not yet confirmed and waits
    /// until Redis confirms each.
    pub async fn subscribe(&self, topics: &[Bytes]) -> Result<(), ClusterError> {
        let link = self.live()?;
        let mut args: Vec<&[u8]> = vec![b"SUBSCRIBE"];
        let mut waits = Vec::new();
        for topic in topics {
            if self.subscribed.borrow().contains(topic) {
                continue;
            }
            let (tx, rx) = uringo::chan(1);
            self.sub_waiters
                .borrow_mut()
                .entry(topic.clone())
                .or_default()
                .push(tx);
            waits.push(rx);
            args.push(topic);
        }
        if waits.is_empty() {
            return Ok(());
        }
        link.sub.send(command(&args)).await?;
        for rx in waits {
            match uringo::time::timeout(self.cfg.call_timeout, rx.recv()).await {
                Ok(Some(())) => {}
                Ok(None) => return Err(ClusterError::Unavailable),
                Err(_) => {
                    link.sub.abandon();
                    return Err(ClusterError::Unavailable);
                }
            }
        }
        Ok(())
    }

    /// Redis confirmed a subscription.
    pub fn subscribed_to(&self, topic: Bytes) {
        for waiter in self
            .sub_waiters
            .borrow_mut()
            .remove(&topic)
            .unwrap_or_default()
        {
            let _ = waiter.try_send(());
        }
        self.subscribed.borrow_mut().insert(topic);
    }

    /// Stops receiving `topic` (no confirmation needed: a message that
    /// arrives meanwhile is for a channel without local members, and the
    /// chat server finds nobody to deliver it to).
    pub async fn unsubscribe(&self, topic: Bytes) {
        self.subscribed.borrow_mut().remove(&topic);
        if let Ok(link) = self.live() {
            let _ = link.sub.send(command(&[b"UNSUBSCRIBE", &topic])).await;
        }
    }

    /// The link is gone: nothing is subscribed, nobody waits.
    pub fn forget_subscriptions(&self) {
        self.subscribed.borrow_mut().clear();
        self.sub_waiters.borrow_mut().clear();
    }
}
