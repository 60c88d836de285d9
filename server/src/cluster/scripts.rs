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
//! - `P chan:<c>` → hash: `modes`, `key`, `limit`, `topic`, `topic_by`, `topic_at`.
//! - `P members:<c>` → hash: nick → `"<owner> <flags> <nick!user@host>"`
//!   (flags `@`, `+`, `@+` or `-`).
//! - `P bans:<c>`, `P invites:<c>` → sets; `P chans-of:<nick>` and
//!   `P chans-by:<owner>` → sets of channel names (the indexes QUIT, NICK and
//!   the reaper walk).
//!
//! Published payloads are [`super::wire::Envelope`]s:
//! `KIND origin subject extra chans line`.

/// Helpers shared by every script (prepended to each).
const PRELUDE: &str = r#"
local P = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function member(c, n)
  local v = redis.call('HGET', P..'members:'..c, n)
  if not v then return nil end
  local o, f, p = string.match(v, '^(%S+) (%S+) (%S+)$')
  return {owner = o, flags = f, prefix = p}
end
local function pack(o, f, p) return o..' '..f..' '..p end
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
  end
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
    redis.call('HSET', P..'members:'..c, new, pack(m.owner, m.flags, ARGV[6]))
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

/// ARGV: P, chan, nick, owner, prefix, key, line. Returns {code, flags,
/// created}: code 0 joined, 1 already a member, or the refusal numeric.
const JOIN: &str = r#"
local c, n, owner = ARGV[2], ARGV[3], ARGV[4]
if member(c, n) then return {1, '', 0} end
local ck = P..'chan:'..c
local created = 0
if not exists(c) then
  created = 1
  redis.call('HSET', ck, 'modes', 'nt', 'created', now_ms())
else
  local st = redis.call('HMGET', ck, 'modes', 'key', 'limit')
  local invited = redis.call('SISMEMBER', P..'invites:'..c, n) == 1
  local who = string.lower(ARGV[5])
  if not invited then
    for _, mask in ipairs(redis.call('SMEMBERS', P..'bans:'..c)) do
      if glob(string.lower(mask), who) then return {474, '', 0} end
    end
    if string.find(st[1] or '', 'i', 1, true) then return {473, '', 0} end
  end
  if st[2] and st[2] ~= ARGV[6] then return {475, '', 0} end
  if st[3] and redis.call('HLEN', P..'members:'..c) >= tonumber(st[3]) then return {471, '', 0} end
end
local flags = '-'
if created == 1 then flags = '@' end
redis.call('HSET', P..'members:'..c, n, pack(owner, flags, ARGV[5]))
redis.call('SADD', P..'chans-of:'..n, c)
redis.call('SADD', P..'chans-by:'..owner, c)
redis.call('SREM', P..'invites:'..c, n)
to_channel(c, envelope('JOIN', owner, n, flags, c, ARGV[7]))
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
const TOPIC: &str = r#"
local c, by = ARGV[2], ARGV[3]
local b, err = on_channel(c, by)
if not b then return err end
if string.find(modes_of(c), 't', 1, true) and not is_op(b) then return 482 end
redis.call('HSET', P..'chan:'..c, 'topic', ARGV[4], 'topic_by', ARGV[5], 'topic_at', math.floor(now_ms() / 1000))
to_channel(c, envelope('TOPIC', ARGV[6], by, '-', c, ARGV[7]))
return 0
"#;

/// ARGV: P, chan, by, owner, prefix, then pairs ("+o", "nick"), ("-k", "").
/// Returns {code, line, missing...}: code 0 (line = the MODE line as
/// applied, '' if nothing changed), 403, 442 or 482; `missing` are the
/// nicks of +o/+v targets not on the channel (441 each).
const MODE: &str = r#"
local c, by = ARGV[2], ARGV[3]
local b, err = on_channel(c, by)
if not b then return {err, ''} end
if not is_op(b) then return {482, ''} end
local ck = P..'chan:'..c
local modes = modes_of(c)
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
        redis.call('HSET', P..'members:'..c, arg, pack(t.owner, f, t.prefix))
        applied(sign, m, arg)
      end
    end
  elseif m == 'k' or m == 'l' then
    local field = (m == 'k') and 'key' or 'limit'
    if sign == '+' then redis.call('HSET', ck, field, arg) applied(sign, m, arg)
    elseif redis.call('HDEL', ck, field) == 1 then applied(sign, m, (m == 'k') and '*' or '') end
  elseif m == 'b' then
    local changed = (sign == '+') and redis.call('SADD', P..'bans:'..c, arg) or redis.call('SREM', P..'bans:'..c, arg)
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
  line = ':'..ARGV[5]..' MODE '..c..' '..out
  if #args > 0 then line = line..' '..table.concat(args, ' ') end
  to_channel(c, envelope('MODE', ARGV[4], by, '-', c, line))
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

/// ARGV: P, chan. Returns {} if the channel does not exist, else
/// {modes, key, limit, topic, topic_by, topic_at, {nick, flags, prefix, owner, ...}, {bans...}}.
const STATE: &str = r#"
local c = ARGV[2]
if not exists(c) then return {} end
local st = redis.call('HMGET', P..'chan:'..c, 'modes', 'key', 'limit', 'topic', 'topic_by', 'topic_at')
local members = {}
local all = redis.call('HGETALL', P..'members:'..c)
for i = 1, #all, 2 do
  local o, f, p = string.match(all[i + 1], '^(%S+) (%S+) (%S+)$')
  members[#members + 1] = all[i]
  members[#members + 1] = f
  members[#members + 1] = p
  members[#members + 1] = o
end
return {st[1], st[2], st[3], st[4], st[5], st[6], members, redis.call('SMEMBERS', P..'bans:'..c)}
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
      local mo, f, p = string.match(all[i + 1], '^(%S+) (%S+) (%S+)$')
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
/// are lost with the data). Returns how many were missing.
const RESTORE: &str = r#"
local owner, added = ARGV[2], 0
for i = 3, #ARGV - 2, 3 do
  local c, n, p = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if not exists(c) then redis.call('HSET', P..'chan:'..c, 'modes', 'nt', 'created', now_ms()) end
  added = added + redis.call('HSETNX', P..'members:'..c, n, pack(owner, '-', p))
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
}

impl Script {
    /// Every script, in a fixed order (the index of [`Script::index`]).
    pub const ALL: [Script; 14] = [
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
        };
        format!("{PRELUDE}{body}")
    }
}
