//! CAP negotiation (<https://ircv3.net/specs/extensions/capability-negotiation>):
//! LS (with values from version 302), LIST, REQ (all or nothing), END.
//! `CAP LS` or `REQ` before registration holds it until `CAP END`.

use super::caps::{self, Cap};
use super::numerics::*;
use super::parse::{echo_word, LineBuilder, Message};
use super::session::Session;
use super::welcome;

pub fn cap(s: &mut Session, m: &Message) {
    let sub = m.param_str(0).unwrap_or("").to_ascii_uppercase();
    match sub.as_str() {
        "LS" => {
            let version = m.param_str(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            hold_registration(s);
            if let Some(c) = s.client_mut() {
                // A 302 client has cap-notify without asking for it.
                if version >= 302 {
                    c.caps.set(Cap::Notify, true);
                }
            }
            send(s, "LS", &caps::ls(version));
        }
        "LIST" => {
            let names = s.client().map(|c| c.caps.names()).unwrap_or_default();
            send(s, "LIST", &names);
        }
        "REQ" => {
            hold_registration(s);
            let want = String::from_utf8_lossy(m.params.get(1).copied().unwrap_or_default());
            req(s, want.trim());
        }
        "END" => {
            if let Some(c) = s.client_mut() {
                c.cap_negotiating = false;
            }
            welcome::try_register(s);
        }
        _ => {
            let sub = echo_word(m.params.first().copied().unwrap_or(b"*")).to_vec();
            s.reply(|to| to.about(ERR_INVALIDCAPCMD, sub, "Invalid CAP command"));
        }
    }
}

fn hold_registration(s: &mut Session) {
    if let Some(c) = s.client_mut().filter(|c| !c.registered) {
        c.cap_negotiating = true;
    }
}

/// `CAP REQ :a -b c`: every name must be known, or nothing changes (NAK).
fn req(s: &mut Session, want: &str) {
    let mut changes: Vec<(Cap, bool)> = Vec::new();
    for w in want.split(' ').filter(|w| !w.is_empty()) {
        let (name, on) = match w.strip_prefix('-') {
            Some(n) => (n, false),
            None => (w, true),
        };
        match Cap::from_name(name) {
            Some(c) => changes.push((c, on)),
            None => return send(s, "NAK", want),
        }
    }
    if let Some(c) = s.client_mut() {
        for (cap, on) in changes {
            c.caps.set(cap, on);
        }
    }
    send(s, "ACK", want);
}

fn send(s: &mut Session, verb: &str, text: &str) {
    let server = s.cfg().name.clone();
    let nick = s.client().map(|c| c.nick_or_star().to_string());
    let l = LineBuilder::new(Some(server.as_bytes()), "CAP")
        .param(nick.as_deref().unwrap_or("*"))
        .param(verb)
        .trailing(text);
    s.send(l);
}
