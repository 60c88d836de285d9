//! Channel MODE as the channel's owner runs it: the query (324/329), the
//! ban list (367/368), and changes to o v b k t n s by channel operators.
//! The MODE line goes out with the common fan-out; a member's op/voice
//! change also goes to that member's core so its WHOIS mirror follows.

use bytes::Bytes;

use super::{ban_mask, Ban, Channel, Effects, MAX_BANS};
use crate::chat::casemap::fold;
use crate::chat::msg::{Change, ClientRef, Req};
use crate::chat::numerics::*;
use crate::chat::parse::{echo_word, LineBuilder};

/// What a MODE request did, while it runs.
#[derive(Default)]
struct ModeOutcome {
    replies: Vec<Bytes>,
    /// Members whose op/voice changed: (member, op, voice).
    status: Vec<(ClientRef, bool, bool)>,
    absent: Vec<String>,
    applied: Vec<Applied>,
}

/// One applied change, for the MODE line everyone sees.
struct Applied {
    plus: bool,
    mode: char,
    arg: Option<String>,
}

impl Channel {
    /// Runs `MODE <chan> args...` from `req`.
    pub fn mode(&mut self, to: &To, req: &Req, args: &[String], now: u64) -> Effects {
        let Some(modes) = args.first() else {
            return Effects::replies(self.mode_query(to, self.is_member(req.from)));
        };
        let listing = modes.trim_start_matches(['+', '-']) == "b" && args.len() == 1;
        if listing {
            return Effects::replies(self.ban_list(to));
        }
        if !self.is_op(req.from) {
            return Effects::reply(to.not_op(&self.name));
        }
        let mut out = ModeOutcome::default();
        let mut params = args[1..].iter();
        let mut plus = true;
        for c in modes.chars() {
            match c {
                '+' => plus = true,
                '-' => plus = false,
                'o' | 'v' => match params.next() {
                    Some(t) => self.mode_status(c, plus, t, &mut out),
                    None => out.replies.push(to.need_more_params("MODE")),
                },
                'k' => self.mode_key(to, plus, params.next(), &mut out),
                'b' => match params.next() {
                    Some(m) => self.mode_ban(to, req, plus, m, now, &mut out),
                    None => out.replies.extend(self.ban_list(to)),
                },
                'l' if plus => match params.next().and_then(|l| l.parse().ok()) {
                    Some(n) if n > 0 => self.mode_limit(Some(n), &mut out),
                    _ => out.replies.push(to.need_more_params("MODE")),
                },
                'l' => self.mode_limit(None, &mut out),
                't' | 'n' | 's' | 'm' | 'i' => {
                    let flag = match c {
                        't' => &mut self.topic_lock,
                        'n' => &mut self.no_external,
                        'm' => &mut self.moderated,
                        'i' => &mut self.invite_only,
                        _ => &mut self.secret,
                    };
                    if *flag != plus {
                        *flag = plus;
                        out.applied.push(Applied {
                            plus,
                            mode: c,
                            arg: None,
                        });
                    }
                }
                _ => out.replies.push(to.about(
                    ERR_UNKNOWNMODE,
                    c.to_string(),
                    "is unknown mode char to me",
                )),
            }
        }
        self.mode_effects(&req.prefix, out)
    }

    fn mode_effects(&self, prefix: &str, out: ModeOutcome) -> Effects {
        let mut fx = Effects::replies(out.replies);
        fx.absent = out.absent;
        if let Some(line) = mode_line(prefix, &self.name, &out.applied) {
            fx.deliver(self.member_cores(), line, Change::None);
        }
        for (who, op, voice) in out.status {
            let change = Change::Status { who, op, voice };
            fx.deliver(vec![who.core], Bytes::new(), change);
        }
        fx
    }

    fn mode_limit(&mut self, limit: Option<usize>, out: &mut ModeOutcome) {
        if self.limit == limit {
            return;
        }
        self.limit = limit;
        out.applied.push(Applied {
            plus: limit.is_some(),
            mode: 'l',
            arg: limit.map(|n| n.to_string()),
        });
    }

    fn mode_query(&self, to: &To, member: bool) -> Vec<Bytes> {
        let (m, params) = self.mode_string(member);
        let mut b = to.num(RPL_CHANNELMODEIS).param(&self.name).param(m);
        for p in params {
            b = b.param(p);
        }
        vec![
            b.finish(),
            to.num(RPL_CREATIONTIME)
                .param(&self.name)
                .param(self.created.to_string())
                .finish(),
        ]
    }

    /// `367` per entry, then `368`.
    fn ban_list(&self, to: &To) -> Vec<Bytes> {
        let mut v: Vec<Bytes> = self
            .bans
            .iter()
            .map(|b| {
                to.num(RPL_BANLIST)
                    .param(&self.name)
                    .param(&b.mask)
                    .param(&b.setter)
                    .param(b.time.to_string())
                    .finish()
            })
            .collect();
        v.push(to.about(RPL_ENDOFBANLIST, &self.name, "End of channel ban list"));
        v
    }

    fn mode_status(&mut self, c: char, plus: bool, target: &str, out: &mut ModeOutcome) {
        let Some(m) = self
            .by_nick
            .get(&fold(target))
            .copied()
            .and_then(|who| Some((who, self.members.get_mut(&who)?)))
        else {
            out.absent.push(target.to_string());
            return;
        };
        let (who, m) = m;
        let flag = if c == 'o' { &mut m.op } else { &mut m.voice };
        if *flag != plus {
            *flag = plus;
            out.status.push((who, m.op, m.voice));
            out.applied.push(Applied {
                plus,
                mode: c,
                arg: Some(m.info.nick.clone()),
            });
        }
    }

