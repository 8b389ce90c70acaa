"""Lua for drills: every drill write checks the drill's status and appends to its own stream.

A drill's stream (``drill-log:<id>``) is its only history: the report and the replay are
computed from it. Drill time (``t``) is worked out inside the script from the header's clock
fields, so an entry's ``t`` and its place in the stream can never disagree. Names come from
:mod:`dispatch.store.keys` and the drill enums through the placeholders of
:mod:`dispatch.store.lua`.
"""

import re

from dispatch.drills.models import DrillChange, DrillStatus, ResponderStatus
from dispatch.store import keys
from dispatch.store.lua import PLACEHOLDER, _lua_str

DRILL_FILLS = {
    "DRILL": _lua_str(keys.DRILL_PREFIX),
    "DRILL_LOG": _lua_str(keys.DRILL_LOG_PREFIX),
    "RESPONDERS": _lua_str(keys.DRILL_RESPONDERS_PREFIX),
    "HOUSEHOLDS": _lua_str(keys.DRILL_HOUSEHOLDS_PREFIX),
    "SWEPT": _lua_str(keys.DRILL_SWEPT_PREFIX),
    "BASE": _lua_str(keys.HOUSEHOLDS_PREFIX),
    "LIVE": _lua_str(keys.DRILLS_LIVE),
    "RUNNING": _lua_str(DrillStatus.RUNNING.value),
    "PAUSED": _lua_str(DrillStatus.PAUSED.value),
    "FINISHED": _lua_str(DrillStatus.FINISHED.value),
    "ABORTED": _lua_str(DrillStatus.ABORTED.value),
    "MOVED": _lua_str(DrillChange.MOVED.value),
    "STEP": _lua_str(DrillChange.STEP.value),
    "SWEPT_KIND": _lua_str(DrillChange.SWEPT.value),
    "RANKS": "{" + ", ".join(f"['{s.value}']={i}" for i, s in enumerate(ResponderStatus)) + "}",
}


def _fill(template: str) -> str:
    return PLACEHOLDER.sub(lambda m: DRILL_FILLS[m.group(1)], template)


# Drill seconds at wall time ``now`` from the header's clock fields (dispatch.drills.clock).
_CLOCK = r"""
local function num(v) if v and v ~= '' then return tonumber(v) end return nil end
local function drill_t(key, now)
  local f = redis.call('HMGET', key, 'started_at', 'paused_at', 'paused_s', 'ended_at', 'speed')
  local started = num(f[1])
  if not started then return 0 end
  local untl = now
  local ended, paused = num(f[4]), num(f[2])
  if ended and ended < untl then untl = ended end
  if paused and paused < untl then untl = paused end
  local t = (untl - started - (num(f[3]) or 0)) * (num(f[5]) or 1)
  if t < 0 then t = 0 end
  return t
end
local function fmt(t) return string.format('%.1f', t) end
"""

# Start, pause, resume, finish or abort. ARGV: id, expected, target, action, now, actor, role.
# Returns {1, t, stream id} or {0, current status} when the drill is no longer ``expected``.
MOVE = _fill(_CLOCK + r"""
local id, expected, target, action, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local key = __DRILL__ .. id
local current = redis.call('HGET', key, 'status')
if not current then return {-1, ''} end
if current ~= expected then return {0, current} end
local paused = num(redis.call('HGET', key, 'paused_at'))
if paused and target ~= __PAUSED__ then
  local spent = (num(redis.call('HGET', key, 'paused_s')) or 0) + (now - paused)
  redis.call('HSET', key, 'paused_s', string.format('%.3f', spent), 'paused_at', '')
end
if target == __RUNNING__ and not num(redis.call('HGET', key, 'started_at')) then
  redis.call('HSET', key, 'started_at', ARGV[5])
elseif target == __PAUSED__ then
  redis.call('HSET', key, 'paused_at', ARGV[5])
elseif target == __FINISHED__ or target == __ABORTED__ then
  redis.call('HSET', key, 'ended_at', ARGV[5])
end
redis.call('HSET', key, 'status', target, 'updated_at', ARGV[5])
if target == __RUNNING__ or target == __PAUSED__ then
  redis.call('SADD', __LIVE__, id)
else
  redis.call('SREM', __LIVE__, id)
end
local t = fmt(drill_t(key, now))
local sid = redis.call('XADD', __DRILL_LOG__ .. id, '*', 'kind', __MOVED__, 'actor', ARGV[6],
    'role', ARGV[7], 'at', ARGV[5], 't', t, 'action', action, 'before', current,
    'after', target)
return {1, t, sid}
""")

