//! The numerics that describe a channel: topic (332/333), names (353/366),
//! a LIST entry (322), a WHO entry (352).

use bytes::Bytes;

use super::Channel;
use crate::chat::caps::Caps;
use crate::chat::msg::MemberInfo;
use crate::chat::numerics::*;

/// Longest NAMES / WHOIS channel list payload per line, leaving room for
/// the prefix and the server name within 512 bytes.
pub const LIST_CHUNK: usize = 400;

impl Channel {
    pub(super) fn topic_lines(&self, to: &To) -> Vec<Bytes> {
        let Some(t) = &self.topic else {
            return Vec::new();
        };
        vec![
            to.num(RPL_TOPIC).param(&self.name).trailing(&t.text),
            to.num(RPL_TOPICWHOTIME)
                .param(&self.name)
                .param(&t.setter)
                .param(t.time.to_string())
                .finish(),
        ]
    }

    pub(super) fn names_lines(&self, to: &To, caps: Caps) -> Vec<Bytes> {
        let sym = if self.secret { "@" } else { "=" };
        let line = |names: &str| {
            to.num(RPL_NAMREPLY)
                .param(sym)
                .param(&self.name)
                .trailing(names)
        };
        let mut lines = Vec::new();
        let mut cur = String::new();
        for n in self.nick_list(caps) {
            if !cur.is_empty() && cur.len() + n.len() + 1 > LIST_CHUNK {
                lines.push(line(&cur));
                cur.clear();
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(&n);
        }
        if !cur.is_empty() {
            lines.push(line(&cur));
        }
        lines.push(to.end_of_names(&self.name));
        lines
    }
}

pub fn list_line(to: &To, ch: &Channel) -> Bytes {
    let topic = ch
        .topic
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    to.num(RPL_LIST)
        .param(&ch.name)
        .param(ch.len().to_string())
        .trailing(topic)
}

/// `352 <me> <chan> <user> <host> <server> <nick> <flags> :0 <realname>`
pub fn who_line(to: &To, chan: &str, m: &MemberInfo, flags: &str) -> Bytes {
    to.num(RPL_WHOREPLY)
        .param(chan)
        .param(&m.user)
        .param(&m.host)
        .param(to.server)
        .param(&m.nick)
        .param(flags)
        .trailing(format!("0 {}", m.realname))
}
