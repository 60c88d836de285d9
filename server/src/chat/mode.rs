//! Channel MODE at the owner: query (324/329), the empty ban list (368),
//! and changes to o v t n k s by channel operators.

use bytes::Bytes;

use super::casemap::fold;
use super::msg::{Change, ClientRef, Deliver, Msg, Req};
use super::numerics::*;
use super::parse::LineBuilder;
use super::shard::Shard;

/// One applied change, for the MODE line everyone sees.
struct Applied {
    plus: bool,
    mode: char,
    arg: Option<String>,
}

impl Shard {
    pub(super) fn chan_mode(
        &mut self,
        key: &str,
        req: &Req,
        member: bool,
        args: Vec<String>,
    ) -> Vec<Bytes> {
        let server = self.cfg.name.clone();
        let to = To {
            server: &server,
            nick: &req.nick,
        };
        let Some(ch) = self.chans.get_mut(key) else {
            return Vec::new();
        };
        let name = ch.name.clone();
        let Some(modes) = args.first() else {
            let (m, k) = ch.mode_string(member);
            let mut b = to.num(RPL_CHANNELMODEIS).param(&name).param(m);
            if let Some(k) = k {
                b = b.param(k);
            }
            return vec![
                b.finish(),
                to.num(RPL_CREATIONTIME)
                    .param(&name)
                    .param(ch.created.to_string())
                    .finish(),
            ];
        };
        let ban_list = to.about(RPL_ENDOFBANLIST, &name, "End of channel ban list");
        if modes.trim_start_matches(['+', '-']) == "b" && args.len() == 1 {
            return vec![ban_list];
        }
        if !ch.is_op(req.from) {
            return vec![to.not_op(&name)];
        }
        let mut lines = Vec::new();
        let mut params = args[1..].iter();
        let mut plus = true;
        let mut applied = Vec::new();
        let mut status: Vec<(ClientRef, bool, bool)> = Vec::new();
        for c in modes.chars() {
            match c {
                '+' => plus = true,
                '-' => plus = false,
                'o' | 'v' => {
                    let Some(target) = params.next() else {
                        lines.push(to.need_more_params("MODE"));
                        continue;
                    };
                    let Some(&who) = ch.by_nick.get(&fold(target)) else {
                        lines.push(
                            to.num(ERR_USERNOTINCHANNEL)
                                .param(target)
                                .param(&name)
                                .trailing("They aren't on that channel"),
                        );
                        continue;
                    };
                    let Some(m) = ch.members.get_mut(&who) else {
                        continue;
                    };
                    let flag = if c == 'o' { &mut m.op } else { &mut m.voice };
                    if *flag != plus {
                        *flag = plus;
                        status.push((who, m.op, m.voice));
                        applied.push(Applied {
                            plus,
                            mode: c,
                            arg: Some(m.info.nick.clone()),
                        });
                    }
                }
                'k' => {
                    let arg = params.next();
                    if plus {
                        let Some(k) = arg.filter(|k| !k.is_empty() && !k.contains(',')) else {
                            lines.push(to.need_more_params("MODE"));
                            continue;
                        };
                        ch.key = Some(k.clone());
                        applied.push(Applied {
                            plus,
                            mode: c,
                            arg: Some(k.clone()),
                        });
                    } else if ch.key.take().is_some() {
                        applied.push(Applied {
                            plus,
                            mode: c,
                            arg: Some("*".into()),
                        });
                    }
                }
                't' | 'n' | 's' => {
                    let flag = match c {
                        't' => &mut ch.topic_lock,
                        'n' => &mut ch.no_external,
                        _ => &mut ch.secret,
                    };
                    if *flag != plus {
                        *flag = plus;
                        applied.push(Applied {
                            plus,
                            mode: c,
                            arg: None,
                        });
                    }
                }
                'b' => lines.push(ban_list.clone()),
                _ => lines.push(to.about(
                    ERR_UNKNOWNMODE,
                    c.to_string(),
                    "is unknown mode char to me",
                )),
            }
        }
        if applied.is_empty() {
            return lines;
        }
        let mut modestr = String::new();
        let mut last = None;
        for a in &applied {
            if last != Some(a.plus) {
                modestr.push(if a.plus { '+' } else { '-' });
                last = Some(a.plus);
            }
            modestr.push(a.mode);
        }
        let mut b = LineBuilder::new(Some(req.prefix.as_bytes()), "MODE")
            .param(&name)
            .param(modestr);
        for a in &applied {
            if let Some(arg) = &a.arg {
                b = b.param(arg);
            }
        }
        let line = b.finish();
        let cores: Vec<usize> = ch.member_cores().collect();
        for core in cores {
            // Status changes ride on the MODE line to the target's core so
            // its WHOIS mirror stays current; others just get the line.
            let mut first = true;
            for (who, op, voice) in status.iter().filter(|s| s.0.core == core) {
                let line = if first { line.clone() } else { Bytes::new() };
                first = false;
                let change = Change::Status {
                    who: *who,
                    op: *op,
                    voice: *voice,
                };
                self.post(core, deliver(key, line, change));
            }
            if first {
                self.post(core, deliver(key, line.clone(), Change::None));
            }
        }
        lines
    }
}

fn deliver(key: &str, line: Bytes, change: Change) -> Msg {
    Msg::Deliver(Deliver {
        chan: key.to_string(),
        line,
        except: None,
        change,
        dedup: None,
    })
}