# One responder a step forward. ARGV: id, worker, target, now, actor, role, how, reason, lon,
# lat, dist_m. Returns {1, t, stream id}; {-1, status} the drill is not running; {-2, ''} not a
# participant; {0, current} the responder is already at or past ``target``.
STEP = _fill(_CLOCK + r"""
local id, worker, target, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local key = __DRILL__ .. id
local status = redis.call('HGET', key, 'status')
if status ~= __RUNNING__ then return {-1, status or ''} end
local rkey = __RESPONDERS__ .. id
local current = redis.call('HGET', rkey, worker)
if not current then return {-2, ''} end
local ranks = __RANKS__
if ranks[target] <= ranks[current] then return {0, current} end
redis.call('HSET', rkey, worker, target)
redis.call('HINCRBY', key, 'n_' .. target, 1)
redis.call('HINCRBY', key, 'n_' .. current, -1)
local t = fmt(drill_t(key, now))
local sid = redis.call('XADD', __DRILL_LOG__ .. id, '*', 'kind', __STEP__, 'actor', ARGV[5],
    'role', ARGV[6], 'at', ARGV[4], 't', t, 'worker', worker, 'before', current,
    'after', target, 'how', ARGV[7], 'reason', ARGV[8], 'lon', ARGV[9], 'lat', ARGV[10],
    'dist_m', ARGV[11])
return {1, t, sid}
""")

# A batch of household reports. ARGV: id, now, actor, role, scope prefix, items JSON
# [[household, status], ...] (statuses checked by the caller). Every household is checked
# against the resident base and the scope first; one unknown and nothing is written.
# Returns {1, t, new, swept, stream id}; {-1, status} not running; {-2, household} unknown or
# outside the scope.
SWEEP = _fill(_CLOCK + r"""
local id, now, prefix = ARGV[1], tonumber(ARGV[2]), ARGV[5]
local key = __DRILL__ .. id
local status = redis.call('HGET', key, 'status')
if status ~= __RUNNING__ then return {-1, status or ''} end
local items = cjson.decode(ARGV[6])
for _, item in ipairs(items) do
  local hh = item[1]
  if string.sub(hh, 1, #prefix) ~= prefix
      or redis.call('HEXISTS', __BASE__ .. string.sub(hh, 1, 17), hh) == 0 then
    return {-2, hh}
  end
end
local hkey, skey = __HOUSEHOLDS__ .. id, __SWEPT__ .. id
local new = 0
for _, item in ipairs(items) do
  if redis.call('HSET', hkey, item[1], item[2]) == 1 then
    new = new + 1
    redis.call('HINCRBY', skey, string.sub(item[1], 1, 17), 1)
  end
end
local swept = redis.call('HINCRBY', key, 'swept', new)
local t = fmt(drill_t(key, now))
local sid = redis.call('XADD', __DRILL_LOG__ .. id, '*', 'kind', __SWEPT_KIND__,
    'actor', ARGV[3], 'role', ARGV[4], 'at', ARGV[2], 't', t, 'worker', ARGV[3],
    'items', ARGV[6], 'new', new)
return {1, t, new, swept, sid}
""")

# Drill seconds now, read in the same place the scripts read them. ARGV: id, now.
TIME = _fill(_CLOCK + r"""
return fmt(drill_t(__DRILL__ .. ARGV[1], tonumber(ARGV[2])))
""")

assert not re.search(PLACEHOLDER, MOVE + STEP + SWEEP + TIME)
