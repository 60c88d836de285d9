//! The Lua scripts that change cluster state in Redis, each atomically.
//!
//! Every script takes the key prefix as `ARGV[1]` and builds its key names
//! from it, which a single Redis server allows (a Redis Cluster would need
//! every key declared; this backplane targets one Redis server). Scripts
//! that change a channel publish the change on the channel's topic inside
//! the same script, so a JOIN, MODE or KICK is ordered with the channel's
//! messages exactly as Redis applied it.
//!
//! Keys (`P` = prefix):
//! - `P nick:<nick>` → owner id; the claim, with a `PX` lease.
//! - `P nodes` → sorted set of owner ids scored by lease end (Redis time, ms).
//! - `P chan:<c>` → hash: `name` (as its creator spelled it), `modes`,
//!   `key`, `limit`, `topic`, `topic_by`, `topic_at`, `created`.
//! - `P members:<c>` → hash: nick → `"<owner> <flags> <nick!user@host> <realname>"`
//!   (flags `@`, `+`, `@+` or `-`; the realname may hold spaces).
//! - `P bans:<c>` → hash: mask → `"<setter> <time>"`; `P invites:<c>` → set.
//! - `P chans` → set of every channel (LIST); `P chans-of:<nick>` and
//!   `P chans-by:<owner>` → sets of channel names (the indexes QUIT, NICK and
//!   the reaper walk).
//!
//! Published payloads are [`super::wire::Envelope`]s:
//! `KIND origin subject extra chans line`.

/// Helpers shared by every script (prepended to each).
const PRELUDE: &str = r#"
local P = ARGV[1]
local MEMBER = '^(%S+) (%S+) (%S+) ?(.*)$'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function member(c, n)
  local v = redis.call('HGET', P..'members:'..c, n)
  if not v then return nil end
  local o, f, p, r = string.match(v, MEMBER)
  return {owner = o, flags = f, prefix = p, realname = r or ''}
end
local function pack(o, f, p, r) return o..' '..f..' '..p..' '..(r or '') end
local function envelope(kind, origin, subject, extra, chans, line)
  return kind..' '..origin..' '..subject..' '..extra..' '..chans..' '..line
end
local function is_op(m) return m ~= nil and string.find(m.flags, '@', 1, true) ~= nil end
local function modes_of(c) return redis.call('HGET', P..'chan:'..c, 'modes') or '' end
local function exists(c) return redis.call('EXISTS', P..'chan:'..c) == 1 end
local function glob(mask, s)
  local pat = string.gsub(mask, '[%^%$%(%)%%%.%[%]%+%-%?%*]', function(ch)
    if ch == '*' then return '.*' elseif ch == '?' then return '.' else return '%'..ch end
  end)
  return string.find(s, '^'..pat..'$') ~= nil
end
-- The member `n` of channel `c`, or nil and 403 (no channel) / 442 (not on it).
local function on_channel(c, n)
  if not exists(c) then return nil, 403 end
  local m = member(c, n)
  if not m then return nil, 442 end
  return m
end
local function remove_member(c, n)
  redis.call('HDEL', P..'members:'..c, n)
  redis.call('SREM', P..'chans-of:'..n, c)
  if redis.call('HLEN', P..'members:'..c) == 0 then
    redis.call('DEL', P..'chan:'..c, P..'members:'..c, P..'bans:'..c, P..'invites:'..c)
    redis.call('SREM', P..'chans', c)
  end
end
local function create(c, name)
  redis.call('HSET', P..'chan:'..c, 'name', name, 'modes', 'nt', 'created', math.floor(now_ms() / 1000))
  redis.call('SADD', P..'chans', c)
