//! IRCv3 capabilities (https://ircv3.net/specs/extensions/capability-negotiation):
//! the ones this server offers, and the set a client has enabled.

/// A capability the server offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    MultiPrefix,
    UserhostInNames,
    Notify,
    MessageTags,
    ServerTime,
    EchoMessage,
    AwayNotify,
    ExtendedJoin,
    InviteNotify,
    Chghost,
    Setname,
    Batch,
    LabeledResponse,
}

/// Every offered capability: its name and, for `CAP LS 302`, its value.
/// No accounts exist, so no `account-tag`/`account-notify`, and no SASL.
/// `chghost` is offered for clients that expect it; hosts never change
/// here, so it sends nothing. `cap-notify` likewise: the set never changes.
const OFFERED: &[(Cap, &str, Option<&str>)] = &[
    (Cap::MultiPrefix, "multi-prefix", None),
    (Cap::UserhostInNames, "userhost-in-names", None),
    (Cap::Notify, "cap-notify", None),
    (Cap::MessageTags, "message-tags", None),
    (Cap::ServerTime, "server-time", None),
    (Cap::EchoMessage, "echo-message", None),
    (Cap::AwayNotify, "away-notify", None),
    (Cap::ExtendedJoin, "extended-join", None),
    (Cap::InviteNotify, "invite-notify", None),
    (Cap::Chghost, "chghost", None),
    (Cap::Setname, "setname", Some("len=128")),
    (Cap::Batch, "batch", None),
    (Cap::LabeledResponse, "labeled-response", None),
];

impl Cap {
    pub fn from_name(name: &str) -> Option<Cap> {
        OFFERED
            .iter()
            .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
            .map(|(c, _, _)| *c)
    }

    pub fn name(self) -> &'static str {
        OFFERED
            .iter()
            .find(|(c, _, _)| *c == self)
            .map_or("", |(_, n, _)| *n)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// The capabilities one client has enabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps(u32);

impl Caps {
    pub fn has(self, c: Cap) -> bool {
        self.0 & c.bit() != 0
    }

    pub fn set(&mut self, c: Cap, on: bool) {
        if on {
            self.0 |= c.bit();
        } else {
            self.0 &= !c.bit();
        }
    }

    /// Names of the enabled capabilities, space-separated (CAP LIST).
    pub fn names(self) -> String {
        let v: Vec<&str> = OFFERED
            .iter()
            .filter(|(c, _, _)| self.has(*c))
            .map(|(_, n, _)| *n)
            .collect();
        v.join(" ")
    }
}

/// `CAP LS` payload; with version 302 or later, values are included.
pub fn ls(version: u32) -> String {
    let v: Vec<String> = OFFERED
        .iter()
        .map(|(_, n, val)| match val {
            Some(val) if version >= 302 => format!("{n}={val}"),
            _ => n.to_string(),
        })
        .collect();
    v.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_list() {
        let mut c = Caps::default();
        assert!(!c.has(Cap::MultiPrefix));
        c.set(Cap::MultiPrefix, true);
        assert_eq!(c.names(), "multi-prefix");
        c.set(Cap::MultiPrefix, false);
        assert_eq!(c.names(), "");
        assert_eq!(Cap::from_name("MULTI-PREFIX"), Some(Cap::MultiPrefix));
        assert_eq!(Cap::from_name("sasl"), None);
    }

    #[test]
    fn values_only_from_302() {
        assert!(ls(301).contains(" setname "));
        assert!(ls(302).contains(" setname=len=128 "));
        assert!(ls(302).starts_with("multi-prefix userhost-in-names cap-notify"));
    }
}
