//! Messages between cores. All shared chat state is owned by exactly one
//! core (a nick by `owner(nick)`, a channel by `owner(channel)`, a client by
//! the core it connected to); everything else asks it with one of these.
//! Each message names the role it is for: the nick registry, a channel's
//! owner, or a client's home. Per pair of cores the transport is FIFO,
//! which is what keeps a channel's order: the owner emits its events in
//! one sequence to each member core.

use bytes::Bytes;

use super::caps::Cap;
use super::tags::Meta;

pub type ClientId = u64;

/// A client anywhere in the server: its home core and its id there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientRef {
    pub core: usize,
    pub id: ClientId,
}

/// Who asked, so a remote core can address replies to them.
#[derive(Clone, Debug)]
pub struct Req {
    pub from: ClientRef,
    pub nick: String,
    /// `nick!user@host`, the source of lines this request makes others see.
    pub prefix: String,
    pub caps: super::caps::Caps,
}

/// A nick's last user, for WHOWAS.
#[derive(Clone, Debug)]
pub struct Was {
    pub nick: String,
    pub user: String,
    pub host: String,
    pub realname: String,
}

/// What a channel owner keeps about each member (for NAMES, WHO, KICK).
#[derive(Clone, Debug)]
pub struct MemberInfo {
    pub nick: String,
    pub user: String,
    pub host: String,
    pub realname: String,
    pub away: bool,
    pub invisible: bool,
}

#[derive(Debug)]
pub enum Msg {
    /// For the nick registry of the nick's owner.
    Nick(NickMsg),
    /// For the channel's owner.
    Chan { chan: String, req: Req, op: ChanOp },
    /// For a client's home core.
    Home(HomeMsg),
    /// To every core: answer from what you own.
    Scatter { req: Req, op: ScatterOp },
    /// The server is stopping: say goodbye to every local client.
    Shutdown,
}

#[derive(Debug)]
pub enum NickMsg {
    /// Register `nick` for `from` (registration or change).
    Claim { nick: String, from: ClientRef },
    /// `from` no longer uses it; `was` is kept for WHOWAS.
    Release {
        folded: String,
        from: ClientRef,
        was: Option<Was>,
    },
    /// Clustered: `from`'s public information, to share if it holds the nick.
    Profile {
        from: ClientRef,
        profile: crate::cluster::Profile,
    },
    /// WHOWAS: the last `count` users of `nick`.
    Whowas {
        nick: String,
        count: usize,
        req: Req,
    },
    /// MONITOR: start (`on`) or stop telling `from` when `nick` comes and
    /// goes; `answer` asks for its state now, ending that request.
    Watch {
        nick: String,
        from: ClientRef,
        on: bool,
        answer: Option<Req>,
    },
    /// Pass `op` on to the nick's holder (as `HomeMsg::AtClient`).
    Route {
        target: String,
        req: Req,
        op: NickOp,
    },
    /// A channel MODE's answer on its way through the owners of `targets`
    /// (+o/+v nicks not in `chan`), each adding 441 or 401 to `lines`.
    Check {
        req: Req,
        lines: Vec<Bytes>,
        chan: String,
        targets: Vec<String>,
    },
}

#[derive(Debug)]
pub enum HomeMsg {
    /// The registry's answer to a `Claim`.
    NickResult {
        id: ClientId,
        nick: String,
        ok: bool,
    },
    /// MONITOR: `nick` came online or went offline (730/731).
    Monitor {
        id: ClientId,
        nick: String,
        online: bool,
    },
    /// A request routed to local client `id` by its nick.
    AtClient {
        id: ClientId,
        target: String,
        req: Req,
        op: NickOp,
    },
    /// From a channel owner: write `line` to the local members.
    Deliver(Deliver),
    /// Clustered: another node took the client's (folded) nick while
    /// Redis was split; it becomes a guest.
    NickLost { id: ClientId, nick: String },
    /// Clustered: a PRIVMSG/NOTICE/TAGMSG from another node for local
    /// client `id`, with its tags.
    Afar {
        id: ClientId,
        line: Bytes,
        meta: Meta,
        tags_only: bool,
    },
    /// Answer lines for client `id`; `done` ends one pending request.
    Reply {
        id: ClientId,
        lines: Vec<Bytes>,
        /// USERHOST answers: (position in the request, `nick=+user@host`).
        frag: Option<(u8, String)>,
        done: bool,
    },
}

#[derive(Debug)]
pub enum NickOp {
    /// PRIVMSG, NOTICE or TAGMSG (`notice` for the last two: no 401, no 301).
    Privmsg {
        line: Bytes,
        notice: bool,
        meta: Meta,
        /// TAGMSG: only a client with message-tags gets it.
        tags_only: bool,
    },
    Whois,
    Who,
    Userhost {
        slot: u8,
    },
    /// ISON: the nick as its holder spells it, as fragment `slot`.
    Ison {
        slot: u8,
    },
    /// KILL by an operator (`by` is its nick).
    Kill {
        by: String,
        reason: String,
    },
    /// An INVITE to `chan` (the channel owner recorded it).
    Invite {
        line: Bytes,
        chan: String,
    },
}

