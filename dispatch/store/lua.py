"""Lua scripts: each runs atomically in Redis, so a check and its write can never be split.

Every script that changes an event also appends its change to the ``changes`` stream and
keeps the indices right, in the same atomic step.
"""

# KEYS: 1 idempotency key, 2 dedupe key, 3 day sequence, 4 stream, then index zsets
#       (idx:all, idx:st:<status>, idx:street:<s>, idx:grid:<micro>, idx:grid:<general>,
#        idx:grid:<total>, idx:cat:<category>, idx:due)
# ARGV: 1 use_idem, 2 use_dedupe, 3 ttl_idem, 4 ttl_dedupe, 5 day, 6 created score,
#       7 due score or "", 8 actor, 9 role, 10 json of event fields
# Returns {status, id}: 1 created, 0 idempotent repeat, 2 folded into an open duplicate.
CREATE = r"""
if ARGV[1] == '1' then
  local seen = redis.call('GET', KEYS[1])
  if seen then return {0, seen} end
end
local now = ARGV[6]
if ARGV[2] == '1' then
  local open_id = redis.call('GET', KEYS[2])
  if open_id then
    local st = redis.call('HGET', 'ev:' .. open_id, 'status')
    if st and st ~= 'closed' and st ~= 'cancelled' and st ~= 'archived' then
      local n = redis.call('HINCRBY', 'ev:' .. open_id, 'count', 1)
      local rev = redis.call('HINCRBY', 'ev:' .. open_id, 'rev', 1)
      redis.call('HSET', 'ev:' .. open_id, 'updated_at', now, 'last_seen_at', now)
      redis.call('PEXPIRE', KEYS[2], ARGV[4])
      local street = redis.call('HGET', 'ev:' .. open_id, 'street')
      local sid = redis.call('XADD', KEYS[4], '*', 'kind', 'event.repeated', 'id', open_id,
                 'actor', ARGV[8], 'role', ARGV[9], 'at', now, 'before', st, 'after', st,
                 'rev', rev, 'street', street or '', 'count', n)
      redis.call('RPUSH', 'evlog:' .. open_id, sid)
      if ARGV[1] == '1' then redis.call('SET', KEYS[1], open_id, 'PX', ARGV[3]) end
      return {2, open_id}
    end
  end
end
local seq = redis.call('INCR', KEYS[3])
local id = ARGV[5] .. '-' .. string.format('%06d', seq)
local fields = cjson.decode(ARGV[10])
fields['id'] = id
local flat = {}
for k, v in pairs(fields) do
  flat[#flat + 1] = k
  flat[#flat + 1] = tostring(v)
end
redis.call('HSET', 'ev:' .. id, unpack(flat))
for i = 5, 11 do
  if KEYS[i] ~= '' then redis.call('ZADD', KEYS[i], now, id) end
end
if ARGV[7] ~= '' then redis.call('ZADD', KEYS[12], ARGV[7], id) end
if ARGV[1] == '1' then redis.call('SET', KEYS[1], id, 'PX', ARGV[3]) end
if ARGV[2] == '1' then redis.call('SET', KEYS[2], id, 'PX', ARGV[4]) end
local sid = redis.call('XADD', KEYS[4], '*', 'kind', 'event.created', 'id', id,
           'actor', ARGV[8], 'role', ARGV[9], 'at', now, 'before', '', 'after', fields['status'],
           'rev', fields['rev'], 'street', fields['street'] or '')
redis.call('RPUSH', 'evlog:' .. id, sid)
return {1, id}
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

# KEYS: 1 event hash, 2 stream ; ARGV: 1 expected status, 2 expected entered_at, 3 level,
#       4 tier, 5 now, 6 event id
# Raises the escalation level only if the event is still in the same step and lower.
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
return 1
"""
