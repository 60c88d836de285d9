//! Numeric replies. Every builder returns one complete line ending in CRLF,
//! addressed `:<server> <code> <target>`, where target is the client's nick
//! or `*` before it has one. Words a client sent that are echoed back
//! (an unknown verb, a missing target) go through `echo_word`, so a reply
//! never grows past 512 bytes or gains a parameter.

use bytes::Bytes;

use super::parse::{echo_word, LineBuilder};

/// Who a reply is from and to.
#[derive(Clone, Copy)]
pub struct To<'a> {
    pub server: &'a str,
    pub nick: &'a str,
}

impl<'a> To<'a> {
    pub fn new(server: &'a str, nick: Option<&'a str>) -> Self {
        To {
            server,
            nick: nick.unwrap_or("*"),
        }
    }

    /// `:<server> <code> <nick>`, for further params.
    pub fn num(&self, code: &str) -> LineBuilder {
        if let Ok(code) = code.parse::<u16>() {
            crate::metrics::count(|m| m.numeric(code));
        }
        LineBuilder::new(Some(self.server.as_bytes()), code).param(self.nick)
    }

    /// `:<server> <code> <nick> :<text>`
    pub fn text(&self, code: &str, text: impl AsRef<[u8]>) -> Bytes {
        self.num(code).trailing(text)
    }

    /// `:<server> <code> <nick> <subject> :<text>`
    pub fn about(&self, code: &str, subject: impl AsRef<[u8]>, text: &str) -> Bytes {
        self.num(code).param(subject).trailing(text)
    }

    pub fn no_such_nick(&self, target: &[u8]) -> Bytes {
        self.about(ERR_NOSUCHNICK, echo_word(target), "No such nick/channel")
    }
    pub fn no_such_channel(&self, chan: &[u8]) -> Bytes {
        self.about(ERR_NOSUCHCHANNEL, echo_word(chan), "No such channel")
    }
    pub fn cannot_send(&self, chan: &str) -> Bytes {
        self.about(ERR_CANNOTSENDTOCHAN, chan, "Cannot send to channel")
    }
    pub fn need_more_params(&self, verb: &str) -> Bytes {
        self.about(ERR_NEEDMOREPARAMS, verb, "Not enough parameters")
    }
    pub fn not_on_channel(&self, chan: &str) -> Bytes {
        self.about(ERR_NOTONCHANNEL, chan, "You're not on that channel")
    }
    pub fn not_op(&self, chan: &str) -> Bytes {
        self.about(ERR_CHANOPRIVSNEEDED, chan, "You're not channel operator")
    }
    pub fn not_registered(&self) -> Bytes {
        self.text(ERR_NOTREGISTERED, "You have not registered")
    }
    pub fn unknown_command(&self, verb: &[u8]) -> Bytes {
        self.about(ERR_UNKNOWNCOMMAND, echo_word(verb), "Unknown command")
    }
    pub fn erroneous_nick(&self, nick: &[u8]) -> Bytes {
        self.about(ERR_ERRONEUSNICKNAME, echo_word(nick), "Erroneous nickname")
    }
    pub fn input_too_long(&self) -> Bytes {
        self.text(ERR_INPUTTOOLONG, "Input line was too long")
    }
    pub fn end_of_who(&self, mask: &str) -> Bytes {
        self.about(RPL_ENDOFWHO, mask, "End of /WHO list")
    }
    pub fn end_of_names(&self, chan: &str) -> Bytes {
        self.about(RPL_ENDOFNAMES, chan, "End of /NAMES list")
    }
}