#[derive(Debug)]
pub enum ChanOp {
    Join {
        info: MemberInfo,
        key: Option<String>,
    },
    Part {
        reason: Option<Bytes>,
    },
    /// `ack: false` for a member's message: the sender does not wait for
    /// it (its messages to one channel keep their order anyway, all going
    /// to one owner), and an error, if any, comes back unacknowledged.
    Privmsg {
        line: Bytes,
        notice: bool,
        ack: bool,
        meta: Meta,
        /// TAGMSG: only members with message-tags get it.
        tags_only: bool,
    },
    Topic {
        set: Option<Bytes>,
        now: u64,
    },
    Names,
    Who,
    List,
    Kick {
        target: String,
        reason: Bytes,
    },
    Mode {
        args: Vec<String>,
        now: u64,
    },
    /// A member left without PART (QUIT, disconnect, or a join that raced a
    /// disconnect). `line` is what the others see; `None` builds one.
    Leave {
        line: Option<Bytes>,
        dedup: Option<u64>,
    },
    NickChange {
        new_nick: String,
        line: Bytes,
        dedup: Option<u64>,
    },
    /// The member's away state, invisibility or realname changed;
    /// `notify` is the line members with the cap see (AWAY, SETNAME).
    Update {
        info: MemberInfo,
        notify: Option<(Cap, Bytes)>,
    },
    Invite {
        target: String,
    },
}

#[derive(Debug)]
pub enum ScatterOp {
    List(ListFilter),
    Who { mask: String },
}

/// LIST conditions (ELIST=MU): `>n` / `<n` members, name masks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub more_than: Option<usize>,
    pub fewer_than: Option<usize>,
    /// Name globs; a channel matches if it matches one (or there are none).
    pub masks: Vec<String>,
}

impl ListFilter {
    /// Parses `>5,<100,#chat*`; None when a term is not understood.
    pub fn parse(terms: &str) -> Option<ListFilter> {
        let mut f = ListFilter::default();
        for t in terms.split(',').filter(|t| !t.is_empty()) {
            if let Some(n) = t.strip_prefix('>') {
                f.more_than = Some(n.parse().ok()?);
            } else if let Some(n) = t.strip_prefix('<') {
                f.fewer_than = Some(n.parse().ok()?);
            } else {
                f.masks.push(t.to_string());
            }
        }
        Some(f)
    }

    pub fn admits(&self, name: &str, members: usize) -> bool {
        self.more_than.is_none_or(|n| members > n)
            && self.fewer_than.is_none_or(|n| members < n)
            && (self.masks.is_empty() || self.masks.iter().any(|m| super::casemap::glob(m, name)))
    }
}

/// A channel event for the members of one core.
#[derive(Debug, Clone)]
pub struct Deliver {
    /// Folded channel name.
    pub chan: String,
    pub event: Event,
}

/// A line a channel's owner sends its members, with what goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub line: Bytes,
    /// A member who does not get the line (the sender of a PRIVMSG).
    pub except: Option<ClientRef>,
    pub change: Change,
    /// Event id for lines a client must see once although they arrive via
    /// several channels (NICK, QUIT).
    pub dedup: Option<u64>,
    /// Tags for the members whose caps want them.
    pub meta: Meta,
    /// What members with this cap get instead of `line` (extended-join,
    /// away-notify: an empty `line` means only they get anything).
    pub alt: Option<(Cap, Bytes)>,
    /// Only channel operators get it (invite-notify).
    pub ops_only: bool,
    /// If not empty, only these members get the line on this core
    /// (clustered: the others get it from the channel's Redis topic).
    pub only: Vec<ClientRef>,
}

/// Membership change a member core applies to its local mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    None,
    /// Applied before writing, so the joiner sees its own JOIN.
    Join {
        who: ClientRef,
        name: String,
        op: bool,
    },
    /// Applied after writing, so the leaver sees its own PART/KICK.
    Leave {
        who: ClientRef,
    },
    Status {
        who: ClientRef,
        op: bool,
        voice: bool,
    },
}

/// alice (`alice!a@h`, "Al"), the member the unit tests of channel and node code join.
#[cfg(test)]
impl MemberInfo {
    pub fn alice() -> MemberInfo {
        MemberInfo {
            nick: "alice".into(),
            user: "a".into(),
            host: "h".into(),
            realname: "Al".into(),
            away: false,
            invisible: false,
        }
    }
}

#[cfg(test)]
impl Req {
    /// A request from alice (see `MemberInfo::alice`), a client `from`.
    pub fn alice(from: ClientRef) -> Req {
        Req {
            from,
            nick: "alice".into(),
            prefix: "alice!a@h".into(),
            caps: Default::default(),
        }
    }
}
