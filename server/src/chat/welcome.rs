//! Completing registration: the welcome burst (001-005), LUSERS and MOTD.

use super::counters::Counters;
use super::numerics::*;
use super::register::{CHANLIMIT, CHANNELLEN, NICKLEN};
use super::session::Session;

const VERSION: &str = concat!("uringo-", env!("CARGO_PKG_VERSION"));

/// Completes registration once NICK (granted), USER and CAP END are in.
pub fn try_register(s: &mut Session) {
    let cfg = s.cfg();
    let Some(c) = s.client_mut() else {
        return;
    };
    if c.registered || c.cap_negotiating || c.nick().is_none() || !c.has_user() {
        return;
    }
    if let Some(want) = &cfg.password {
        if c.pass() != Some(want.as_bytes()) {
            s.reply(|to| to.text(ERR_PASSWDMISMATCH, "Password incorrect"));
            return s.quit("Bad password", "Bad password");
        }
    }
    c.registered = true;
    c.set_pass(None);
    let prefix = c.prefix().to_string();
    let k = s.home().counters().clone();
    Counters::add(&k.unknown, -1);
    Counters::add(&k.users, 1);
    let users = Counters::get(&k.users);
    k.max_users
        .fetch_max(users, std::sync::atomic::Ordering::Relaxed);
    let net = &cfg.network;
    s.reply(|to| {
        let text = format!("Welcome to the {net} IRC Network {prefix}");
        to.text(RPL_WELCOME, text)
    });
    s.reply(|to| {
        let text = format!("Your host is {}, running version {VERSION}", cfg.name);
        to.text(RPL_YOURHOST, text)
    });
    s.reply(|to| {
        to.text(
            RPL_CREATED,
            format!("This server was created {}", cfg.created),
        )
    });
    s.reply(|to| {
        to.num(RPL_MYINFO)
            .param(&cfg.name)
            .param(VERSION)
            .param(USER_MODES)
            .param(CHAN_MODES)
            .finish()
    });
    isupport(s, net);
    lusers(s);
    motd(s);
    super::bridge_users::share_profile(s);
}

/// User modes the server knows (004).
const USER_MODES: &str = "io";
/// Channel modes the server knows (004).
const CHAN_MODES: &str = "biklmnostv";

fn isupport(s: &mut Session, network: &str) {
    let tokens = [
        "CASEMAPPING=rfc1459".to_string(),
        "CHANTYPES=#".into(),
        format!("CHANLIMIT=#:{CHANLIMIT}"),
        format!("CHANNELLEN={CHANNELLEN}"),
        format!("NICKLEN={NICKLEN}"),
        "PREFIX=(ov)@+".into(),
        "MAXLIST=b:100".into(),
        "CHANMODES=b,k,l,imnst".into(),
        "ELIST=MU".into(),
        format!("MONITOR={}", super::monitor::LIMIT),
        format!("NETWORK={network}"),
        "MODES=4".into(),
        "TARGMAX=PRIVMSG:4,NOTICE:4,JOIN:,PART:,NAMES:,LIST:,USERHOST:5".into(),
    ];
    s.reply(|to| {
        let mut b = to.num(RPL_ISUPPORT);
        for t in &tokens {
            b = b.param(t);
        }
        b.trailing("are supported by this server")
    });
}

pub fn lusers(s: &mut Session) {
    let k = s.home().counters().clone();
    let users = Counters::get(&k.users);
    let inv = Counters::get(&k.invisible);
    let opers = Counters::get(&k.opers).to_string();
    let unknown = Counters::get(&k.unknown).to_string();
    let chans = Counters::get(&k.channels).to_string();
    let max = Counters::get(&k.max_users).max(users);
    let counts = format!("Current users {users}, max {max}");
    let visible = users - inv;
    s.reply(|to| {
        let text = format!("There are {visible} users and {inv} invisible on 1 servers");
        to.text(RPL_LUSERCLIENT, text)
    });
    s.reply(|to| to.about(RPL_LUSEROP, opers, "operator(s) online"));
    s.reply(|to| to.about(RPL_LUSERUNKNOWN, unknown, "unknown connection(s)"));
    s.reply(|to| to.about(RPL_LUSERCHANNELS, chans, "channels formed"));
    s.reply(|to| to.text(RPL_LUSERME, format!("I have {users} clients and 0 servers")));
    for code in [RPL_LOCALUSERS, RPL_GLOBALUSERS] {
        s.reply(|to| {
            to.num(code)
                .param(users.to_string())
                .param(max.to_string())
                .trailing(&counts)
        });
    }
}

pub fn motd(s: &mut Session) {
    let cfg = s.cfg();
    let Some(motd) = &cfg.motd else {
        return s.reply(|to| to.text(ERR_NOMOTD, "MOTD File is missing"));
    };
    s.reply(|to| {
        let text = format!("- {} Message of the day - ", cfg.name);
        to.text(RPL_MOTDSTART, text)
    });
    for l in motd {
        s.reply(|to| to.text(RPL_MOTD, format!("- {l}")));
    }
    s.reply(|to| to.text(RPL_ENDOFMOTD, "End of /MOTD command."));
}