end
local function name_of(c) return redis.call('HGET', P..'chan:'..c, 'name') or c end
-- {name, modes, key, limit, topic, topic_by, topic_at, created,
--  {nick, flags, prefix, owner, realname, ...}, {mask, setter, time, ...}}
local function state_of(c)
  local st = redis.call('HMGET', P..'chan:'..c, 'name', 'modes', 'key', 'limit', 'topic', 'topic_by', 'topic_at', 'created')
  local members = {}
  local all = redis.call('HGETALL', P..'members:'..c)
  for i = 1, #all, 2 do
    local o, f, p, r = string.match(all[i + 1], MEMBER)
    for _, x in ipairs({all[i], f, p, o, r or ''}) do members[#members + 1] = x end
  end
  local bans = {}
  local b = redis.call('HGETALL', P..'bans:'..c)
  for i = 1, #b, 2 do
    local setter, t = string.match(b[i + 1], '^(%S+) (%S+)$')
    for _, x in ipairs({b[i], setter or '*', t or '0'}) do bans[#bans + 1] = x end
  end
  st[1] = st[1] or c
  for i = 2, 8 do st[i] = st[i] or false end
  st[9] = members
  st[10] = bans
  return st
end
local function to_channel(c, payload) redis.call('PUBLISH', P..'topic:'..c, payload) end
local function to_network(payload) redis.call('PUBLISH', P..'network', payload) end
"#;

/// ARGV: P, nick, owner, lease_ms. 1 = claimed (or already ours), 0 = taken.
const CLAIM: &str = r#"
local k = P..'nick:'..ARGV[2]
local v = redis.call('GET', k)
if not v then redis.call('SET', k, ARGV[3], 'PX', ARGV[4]) return 1 end
if v == ARGV[3] then redis.call('PEXPIRE', k, ARGV[4]) return 1 end
return 0
"#;

/// ARGV: P, owner, lease_ms, nicks... Renews the owner's node lease and
/// every nick still its own; re-claims nicks whose key vanished (a Redis
/// restart). Returns the nicks another owner now holds.
const RENEW: &str = r#"
redis.call('ZADD', P..'nodes', now_ms() + tonumber(ARGV[3]), ARGV[2])
local lost = {}
for i = 4, #ARGV do
  local k = P..'nick:'..ARGV[i]
  local v = redis.call('GET', k)
  if v == ARGV[2] then redis.call('PEXPIRE', k, ARGV[3])
  elseif not v then redis.call('SET', k, ARGV[2], 'PX', ARGV[3])
  else lost[#lost + 1] = ARGV[i] end
end
return lost
"#;

/// ARGV: P, old, new, owner, lease_ms, new_prefix, line. 1 = renamed, 0 = new taken.
const RENAME: &str = r#"
local old, new, owner = ARGV[2], ARGV[3], ARGV[4]
local nk = P..'nick:'..new
local v = redis.call('GET', nk)
if v and v ~= owner then return 0 end
if old ~= new and redis.call('GET', P..'nick:'..old) == owner then redis.call('DEL', P..'nick:'..old) end
redis.call('SET', nk, owner, 'PX', ARGV[5])
local chans = redis.call('SMEMBERS', P..'chans-of:'..old)
for _, c in ipairs(chans) do
  local m = member(c, old)
  if m then
    redis.call('HDEL', P..'members:'..c, old)
    redis.call('HSET', P..'members:'..c, new, pack(m.owner, m.flags, ARGV[6], m.realname))
  end
end
if #chans > 0 and old ~= new then redis.call('RENAME', P..'chans-of:'..old, P..'chans-of:'..new) end
if #chans > 0 then to_network(envelope('NICK', owner, old, ARGV[6], table.concat(chans, ','), ARGV[7])) end
return 1
"#;

/// ARGV: P, nick, owner, line. Frees the nick, leaves every channel, and
/// (if `line` is not empty) publishes the QUIT. Returns the channels left.
const QUIT: &str = r#"
local n, owner = ARGV[2], ARGV[3]
local k = P..'nick:'..n
if redis.call('GET', k) == owner then redis.call('DEL', k) end
local chans = redis.call('SMEMBERS', P..'chans-of:'..n)
for _, c in ipairs(chans) do remove_member(c, n) end
redis.call('DEL', P..'chans-of:'..n)
if #chans > 0 and ARGV[4] ~= '' then
  to_network(envelope('QUIT', owner, n, '-', table.concat(chans, ','), ARGV[4]))
end
return chans
"#;

/// ARGV: P, chan, nick, owner, prefix, key, line, [name, realname, want_state].
/// Returns {code, flags, created[, state]}: code 0 joined, 1 already a
/// member, or the refusal numeric; `state` (see `state_of`) if asked for.
/// An empty `line` is built here: `:prefix JOIN <name> * :<realname>`.
const JOIN: &str = r#"
local c, n, owner = ARGV[2], ARGV[3], ARGV[4]
if member(c, n) then return {1, '', 0} end
local ck = P..'chan:'..c
local created = 0
if not exists(c) then
  created = 1
  create(c, ARGV[8] or c)
else
  local st = redis.call('HMGET', ck, 'modes', 'key', 'limit')
  local invited = redis.call('SISMEMBER', P..'invites:'..c, n) == 1
  local who = string.lower(ARGV[5])
  if not invited then
    for _, mask in ipairs(redis.call('HKEYS', P..'bans:'..c)) do
      if glob(string.lower(mask), who) then return {474, '', 0} end
    end
    if string.find(st[1] or '', 'i', 1, true) then return {473, '', 0} end
  end
  if st[2] and st[2] ~= ARGV[6] then return {475, '', 0} end
  if st[3] and redis.call('HLEN', P..'members:'..c) >= tonumber(st[3]) then return {471, '', 0} end
end
local flags = '-'
if created == 1 then flags = '@' end
redis.call('HSET', P..'members:'..c, n, pack(owner, flags, ARGV[5], ARGV[9]))
redis.call('SADD', P..'chans-of:'..n, c)
redis.call('SADD', P..'chans-by:'..owner, c)
redis.call('SREM', P..'invites:'..c, n)
local line = ARGV[7]
if line == '' then line = ':'..ARGV[5]..' JOIN '..name_of(c)..' * :'..(ARGV[9] or '') end
to_channel(c, envelope('JOIN', owner, n, flags, c, line))
if ARGV[10] == '1' then return {0, flags, created, state_of(c)} end
return {0, flags, created}
"#;

/// ARGV: P, chan, nick, owner, line. 0, 403 or 442.
const PART: &str = r#"
local c, n = ARGV[2], ARGV[3]
local m, err = on_channel(c, n)
if not m then return err end
remove_member(c, n)
to_channel(c, envelope('PART', ARGV[4], n, '-', c, ARGV[5]))
return 0
"#;

/// ARGV: P, chan, by, target, owner, line. 0, 403, 442, 482 or 441.
const KICK: &str = r#"
local c, by, t = ARGV[2], ARGV[3], ARGV[4]
local b, err = on_channel(c, by)
if not b then return err end
if not is_op(b) then return 482 end
if not member(c, t) then return 441 end
remove_member(c, t)
to_channel(c, envelope('KICK', ARGV[5], t, by, c, ARGV[6]))
return 0
"#;

/// ARGV: P, chan, by, text, setter, owner, line. 0, 403, 442 or 482.
/// The envelope's `extra` is the topic's time (s), the same on every node.
const TOPIC: &str = r#"
local c, by = ARGV[2], ARGV[3]
local b, err = on_channel(c, by)
if not b then return err end
if string.find(modes_of(c), 't', 1, true) and not is_op(b) then return 482 end
local at = math.floor(now_ms() / 1000)
redis.call('HSET', P..'chan:'..c, 'topic', ARGV[4], 'topic_by', ARGV[5], 'topic_at', at)
to_channel(c, envelope('TOPIC', ARGV[6], by, at, c, ARGV[7]))
return 0
"#;

/// ARGV: P, chan, by, owner, prefix, then pairs ("+o", "nick"), ("-k", "").
/// A +o/+v target is its folded nick; the line shows it as its member spells it.
/// Returns {code, line, missing...}: code 0 (line = the MODE line as
/// applied, '' if nothing changed), 403, 442 or 482; `missing` are the
/// nicks of +o/+v targets not on the channel (441 each). The envelope's
/// `extra` is the time (s), which new bans carry.
const MODE: &str = r#"
local c, by = ARGV[2], ARGV[3]
local b, err = on_channel(c, by)
if not b then return {err, ''} end
if not is_op(b) then return {482, ''} end
local ck = P..'chan:'..c
local modes = modes_of(c)
local at = math.floor(now_ms() / 1000)
local out, args, missing, last = '', {}, {}, ''
local function applied(sign, m, arg)
  if sign ~= last then out = out..sign last = sign end
  out = out..m
  if arg ~= '' then args[#args + 1] = arg end
end
for i = 6, #ARGV - 1, 2 do
  local sign, m, arg = string.sub(ARGV[i], 1, 1), string.sub(ARGV[i], 2, 2), ARGV[i + 1]
  if m == 'o' or m == 'v' then
    local t = member(c, arg)
    if not t then missing[#missing + 1] = arg else
      local sym = (m == 'o') and '@' or '+'
      local f = string.gsub(t.flags, '[-%'..sym..']', '')
      if sign == '+' then f = f..sym end
      if f == '' then f = '-' end
      if f ~= t.flags then
        redis.call('HSET', P..'members:'..c, arg, pack(t.owner, f, t.prefix, t.realname))
        applied(sign, m, string.match(t.prefix, '^([^!]+)') or arg)
      end
    end
  elseif m == 'k' or m == 'l' then
    local field = (m == 'k') and 'key' or 'limit'
    if sign == '+' then redis.call('HSET', ck, field, arg) applied(sign, m, arg)
    elseif redis.call('HDEL', ck, field) == 1 then applied(sign, m, (m == 'k') and '*' or '') end
  elseif m == 'b' then
    local changed = (sign == '+') and redis.call('HSETNX', P..'bans:'..c, arg, ARGV[5]..' '..at) or redis.call('HDEL', P..'bans:'..c, arg)
    if changed == 1 then applied(sign, m, arg) end
  else
    local has = string.find(modes, m, 1, true) ~= nil
    if sign == '+' and not has then modes = modes..m applied(sign, m, '')
    elseif sign == '-' and has then modes = string.gsub(modes, m, '') applied(sign, m, '') end
  end
end
redis.call('HSET', ck, 'modes', modes)
local line = ''
if out ~= '' then
  line = ':'..ARGV[5]..' MODE '..name_of(c)..' '..out
  if #args > 0 then line = line..' '..table.concat(args, ' ') end
  to_channel(c, envelope('MODE', ARGV[4], by, at, c, line))
end
local reply = {0, line}
for _, n in ipairs(missing) do reply[#reply + 1] = n end
return reply
"#;

/// ARGV: P, chan, by, target. 0, 403, 442, 482 (+i and not op) or 443.
const INVITE: &str = r#"
local c, by, t = ARGV[2], ARGV[3], ARGV[4]
local b, err = on_channel(c, by)
if not b then return err end
if string.find(modes_of(c), 'i', 1, true) and not is_op(b) then return 482 end
if member(c, t) then return 443 end
redis.call('SADD', P..'invites:'..c, t)
return 0
"#;

/// ARGV: P, chan. Returns {} if the channel does not exist, else its
/// `state_of` (name, modes, key, limit, topic, topic_by, topic_at,
/// created, members, bans).
const STATE: &str = r#"
local c = ARGV[2]
if not exists(c) then return {} end
return state_of(c)
"#;

/// ARGV: P, chan, nick, owner, kind, line. `nick` (a member joined through
/// `owner`) leaves `chan`; the envelope `kind` (PART or QUIT) carries
/// `line`. 0, or 442 if it was not such a member.
const LEAVE: &str = r#"
local c, n, owner = ARGV[2], ARGV[3], ARGV[4]
local m = member(c, n)
if not m or m.owner ~= owner then return 442 end
remove_member(c, n)
to_channel(c, envelope(ARGV[5], owner, n, '-', c, ARGV[6]))
return 0
"#;

/// ARGV: P, chan, old, new, owner, new_prefix, line. The member `old`
/// (joined through `owner`) of `chan` is now `new`, keeping its status;
/// publishes the NICK line on the channel. 0, or 442.
const RENAME_IN: &str = r#"
local c, old, new, owner = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local m = member(c, old)
if not m or m.owner ~= owner then return 442 end
redis.call('HDEL', P..'members:'..c, old)
redis.call('HSET', P..'members:'..c, new, pack(owner, m.flags, ARGV[6], m.realname))
redis.call('SREM', P..'chans-of:'..old, c)
redis.call('SADD', P..'chans-of:'..new, c)
to_channel(c, envelope('NICK', owner, old, ARGV[6], c, ARGV[7]))
return 0
"#;

/// ARGV: P, nick, owner. Frees the nick if `owner` holds it (its channel
/// memberships leave through LEAVE, channel by channel).
const RELEASE: &str = r#"
local k = P..'nick:'..ARGV[2]
if redis.call('GET', k) == ARGV[3] then redis.call('DEL', k) end
return 0
"#;

/// ARGV: P, nick. Every channel: {name, members, topic, modes, nick is a
/// member (0/1), ...}.
const LIST: &str = r#"
local out = {}
for _, c in ipairs(redis.call('SMEMBERS', P..'chans')) do
  local st = redis.call('HMGET', P..'chan:'..c, 'name', 'topic', 'modes')
  local isin = redis.call('HEXISTS', P..'members:'..c, ARGV[2])
  for _, x in ipairs({st[1] or c, redis.call('HLEN', P..'members:'..c), st[2] or '', st[3] or '', isin}) do
    out[#out + 1] = x
  end
end
return out
"#;

/// ARGV: P, nick, payload. Publishes to the inbox of the nick's owner:
/// 1, or 0 if nobody holds the nick (401).
const DIRECT: &str = r#"
local o = redis.call('GET', P..'nick:'..ARGV[2])
if not o then return 0 end
redis.call('PUBLISH', P..'inbox:'..o, ARGV[3])
return 1
"#;

/// ARGV: P. Removes the members of every owner whose lease ended and
/// publishes a QUIT for each of their users. Returns how many owners.
const REAP: &str = r#"
local dead = redis.call('ZRANGEBYSCORE', P..'nodes', '-inf', now_ms())
for _, o in ipairs(dead) do
  local gone, prefixes, order = {}, {}, {}
  for _, c in ipairs(redis.call('SMEMBERS', P..'chans-by:'..o)) do
    local all = redis.call('HGETALL', P..'members:'..c)
    for i = 1, #all, 2 do
      local mo, f, p = string.match(all[i + 1], MEMBER)
      if mo == o then
        local n = all[i]
        remove_member(c, n)
        if not gone[n] then gone[n] = {} order[#order + 1] = n end
        table.insert(gone[n], c)
        prefixes[n] = p
      end
    end
  end
  for _, n in ipairs(order) do
    to_network(envelope('QUIT', o, n, '-', table.concat(gone[n], ','), ':'..prefixes[n]..' QUIT :*.net *.split'))
  end
  redis.call('DEL', P..'chans-by:'..o)
  redis.call('ZREM', P..'nodes', o)
end
return #dead
"#;

/// ARGV: P, owner, then triples (chan, nick, prefix). After Redis lost its
/// data: puts this owner's members back (without their channel modes, which
/// are lost with the data) and publishes a JOIN for each one re-added, so
/// the other nodes' views have it again. Returns how many were missing.
const RESTORE: &str = r#"
local owner, added = ARGV[2], 0
for i = 3, #ARGV - 2, 3 do
  local c, n, p = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if not exists(c) then create(c, c) end
  if redis.call('HSETNX', P..'members:'..c, n, pack(owner, '-', p, '')) == 1 then
    added = added + 1
    to_channel(c, envelope('JOIN', owner, n, '-', c, ':'..p..' JOIN '..name_of(c)..' * :'))
  end
  redis.call('SADD', P..'chans-of:'..n, c)
  redis.call('SADD', P..'chans-by:'..owner, c)
end
return added
"#;

/// One of the scripts, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    Claim,
    Renew,
    Rename,
    Quit,
    Join,
    Part,
    Kick,
    Topic,
    Mode,
    Invite,
    State,
    Direct,
    Reap,
    Restore,
    Leave,
    RenameIn,
    Release,
    List,
}

impl Script {
    /// Every script, in a fixed order (the index of [`Script::index`]).
    pub const ALL: [Script; 18] = [
        Script::Claim,
        Script::Renew,
        Script::Rename,
        Script::Quit,
        Script::Join,
        Script::Part,
        Script::Kick,
        Script::Topic,
        Script::Mode,
        Script::Invite,
        Script::State,
        Script::Direct,
        Script::Reap,
        Script::Restore,
        Script::Leave,
        Script::RenameIn,
        Script::Release,
        Script::List,
    ];

    pub fn index(self) -> usize {
        Script::ALL.iter().position(|s| *s == self).expect("listed")
    }

    /// The full Lua source (prelude and body).
    pub fn source(self) -> String {
        let body = match self {
            Script::Claim => CLAIM,
            Script::Renew => RENEW,
            Script::Rename => RENAME,
            Script::Quit => QUIT,
            Script::Join => JOIN,
            Script::Part => PART,
            Script::Kick => KICK,
            Script::Topic => TOPIC,
            Script::Mode => MODE,
            Script::Invite => INVITE,
            Script::State => STATE,
            Script::Direct => DIRECT,
            Script::Reap => REAP,
            Script::Restore => RESTORE,
            Script::Leave => LEAVE,
            Script::RenameIn => RENAME_IN,
            Script::Release => RELEASE,
            Script::List => LIST,
        };
        format!("{PRELUDE}{body}")
    }
}
