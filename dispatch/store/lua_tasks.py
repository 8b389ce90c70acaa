"""Lua for tasks: assigning and stepping a task moves its event in the same atomic step.

The guard of an assignment is the event's open-task key: two operators assigning one event at
the same moment run one after the other inside Redis, and the second finds the first's task.
A task step checks the task's status (two phones accepting at once: one acceptance) and, when
the step moves the event too, the event's status, before writing anything. Names come from
:mod:`dispatch.store.keys` and the enums through the same placeholders as
:mod:`dispatch.store.lua`.
"""

from dispatch.events.models import ChangeKind
from dispatch.store import keys
from dispatch.store.lua import FILLS, PLACEHOLDER, _lua_str

TASK_FILLS = FILLS | {
    "TASK": _lua_str(keys.TASK_PREFIX),
    "EVENT_TASK": _lua_str(keys.EVENT_TASK_PREFIX),
    "WORKER_TASKS": _lua_str(keys.WORKER_TASKS_PREFIX),
    "WORKER_OPEN": _lua_str(keys.WORKER_OPEN_TASKS_PREFIX),
    "TASKS_OPEN": _lua_str(keys.TASKS_OPEN),
    "ACCEPT_DUE": _lua_str(keys.TASKS_ACCEPT_DUE),
    "OPEN_COUNTS": _lua_str(keys.TASKS_OPEN_COUNTS),
    "TASK_STEP": _lua_str(ChangeKind.TASK.value),
    "TASK_ESCALATED": _lua_str(ChangeKind.TASK_ESCALATED.value),
}


def _fill(template: str) -> str:
    return PLACEHOLDER.sub(lambda m: TASK_FILLS[m.group(1)], template)


# Shared by both scripts: move one event a step, as lua.TRANSITION does (indices, deadline,
# stream entry, the event's move list), naming the task that moved it. The caller has checked
# the event's status. ``mv`` is [expected, target, due, due_ms].
_MOVE_EVENT = r"""
local function move_event(stream, eid, mv, a, tid, extra)
  local key = __EVENT__ .. eid
  local flat = {'status', mv[2], 'updated_at', a.now, 'entered_at', a.now, 'due_at', mv[3],
                'escalation', '0', 'reason', a.reason}
  for k, v in pairs(extra) do
    flat[#flat + 1] = k
    flat[#flat + 1] = tostring(v)
  end
  redis.call('HSET', key, unpack(flat))
  local rev = redis.call('HINCRBY', key, 'rev', 1)
  local old = __STATUS_INDEX__ .. mv[1]
  local score = redis.call('ZSCORE', old, eid)
  redis.call('ZREM', old, eid)
  redis.call('ZADD', __STATUS_INDEX__ .. mv[2], score or a.now_ms, eid)
  if mv[4] ~= '' then
    redis.call('ZADD', __DUE_INDEX__, mv[4], eid)
  else
    redis.call('ZREM', __DUE_INDEX__, eid)
  end
  local street = redis.call('HGET', key, 'street') or ''
  local sid = redis.call('XADD', stream, '*', 'kind', __TRANSITION__, 'id', eid,
      'actor', a.actor, 'role', a.role, 'at', a.now, 'before', mv[1], 'after', mv[2],
      'rev', rev, 'street', street, 'reason', a.reason, 'task', tid)
  redis.call('RPUSH', __EVENT_LOG__ .. eid, sid)
end
local function task_entry(stream, t, before, after, a, worker)
  local sid = redis.call('XADD', stream, '*', 'kind', __TASK_STEP__, 'id', t.event,
      'task', t.id, 'worker', worker, 'actor', a.actor, 'role', a.role, 'at', a.now,
      'before', before, 'after', after, 'rev', t.rev, 'street', t.street,
      'reason', a.reason)
  redis.call('RPUSH', __EVENT_LOG__ .. t.event, sid)
end
"""

# KEYS: 1 the change stream. ARGV: 1 JSON {event, moves: [[expected, target, due, due_ms]…],
#   now, now_ms, actor, role, reason, worker, status, accept_due_ms, street, fields: {…}}
# Returns {1, task id}; {0, open task id, its worker} when the event already has an open
# task; {2, current status} when the event is no longer where the moves start; {-1, ''}.
ASSIGN = _fill(_MOVE_EVENT + r"""
local stream = KEYS[1]
local a = cjson.decode(ARGV[1])
local eid = a.event
local open = redis.call('GET', __EVENT_TASK__ .. eid)
if open then
  return {0, open, redis.call('HGET', __TASK__ .. open, 'worker') or ''}
end
local current = redis.call('HGET', __EVENT__ .. eid, 'status')
if not current then return {-1, ''} end
if current ~= a.moves[1][1] then return {2, current} end
local n = redis.call('HINCRBY', __EVENT__ .. eid, 'tasks', 1)
local tid = eid .. '.' .. n
local flat = {'id', tid, 'event', eid, 'worker', a.worker, 'status', a.status, 'rev', '1',
              'street', a.street, 'created_at', a.now, 'updated_at', a.now,
              'accept_due', a.accept_due_ms, 'escalation', '0', 'assigned_by', a.actor}
for k, v in pairs(a.fields) do
  flat[#flat + 1] = k
  flat[#flat + 1] = tostring(v)
end
redis.call('HSET', __TASK__ .. tid, unpack(flat))
for i, mv in ipairs(a.moves) do
  local extra = {}
  if i == #a.moves then extra = {assignee = a.worker, task = tid} end
  move_event(stream, eid, mv, a, tid, extra)
end
redis.call('SET', __EVENT_TASK__ .. eid, tid)
redis.call('ZADD', __WORKER_TASKS__ .. a.worker, a.now_ms, tid)
redis.call('SADD', __WORKER_OPEN__ .. a.worker, tid)
redis.call('HINCRBY', __OPEN_COUNTS__, a.worker, 1)
redis.call('ZADD', __TASKS_OPEN__, a.now_ms, tid)
if a.accept_due_ms ~= '' then redis.call('ZADD', __ACCEPT_DUE__, a.accept_due_ms, tid) end
task_entry(stream, {id = tid, event = eid, rev = 1, street = a.street}, '', a.status, a,
           a.worker)
return {1, tid}
""")

