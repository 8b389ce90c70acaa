"""Lua scripts: each runs atomically in Redis, so a check and its write can never be split.

Every script that changes an event also appends its change to the ``changes`` stream and
keeps the indices right, in the same atomic step. What the scripts must know of the domain
(which statuses are closed, the kinds of change) and the key names they build are written
into them from the Python enums and :mod:`dispatch.store.keys`, never copied: a script's
text names them as ``__NAME__`` placeholders, filled in once at import.
"""

import re

from dispatch.events.models import ChangeKind, Status
from dispatch.store import keys


def _lua_set(values: list[str]) -> str:
    """A Lua table usable as a set: ``{['a']=true, ['b']=true}``."""
    return "{" + ", ".join(f"['{v}']=true" for v in values) + "}"


def _lua_str(value: str) -> str:
    """A Lua string literal; what is filled in holds nothing to escape."""
    if "'" in value or "\\" in value or "\n" in value:
        raise ValueError(f"not a plain name: {value!r}")
    return f"'{value}'"


#: The statuses that end an event's work, as the scripts test them.
CLOSED_LUA = _lua_set([s.value for s in Status if not s.open])

#: Placeholder → Lua text, for every name the scripts use.
FILLS = {
    "CLOSED": CLOSED_LUA,
    "EVENT": _lua_str(keys.EVENT_PREFIX),
    "EVENT_LOG": _lua_str(keys.EVENT_LOG_PREFIX),
    "SEQUENCE": _lua_str(keys.SEQUENCE_PREFIX),
    "IDEMPOTENCY": _lua_str(keys.IDEMPOTENCY_PREFIX),
    "DEDUPE": _lua_str(keys.DEDUPE_PREFIX),
    "INDEX": _lua_str(keys.INDEX_PREFIX),
    "ALL_INDEX": _lua_str(keys.ALL_INDEX),
    "DUE_INDEX": _lua_str(keys.DUE_INDEX),
    "STATUS_INDEX": _lua_str(keys.STATUS_INDEX_PREFIX),
    "STREET_INDEX": _lua_str(keys.STREET_INDEX_PREFIX),
    "GRID_INDEX": _lua_str(keys.GRID_INDEX_PREFIX),
    "CATEGORY_INDEX": _lua_str(keys.CATEGORY_INDEX_PREFIX),
    "CREATED": _lua_str(ChangeKind.CREATED.value),
    "REPEATED": _lua_str(ChangeKind.REPEATED.value),
    "TRANSITION": _lua_str(ChangeKind.TRANSITION.value),
    "ESCALATED": _lua_str(ChangeKind.ESCALATED.value),
}
PLACEHOLDER = re.compile(r"__([A-Z][A-Z_]*[A-Z])__")


def _fill(template: str) -> str:
    """The script with every placeholder filled (an unknown one fails the import)."""
    return PLACEHOLDER.sub(lambda m: FILLS[m.group(1)], template)


