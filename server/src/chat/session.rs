//! One client's line while it runs on its home core: the client, its home
//! and the core's mail, with the few things a command does (reply, ask
//! another core, queue lines to run next, quit). The command modules are
//! functions of a `Session`.

use std::sync::Arc;

use bytes::Bytes;

use super::client::{Client, Finish};
use super::config::Config;
use super::home::Home;
use super::mail::Mail;
use super::msg::{ChanOp, ClientId, ClientRef, Msg, Req};
use super::numerics::To;
use super::parse::Message;

pub struct Session<'a> {
    home: &'a mut Home,
    mail: &'a mut Mail,
    id: ClientId,
}

impl<'a> Session<'a> {
    pub fn new(home: &'a mut Home, mail: &'a mut Mail, id: ClientId) -> Self {
        Session { home, mail, id }
    }

    pub fn home(&self) -> &Home {
        self.home
    }

    pub fn me(&self) -> ClientRef {
        self.home.me(self.id)
    }

    pub fn cfg(&self) -> Arc<Config> {
        self.home.cfg().clone()
    }

    pub fn client(&self) -> Option<&Client> {
        self.home.client(self.id)
    }

    pub fn client_mut(&mut self) -> Option<&mut Client> {
        self.home.client_mut(self.id)
    }

    pub fn mail(&mut self) -> &mut Mail {
        self.mail
    }

    pub fn send(&mut self, line: Bytes) {
        self.home.send(self.mail, self.id, line);
    }

    /// A numeric to the client: `f` gets the `To` for its nick.
    pub fn reply(&mut self, f: impl FnOnce(To) -> Bytes) {
        self.home.reply(self.mail, self.id, f);
    }

    /// A reply line addressed to the client, without sending it.
    pub fn reply_line(&self, f: impl FnOnce(To) -> Bytes) -> Bytes {
        self.home.reply_line(self.id, f).unwrap_or_default()
    }

    pub fn req(&self) -> Req {
        self.home.req(self.id)
    }

    /// A request to `core` that the client waits for before its next line.
    pub fn request(&mut self, core: usize, msg: Msg) {
        self.home.request(self.mail, self.id, core, msg);
    }

    /// A channel operation the client waits for.
    pub fn request_chan(&mut self, chan: String, op: ChanOp) {
        self.home.request_chan(self.mail, self.id, chan, op);
    }

    /// A channel operation the client does not wait for.
    pub fn tell_chan(&mut self, chan: String, op: ChanOp) {
        let req = self.req();
        self.mail.send_chan(chan, req, op);
    }

    /// Asks every core (this one included), waiting for all of them.
    pub fn scatter(&mut self, op: impl Fn() -> super::msg::ScatterOp) {
        for core in 0..self.mail.cores() {
            let req = self.req();
            self.request(core, Msg::Scatter { req, op: op() });
        }
    }

    pub fn pending(&self) -> u32 {
        self.client().map_or(0, |c| c.pending)
    }

    pub fn set_finish(&mut self, f: Finish) {
        if let Some(c) = self.client_mut() {
            c.collected().finish = Some(f);
        }
    }

    /// Collects this command's output under a labeled-response label.
    pub fn begin_label(&mut self, label: Bytes) {
        self.home.begin_label(self.id, label);
    }

    /// Sends `line` after the answers of the requests still pending.
    pub fn send_last(&mut self, line: Bytes) {
        if self.pending() == 0 {
            return self.send(line);
        }
        if let Some(c) = self.client_mut() {
            let collected = c.collected();
            match &mut collected.finish {
                Some(Finish::Lines(v)) => v.push(line),
                _ => collected.finish = Some(Finish::Lines(vec![line])),
            }
        }
    }

    pub fn new_event(&mut self) -> u64 {
        self.home.new_event()
    }

    pub fn quit(&mut self, quit_msg: &str, error: &str) {
        self.home.quit(self.mail, self.id, quit_msg, error);
    }

    /// Queues `lines` to run next, before anything the client sent later.
    pub fn run_next(&mut self, lines: Vec<Vec<u8>>) {
        self.home.run_next(self.id, lines);
    }

    /// Splits `VERB a,b,c rest...` into one line per list item when there is
    /// more than one. Returns true when it did.
    pub fn split_list(&mut self, verb: &str, m: &Message, idx: usize) -> bool {
        let Some(list) = m.params.get(idx) else {
            return false;
        };
        let items: Vec<&[u8]> = list
            .split(|&b| b == b',')
            .filter(|s| !s.is_empty())
            .collect();
        if items.len() <= 1 {
            return false;
        }
        let lines = items
            .iter()
            .map(|item| {
                let mut l = verb.as_bytes().to_vec();
                for (i, p) in m.params.iter().enumerate() {
                    l.push(b' ');
                    if i == m.params.len() - 1 {
                        l.push(b':');
                    }
                    l.extend_from_slice(if i == idx { item } else { p });
                }
                l
            })
            .collect();
        self.run_next(lines);
        true
    }
}