# KEYS: 1 the change stream. ARGV: 1 JSON {task, expected, target, now, now_ms, actor, role,
#   reason, fields: {…}, event_fields: {…}, closes: bool, accepted: bool,
#   move: [expected, target, due, due_ms] or false}
# Returns {1, rev}; {0, current task status} when the task moved meanwhile; {2, the event's
# status} when the event is not where the step expects it; {-1, ''} for an unknown task.
STEP = _fill(_MOVE_EVENT + r"""
local stream = KEYS[1]
local a = cjson.decode(ARGV[1])
local key = __TASK__ .. a.task
local t = redis.call('HMGET', key, 'status', 'event', 'worker', 'street')
if not t[1] then return {-1, ''} end
if t[1] ~= a.expected then return {0, t[1]} end
local eid, worker = t[2], t[3]
if a.move then
  local st = redis.call('HGET', __EVENT__ .. eid, 'status')
  if st ~= a.move[1] then return {2, st or ''} end
end
local flat = {'status', a.target, 'updated_at', a.now, 'at_' .. a.target, a.now}
for k, v in pairs(a.fields) do
  flat[#flat + 1] = k
  flat[#flat + 1] = tostring(v)
end
redis.call('HSET', key, unpack(flat))
local rev = redis.call('HINCRBY', key, 'rev', 1)
if a.accepted or a.closes then redis.call('ZREM', __ACCEPT_DUE__, a.task) end
local extra = a.event_fields
if a.closes then
  redis.call('SREM', __WORKER_OPEN__ .. worker, a.task)
  if redis.call('HINCRBY', __OPEN_COUNTS__, worker, -1) <= 0 then
    redis.call('HDEL', __OPEN_COUNTS__, worker)
  end
  redis.call('ZREM', __TASKS_OPEN__, a.task)
  if redis.call('GET', __EVENT_TASK__ .. eid) == a.task then
    redis.call('DEL', __EVENT_TASK__ .. eid)
  end
  extra.task = ''
end
if a.move then move_event(stream, eid, a.move, a, a.task, extra) end
if not a.move then
  extra.updated_at = a.now
  local flat2 = {}
  for k, v in pairs(extra) do
    flat2[#flat2 + 1] = k
    flat2[#flat2 + 1] = tostring(v)
  end
  redis.call('HSET', __EVENT__ .. eid, unpack(flat2))
end
task_entry(stream, {id = a.task, event = eid, rev = rev, street = t[4]}, a.expected,
           a.target, a, worker)
return {1, rev}
""")

# KEYS: 1 the change stream. ARGV: 1 task id, 2 expected status, 3 level, 4 tier, 5 now,
#   6 next deadline in ms or '' (none: the top tier), 7 who is told (a worker id or '')
# Raises a task's escalation only while it is still unaccepted and at a lower level.
ESCALATE_TASK = _fill(r"""
local key = __TASK__ .. ARGV[1]
local t = redis.call('HMGET', key, 'status', 'escalation', 'event', 'worker', 'street')
if t[1] ~= ARGV[2] or tonumber(t[2] or '0') >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', key, 'escalation', ARGV[3], 'escalated_to', ARGV[7], 'updated_at', ARGV[5])
local rev = redis.call('HINCRBY', key, 'rev', 1)
if ARGV[6] ~= '' then
  redis.call('ZADD', __ACCEPT_DUE__, ARGV[6], ARGV[1])
else
  redis.call('ZREM', __ACCEPT_DUE__, ARGV[1])
end
local sid = redis.call('XADD', KEYS[1], '*', 'kind', __TASK_ESCALATED__, 'id', t[3],
    'task', ARGV[1], 'worker', t[4], 'actor', 'system', 'role', 'system', 'at', ARGV[5],
    'before', t[1], 'after', t[1], 'rev', rev, 'street', t[5] or '', 'tier', ARGV[4],
    'level', ARGV[3], 'notify', ARGV[7])
redis.call('RPUSH', __EVENT_LOG__ .. t[3], sid)
return 1
""")