# A whole batch in one script, run atomically (no other client sees it half done). Intake
# validates and locates every item before calling it, so the script meets no bad input.
# KEYS: 1 the change stream. ARGV: 1 JSON [actor, role, ttl_idem, items], each item an array
#   [idem, dedupe, ttl_dedupe, day, now, score, due, status, street, micro, general, total,
#    category, name1, value1, name2, value2, ...]   (all strings; idem/dedupe/due empty when
#   unused; the name/value pairs are the other hash fields, empty values left out).
# Index scores (score, due) are whole milliseconds: Redis keeps small sorted sets as packed
# lists of score strings and parses them on every insert, and integers parse far faster
# than decimal fractions (about a tenth of the script's time).
# Returns one {status, id} per item: 1 created, 0 idempotent repeat, 2 folded into an open
# duplicate. Key names are built here from the event's fields (single-server Redis).
# Redis spends most of a batch on command calls, so the indices are written once per key
# for the whole batch (one ZADD with many members), sequence numbers are counted here and
# stored once, and the creating change's stream id is kept in the hash (the event's change
# list starts with its first move).
CREATE_MANY = _fill(r"""
local CLOSED = __CLOSED__
local stream = KEYS[1]
local batch = cjson.decode(ARGV[1])
local actor, role, ttl_idem = batch[1], batch[2], batch[3]
local seqs, members, order = {}, {}, {}
local function index(key, score, id)
  local m = members[key]
  if not m then
    m = {}
    members[key] = m
    order[#order + 1] = key
  end
  m[#m + 1] = score
  m[#m + 1] = id
end
local function fold(it, open_id)
  local key = __EVENT__ .. open_id
  local st = redis.call('HGET', key, 'status')
  if not st or CLOSED[st] then return nil end
  local n = redis.call('HINCRBY', key, 'count', 1)
  local rev = redis.call('HINCRBY', key, 'rev', 1)
  local now = it[5]
  redis.call('HSET', key, 'updated_at', now, 'last_seen_at', now)
  redis.call('PEXPIRE', __DEDUPE__ .. it[2], it[3])
  local street = redis.call('HGET', key, 'street') or ''
  local sid = redis.call('XADD', stream, '*', 'kind', __REPEATED__, 'id', open_id,
      'actor', actor, 'role', role, 'at', now, 'before', st, 'after', st, 'rev', rev,
      'street', street, 'count', n)
  redis.call('RPUSH', __EVENT_LOG__ .. open_id, sid)
  return open_id
end
local function next_id(day)
  local n = seqs[day]
  if not n then n = tonumber(redis.call('GET', __SEQUENCE__ .. day) or '0') end
  n = n + 1
  seqs[day] = n
  return day .. '-' .. string.format('%06d', n)
end
local function create(it)
  local idem, dedupe = it[1], it[2]
  if idem ~= '' then
    local seen = redis.call('GET', __IDEMPOTENCY__ .. idem)
    if seen then return {0, seen} end
  end
  if dedupe ~= '' then
    local open_id = redis.call('GET', __DEDUPE__ .. dedupe)
    if open_id and fold(it, open_id) then
      if idem ~= '' then redis.call('SET', __IDEMPOTENCY__ .. idem, open_id, 'PX', ttl_idem) end
      return {2, open_id}
    end
  end
  local id = next_id(it[4])
  local now, score, due, status, street = it[5], it[6], it[7], it[8], it[9]
  local sid = redis.call('XADD', stream, '*', 'kind', __CREATED__, 'id', id,
      'actor', actor, 'role', role, 'at', now, 'before', '', 'after', status, 'rev', '1',
      'street', street)
  redis.call('HSET', __EVENT__ .. id, 'id', id, 'created_seq', sid, 'status', status,
      'street', street, 'micro', it[10], 'general', it[11], 'total', it[12],
      'category', it[13], unpack(it, 14))
  index(__ALL_INDEX__, score, id)
  index(__STATUS_INDEX__ .. status, score, id)
  index(__STREET_INDEX__ .. street, score, id)
  index(__GRID_INDEX__ .. it[10], score, id)
  index(__GRID_INDEX__ .. it[11], score, id)
  index(__GRID_INDEX__ .. it[12], score, id)
  index(__CATEGORY_INDEX__ .. it[13], score, id)
  if due ~= '' then index(__DUE_INDEX__, due, id) end
  if idem ~= '' then redis.call('SET', __IDEMPOTENCY__ .. idem, id, 'PX', ttl_idem) end
  if dedupe ~= '' then redis.call('SET', __DEDUPE__ .. dedupe, id, 'PX', it[3]) end
  return {1, id}
end
local out = {}
for i, it in ipairs(batch[4]) do
  out[i] = create(it)
end
for _, key in ipairs(order) do
  local m = members[key]
  for i = 1, #m, 1000 do  -- unpack() has a stack limit: at most 500 members per call
    redis.call('ZADD', key, unpack(m, i, math.min(i + 999, #m)))
  end
end
for day, n in pairs(seqs) do
  redis.call('SET', __SEQUENCE__ .. day, n)
end
return out
""")