pub const RPL_WELCOME: &str = "001";
pub const RPL_YOURHOST: &str = "002";
pub const RPL_CREATED: &str = "003";
pub const RPL_MYINFO: &str = "004";
pub const RPL_ISUPPORT: &str = "005";
pub const RPL_UMODEIS: &str = "221";
pub const RPL_LUSERCLIENT: &str = "251";
pub const RPL_LUSEROP: &str = "252";
pub const RPL_LUSERUNKNOWN: &str = "253";
pub const RPL_LUSERCHANNELS: &str = "254";
pub const RPL_LUSERME: &str = "255";
pub const RPL_LOCALUSERS: &str = "265";
pub const RPL_GLOBALUSERS: &str = "266";
pub const RPL_AWAY: &str = "301";
pub const RPL_USERHOST: &str = "302";
pub const RPL_UNAWAY: &str = "305";
pub const RPL_NOWAWAY: &str = "306";
pub const RPL_WHOISUSER: &str = "311";
pub const RPL_WHOISSERVER: &str = "312";
pub const RPL_WHOISOPERATOR: &str = "313";
pub const RPL_ENDOFWHO: &str = "315";
pub const RPL_WHOISIDLE: &str = "317";
pub const RPL_ENDOFWHOIS: &str = "318";
pub const RPL_WHOISCHANNELS: &str = "319";
pub const RPL_LISTSTART: &str = "321";
pub const RPL_LIST: &str = "322";
pub const RPL_LISTEND: &str = "323";
pub const RPL_CHANNELMODEIS: &str = "324";
pub const RPL_CREATIONTIME: &str = "329";
pub const RPL_NOTOPIC: &str = "331";
pub const RPL_TOPIC: &str = "332";
pub const RPL_TOPICWHOTIME: &str = "333";
pub const RPL_WHOREPLY: &str = "352";
pub const RPL_NAMREPLY: &str = "353";
pub const RPL_ENDOFNAMES: &str = "366";
pub const RPL_ENDOFBANLIST: &str = "368";
pub const RPL_MOTD: &str = "372";
pub const RPL_MOTDSTART: &str = "375";
pub const RPL_ENDOFMOTD: &str = "376";
pub const ERR_NOSUCHNICK: &str = "401";
pub const ERR_NOSUCHCHANNEL: &str = "403";
pub const ERR_CANNOTSENDTOCHAN: &str = "404";
pub const ERR_TOOMANYCHANNELS: &str = "405";
pub const ERR_NOORIGIN: &str = "409";
pub const ERR_INVALIDCAPCMD: &str = "410";
pub const ERR_NORECIPIENT: &str = "411";
pub const ERR_NOTEXTTOSEND: &str = "412";
pub const ERR_INPUTTOOLONG: &str = "417";
pub const ERR_UNKNOWNCOMMAND: &str = "421";
pub const ERR_NOMOTD: &str = "422";
pub const ERR_NONICKNAMEGIVEN: &str = "431";
pub const ERR_ERRONEUSNICKNAME: &str = "432";
pub const ERR_NICKNAMEINUSE: &str = "433";
pub const ERR_USERNOTINCHANNEL: &str = "441";
pub const ERR_NOTONCHANNEL: &str = "442";
pub const ERR_NOTREGISTERED: &str = "451";
pub const ERR_NEEDMOREPARAMS: &str = "461";
pub const ERR_ALREADYREGISTERED: &str = "462";
pub const ERR_PASSWDMISMATCH: &str = "464";
pub const ERR_UNKNOWNMODE: &str = "472";
pub const ERR_BADCHANNELKEY: &str = "475";
pub const ERR_CHANOPRIVSNEEDED: &str = "482";
pub const RPL_BANLIST: &str = "367";
pub const ERR_BANNEDFROMCHAN: &str = "474";
pub const ERR_CHANNELISFULL: &str = "471";
pub const ERR_INVITEONLYCHAN: &str = "473";
pub const ERR_USERONCHANNEL: &str = "443";
pub const ERR_UNAVAILRESOURCE: &str = "437";
pub const RPL_INVITING: &str = "341";
pub const RPL_ISON: &str = "303";
pub const RPL_WHOWASUSER: &str = "314";
pub const RPL_ENDOFWHOWAS: &str = "369";
pub const ERR_WASNOSUCHNICK: &str = "406";
pub const RPL_YOUREOPER: &str = "381";
pub const ERR_NOOPERHOST: &str = "491";
pub const ERR_NOPRIVILEGES: &str = "481";
pub const RPL_MONONLINE: &str = "730";
pub const RPL_MONOFFLINE: &str = "731";
pub const RPL_MONLIST: &str = "732";
pub const RPL_ENDOFMONLIST: &str = "733";
pub const ERR_MONLISTFULL: &str = "734";
pub const ERR_BANLISTFULL: &str = "478";
pub const ERR_INVALIDKEY: &str = "525";
pub const ERR_UMODEUNKNOWNFLAG: &str = "501";
pub const ERR_USERSDONTMATCH: &str = "502";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_star_before_nick() {
        let to = To::new("irc.local", None);
        assert_eq!(
            &to.not_registered()[..],
            b":irc.local 451 * :You have not registered\r\n"
        );
        let to = To::new("irc.local", Some("bob"));
        assert_eq!(
            &to.no_such_nick(b"al")[..],
            b":irc.local 401 bob al :No such nick/channel\r\n"
        );
    }
}
