"""Lua scripts: each runs atomically in Redis, so a check and its write can never be split.

Every script that changes an event also appends its change to the ``changes`` stream and
keeps the indices right, in the same atomic step.
"""

# A whole batch in one script, run atomically (no other client sees it half done). Intake
# validates and locates every item before calling it, so the script meets no bad input.
# KEYS: 1 the change stream. ARGV: 1 JSON array of items, each
#   {idem, dedupe, ttl_idem, ttl_dedupe, day, now, due, actor, role, fields{...}}
#   (all values strings; idem/dedupe/due empty when unused).
# Returns one {status, id} per item: 1 created, 0 idempotent repeat, 2 folded into an open
# duplicate. Key names are built here from the event's fields (single-server Redis).
CREATE_MANY = r"""
local stream = KEYS[1]
local function log(id, ...)
  local sid = redis.call('XADD', stream, '*', ...)
  redis.call('RPUSH', 'evlog:' .. id, sid)
end
local function fold(it, open_id)
  local key = 'ev:' .. open_id
  local st = redis.call('HGET', key, 'status')
  if not st or st == 'closed' or st == 'cancelled' or st == 'archived' then return nil end
  local n = redis.call('HINCRBY', key, 'count', 1)
  local rev = redis.call('HINCRBY', key, 'rev', 1)
  redis.call('HSET', key, 'updated_at', it.now, 'last_seen_at', it.now)
  redis.call('PEXPIRE', 'dedupe:' .. it.dedupe, it.ttl_dedupe)
  local street = redis.call('HGET', key, 'street') or ''
  log(open_id, 'kind', 'event.repeated', 'id', open_id, 'actor', it.actor, 'role', it.role,
      'at', it.now, 'before', st, 'after', st, 'rev', rev, 'street', street, 'count', n)
  return open_id
end
local function create(it)
  if it.idem ~= '' then
    local seen = redis.call('GET', 'idem:' .. it.idem)
    if seen then return {0, seen} end
  end
  if it.dedupe ~= '' then
    local open_id = redis.call('GET', 'dedupe:' .. it.dedupe)
    if open_id and fold(it, open_id) then
      if it.idem ~= '' then redis.call('SET', 'idem:' .. it.idem, open_id, 'PX', it.ttl_idem) end
      return {2, open_id}
    end
  end
  local f = it.fields
  local id = it.day .. '-' .. string.format('%06d', redis.call('INCR', 'ev:seq:' .. it.day))
  f['id'] = id
  local flat = {}
  for k, v in pairs(f) do
    flat[#flat + 1] = k
    flat[#flat + 1] = v
  end
  redis.call('HSET', 'ev:' .. id, unpack(flat))
  for _, idx in ipairs({'idx:all', 'idx:st:' .. f.status, 'idx:street:' .. f.street,
                        'idx:grid:' .. f.micro, 'idx:grid:' .. f.general,
                        'idx:grid:' .. f.total, 'idx:cat:' .. f.category}) do
    redis.call('ZADD', idx, it.now, id)
  end
  if it.due ~= '' then redis.call('ZADD', 'idx:due', it.due, id) end
  if it.idem ~= '' then redis.call('SET', 'idem:' .. it.idem, id, 'PX', it.ttl_idem) end
  if it.dedupe ~= '' then redis.call('SET', 'dedupe:' .. it.dedupe, id, 'PX', it.ttl_dedupe) end
  log(id, 'kind', 'event.created', 'id', id, 'actor', it.actor, 'role', it.role, 'at', it.now,
      'before', '', 'after', f.status, 'rev', f.rev, 'street', f.street)
  return {1, id}
end
local out = {}
for i, it in ipairs(cjson.decode(ARGV[1])) do
  out[i] = create(it)
end
return out
"""

# KEYS: 1 event hash, 2 stream, 3 idx:st:<old>, 4 idx:st:<new>, 5 idx:due
# ARGV: 1 expected status, 2 new status, 3 now, 4 due score or "", 5 actor, 6 role,
#       7 reason, 8 json of extra fields to set, 9 event id
# Returns {1, rev} or {0, current status} when the event moved meanwhile, {-1, ""} if absent.
TRANSITION = r"""
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
redis.call('ZADD', KEYS[4], score or ARGV[3], ARGV[9])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[9])
else
  redis.call('ZREM', KEYS[5], ARGV[9])
end
local street = redis.call('HGET', KEYS[1], 'street')
local sid = redis.call('XADD', KEYS[2], '*', 'kind', 'event.transition', 'id', ARGV[9],
           'actor', ARGV[5], 'role', ARGV[6], 'at', ARGV[3], 'before', current,
           'after', ARGV[2], 'rev', rev, 'street', street or '', 'reason', ARGV[7])
redis.call('RPUSH', 'evlog:' .. ARGV[9], sid)
return {1, rev}
"""

# KEYS: 1 event hash, 2 stream, 3 idx:due ; ARGV: 1 expected status, 2 expected entered_at,
#       3 level, 4 tier, 5 now, 6 event id, 7 top level
# Raises the escalation level only if the event is still in the same step and lower; at the
# top level the event leaves the deadline index (a move puts it back with a new deadline).
ESCALATE = r"""
local st = redis.call('HGET', KEYS[1], 'status')
local entered = redis.call('HGET', KEYS[1], 'entered_at')
local level = tonumber(redis.call('HGET', KEYS[1], 'escalation') or '0')
if st ~= ARGV[1] or entered ~= ARGV[2] or level >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'escalation', ARGV[3], 'updated_at', ARGV[5])
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
local street = redis.call('HGET', KEYS[1], 'street')
local sid = redis.call('XADD', KEYS[2], '*', 'kind', 'event.escalated', 'id', ARGV[6],
           'actor', 'system', 'role', 'system', 'at', ARGV[5], 'before', st, 'after', st,
           'rev', rev, 'street', street or '', 'tier', ARGV[4], 'level', ARGV[3])
redis.call('RPUSH', 'evlog:' .. ARGV[6], sid)
if tonumber(ARGV[3]) >= tonumber(ARGV[7]) then
  redis.call('ZREM', KEYS[3], ARGV[6])  -- at the top tier: no clock left to watch
end
return 1
"""