    /// `+k key` / `-k`. A key that is empty, blank or holds a space (or a
    /// comma, which would split a JOIN key list) is refused with 525 and
    /// sets nothing (modern.ircdocs.horse, ERR_INVALIDKEY; RFC 2812 has no
    /// such numeric).
    fn mode_key(&mut self, to: &To, plus: bool, arg: Option<&String>, out: &mut ModeOutcome) {
        if !plus {
            if self.key.take().is_some() {
                out.applied.push(Applied {
                    plus,
                    mode: 'k',
                    arg: Some("*".into()),
                });
            }
            return;
        }
        let Some(k) = arg else {
            out.replies.push(to.need_more_params("MODE"));
            return;
        };
        if k.trim().is_empty() || k.contains([' ', ',']) || k.len() > 23 {
            out.replies.push(
                to.num(ERR_INVALIDKEY)
                    .param(&self.name)
                    .trailing("Key is not well-formed"),
            );
            return;
        }
        self.key = Some(k.clone());
        out.applied.push(Applied {
            plus,
            mode: 'k',
            arg: Some(k.clone()),
        });
    }

    fn mode_ban(
        &mut self,
        to: &To,
        req: &Req,
        plus: bool,
        mask: &str,
        now: u64,
        out: &mut ModeOutcome,
    ) {
        let mask = ban_mask(&String::from_utf8_lossy(echo_word(mask.as_bytes())));
        let found = self.bans.iter().position(|b| fold(&b.mask) == fold(&mask));
        match (plus, found) {
            (true, None) if self.bans.len() >= MAX_BANS => out.replies.push(
                to.num(ERR_BANLISTFULL)
                    .param(&self.name)
                    .param(&mask)
                    .trailing("Channel ban list is full"),
            ),
            (true, None) => {
                self.bans.push(Ban {
                    mask: mask.clone(),
                    setter: req.prefix.clone(),
                    time: now,
                });
                out.applied.push(Applied {
                    plus,
                    mode: 'b',
                    arg: Some(mask),
                });
            }
            (false, Some(i)) => {
                let b = self.bans.remove(i);
                out.applied.push(Applied {
                    plus,
                    mode: 'b',
                    arg: Some(b.mask),
                });
            }
            _ => {}
        }
    }
}

/// `:<prefix> MODE <chan> +ov-t a b`, or None when nothing changed.
fn mode_line(prefix: &str, chan: &str, applied: &[Applied]) -> Option<Bytes> {
    if applied.is_empty() {
        return None;
    }
    let mut modestr = String::new();
    let mut last = None;
    for a in applied {
        if last != Some(a.plus) {
            modestr.push(if a.plus { '+' } else { '-' });
            last = Some(a.plus);
        }
        modestr.push(a.mode);
    }
    let mut b = LineBuilder::new(Some(prefix.as_bytes()), "MODE")
        .param(chan)
        .param(modestr);
    for arg in applied.iter().filter_map(|a| a.arg.as_ref()) {
        b = b.param(arg);
    }
    Some(b.finish())
}

/// A MODE change as the cluster sends it to Redis: (`+o`, nick), (`-k`, ``)...
pub type ModeChange = (String, String);

impl Channel {
    /// Clustered MODE from `req`: `Err` with the answer for a query or a
    /// ban-list listing (from this view); else the changes for Redis to
    /// apply (op status is Redis's to check) and the replies about what was
    /// not understood (461, 472, 478, 525).
    pub fn mode_request(
        &self,
        to: &To,
        req: &Req,
        args: &[String],
    ) -> Result<(Vec<ModeChange>, Vec<Bytes>), Vec<Bytes>> {
        let Some(modes) = args.first() else {
            return Err(self.mode_query(to, self.is_member(req.from)));
        };
        if modes.trim_start_matches(['+', '-']) == "b" && args.len() == 1 {
            return Err(self.ban_list(to));
        }
        let (mut changes, mut replies) = (Vec::new(), Vec::new());
        let mut params = args[1..].iter();
        let mut plus = true;
        for c in modes.chars() {
            let sign = if plus { '+' } else { '-' };
            let mut change = |arg: &str| changes.push((format!("{sign}{c}"), arg.to_string()));
            match c {
                '+' | '-' => plus = c == '+',
                'o' | 'v' => match params.next() {
                    Some(t) => change(&fold(t)),
                    None => replies.push(to.need_more_params("MODE")),
                },
                'k' if plus => match params.next() {
                    Some(k) if !k.trim().is_empty() && !k.contains([' ', ',']) && k.len() <= 23 => {
                        change(k)
                    }
                    Some(_) => replies.push(
                        to.num(ERR_INVALIDKEY)
                            .param(&self.name)
                            .trailing("Key is not well-formed"),
                    ),
                    None => replies.push(to.need_more_params("MODE")),
                },
                'k' | 'l' if !plus => change(""),
                'l' => match params.next().and_then(|l| l.parse::<u32>().ok()) {
                    Some(n) if n > 0 => change(&n.to_string()),
                    _ => replies.push(to.need_more_params("MODE")),
                },
                'b' => match params.next() {
                    Some(_) if plus && self.bans.len() >= MAX_BANS => replies.push(
                        to.num(ERR_BANLISTFULL)
                            .param(&self.name)
                            .trailing("Channel ban list is full"),
                    ),
                    Some(m) => change(&ban_mask(&String::from_utf8_lossy(echo_word(m.as_bytes())))),
                    None => replies.extend(self.ban_list(to)),
                },
                't' | 'n' | 's' | 'm' | 'i' => change(""),
                _ => replies.push(to.about(
                    ERR_UNKNOWNMODE,
                    c.to_string(),
                    "is unknown mode char to me",
                )),
            }
        }
        Ok((changes, replies))
    }
}
