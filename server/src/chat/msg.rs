//! Messages between cores. All shared chat state is owned by exactly one
//! core (a nick by `owner(nick)`, a channel by `owner(channel)`, a client by
//! the core it connected to); everything else asks it with one of these.
//! Per pair of cores the transport is FIFO, which is what keeps a channel's
//! order: the owner emits its events in one sequence to each member core.

use bytes::Bytes;

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
    pub multi_prefix: bool,
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
    /// To the nick's owner: register `nick` for `from` (registration or change).
    ClaimNick { nick: String, from: ClientRef },
    /// Back to the client's core.
    NickResult {
        id: ClientId,
        nick: String,
        ok: bool,
    },
    /// To the nick's owner: `from` no longer uses it.
    ReleaseNick { folded: String, from: ClientRef },
    /// To the nick's owner, which forwards it to the client's core as `AtClient`.
    ToNick {
        target: String,
        req: Req,
        op: NickOp,
    },
    AtClient {
        id: ClientId,
        target: String,
        req: Req,
        op: NickOp,
    },
    /// To the channel's owner.
    Chan { chan: String, req: Req, op: ChanOp },
    /// A channel MODE's answer on its way through the owners of `targets`
    /// (+o/+v nicks not in `chan`), each adding 441 or 401 to `lines`.
    CheckNicks {
        req: Req,
        lines: Vec<Bytes>,
        chan: String,
        targets: Vec<String>,
    },
    /// From a channel owner to a core with members: write `line` to them.
    Deliver(Deliver),
    /// Answer lines for client `id`; `done` ends one pending request.
    Reply {
        id: ClientId,
        lines: Vec<Bytes>,
        /// USERHOST answers: (position in the request, `nick=+user@host`).
        frag: Option<(u8, String)>,
        done: bool,
    },
    /// To every core: answer from what you own.
    Scatter { req: Req, op: ScatterOp },
    /// The server is stopping: say goodbye to every local client.
    Shutdown,
}

#[derive(Debug)]
pub enum NickOp {
    Privmsg { line: Bytes, notice: bool },
    Whois,
    Who,
    Userhost { slot: u8 },
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
    Update {
        away: bool,
        invisible: bool,
    },
}

#[derive(Debug)]
pub enum ScatterOp {
    List,
    Who { mask: String },
}

#[derive(Debug, Clone)]
pub struct Deliver {
    /// Folded channel name.
    pub chan: String,
    pub line: Bytes,
    pub except: Option<ClientRef>,
    pub change: Change,
    /// Event id for lines a client must see once although they arrive via
    /// several channels (NICK, QUIT).
    pub dedup: Option<u64>,
}

/// Membership change a member core applies to its local mirror.
#[derive(Debug, Clone)]
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