# KEYS: 1 event hash, 2 stream, 3 status index of the old status, 4 of the new, 5 due index
# ARGV: 1 expected status, 2 new status, 3 now, 4 due or "", 5 actor, 6 role,
#       7 reason, 8 json of extra fields to set, 9 event id, 10 now in ms (index score),
#       11 due in ms or ""
# Returns {1, rev} or {0, current status} when the event moved meanwhile, {-1, ""} if absent.
TRANSITION = _fill(r"""
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {-1, ''} end
if current ~= ARGV[1] then return {0, current} end
local extra = cjson.decode(ARGV[8])
local flat = {'status', ARGV[2], 'updated_at', ARGV[3], 'entered_at', ARGV[3],
              'due_at', ARGV[4], 'escalation', '0', 'reason', ARGV[7]}
for k, v in pairs(extra) do
  flat[#flat + 1] = k
  flat[#flat + 1] = tostring(v)
end
redis.call('HSET', KEYS[1], unpack(flat))
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
local score = redis.call('ZSCORE', KEYS[3], ARGV[9])
redis.call('ZREM', KEYS[3], ARGV[9])
redis.call('ZADD', KEYS[4], score or ARGV[10], ARGV[9])
if ARGV[11] ~= '' then
  redis.call('ZADD', KEYS[5], ARGV[11], ARGV[9])
else
  redis.call('ZREM', KEYS[5], ARGV[9])
end
local street = redis.call('HGET', KEYS[1], 'street')
local sid = redis.call('XADD', KEYS[2], '*', 'kind', __TRANSITION__, 'id', ARGV[9],
           'actor', ARGV[5], 'role', ARGV[6], 'at', ARGV[3], 'before', current,
           'after', ARGV[2], 'rev', rev, 'street', street or '', 'reason', ARGV[7])
redis.call('RPUSH', __EVENT_LOG__ .. ARGV[9], sid)
return {1, rev}
""")

# KEYS: 1 event hash, 2 stream, 3 due index ; ARGV: 1 expected status, 2 expected entered_at,
#       3 level, 4 tier, 5 now, 6 event id, 7 top level
# Raises the escalation level only if the event is still in the same step and lower; at the
# top level the event leaves the deadline index (a move puts it back with a new deadline).
ESCALATE = _fill(r"""
local st = redis.call('HGET', KEYS[1], 'status')
local entered = redis.call('HGET', KEYS[1], 'entered_at')
local level = tonumber(redis.call('HGET', KEYS[1], 'escalation') or '0')
if st ~= ARGV[1] or entered ~= ARGV[2] or level >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'escalation', ARGV[3], 'updated_at', ARGV[5])
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
local street = redis.call('HGET', KEYS[1], 'street')
local sid = redis.call('XADD', KEYS[2], '*', 'kind', __ESCALATED__, 'id', ARGV[6],
           'actor', 'system', 'role', 'system', 'at', ARGV[5], 'before', st, 'after', st,
           'rev', rev, 'street', street or '', 'tier', ARGV[4], 'level', ARGV[3])
redis.call('RPUSH', __EVENT_LOG__ .. ARGV[6], sid)
if tonumber(ARGV[3]) >= tonumber(ARGV[7]) then
  redis.call('ZREM', KEYS[3], ARGV[6])  -- at the top tier: no clock left to watch
end
return 1
""")

# Index scores in seconds (data stored before scores became whole milliseconds) are scaled
# once, atomically; scores already in milliseconds (above 1e11) are left alone, so running it
# twice changes nothing. KEYS: 1 the layout marker. ARGV: 1 the layout version it records.
UPGRADE_SCORES = _fill(r"""
local changed = 0
for _, key in ipairs(redis.call('KEYS', __INDEX__ .. '*')) do
  local flat = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local args = {}
  for i = 1, #flat, 2 do
    local s = tonumber(flat[i + 1])
    if s < 1e11 then
      args[#args + 1] = string.format('%d', math.floor(s * 1000 + 0.5))
      args[#args + 1] = flat[i]
    end
  end
  for i = 1, #args, 1000 do
    redis.call('ZADD', key, unpack(args, i, math.min(i + 999, #args)))
  end
  changed = changed + #args / 2
end
redis.call('SET', KEYS[1], ARGV[1])
return changed
""")
