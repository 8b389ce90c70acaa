"""Lua to remove one exercise event wholly: its hash, every index, its tasks and its stream entries.

Only a drill's own events are purged (``drill purge``); real events are archived, never
deleted. The event's stream entries are found through its move list and its creating entry's
id, and its tasks through those entries, so nothing of it is left for a screen or a report.
"""

from dispatch.store import keys
from dispatch.store.lua import PLACEHOLDER, _lua_str
from dispatch.store.lua_tasks import TASK_FILLS

PURGE_FILLS = TASK_FILLS | {"CHANGES": _lua_str(keys.CHANGES)}

# ARGV: 1 event id, 2 the drill id the event must carry (a real event is never touched).
# Returns {1, stream entries removed, tasks removed}, {0} if absent, {-1} if not the drill's.
PURGE_EVENT = PLACEHOLDER.sub(lambda m: PURGE_FILLS[m.group(1)], r"""
local eid, drill = ARGV[1], ARGV[2]
local key = __EVENT__ .. eid
local h = redis.call('HMGET', key, 'status', 'street', 'micro', 'general', 'total',
                     'category', 'created_seq', 'drill')
if not h[1] then return {0} end
if h[8] ~= drill or drill == '' then return {-1} end
redis.call('ZREM', __ALL_INDEX__, eid)
redis.call('ZREM', __DUE_INDEX__, eid)
redis.call('ZREM', __STATUS_INDEX__ .. h[1], eid)
redis.call('ZREM', __STREET_INDEX__ .. (h[2] or ''), eid)
for i = 3, 5 do redis.call('ZREM', __GRID_INDEX__ .. (h[i] or ''), eid) end
redis.call('ZREM', __CATEGORY_INDEX__ .. (h[6] or ''), eid)
local sids = redis.call('LRANGE', __EVENT_LOG__ .. eid, 0, -1)
if h[7] and h[7] ~= '' then sids[#sids + 1] = h[7] end
local tasks, removed = {}, 0
for _, sid in ipairs(sids) do
  local found = redis.call('XRANGE', __CHANGES__, sid, sid)
  if found[1] then
    local f = found[1][2]
    for i = 1, #f, 2 do
      if f[i] == 'task' and f[i + 1] ~= '' then tasks[f[i + 1]] = true end
    end
    removed = removed + redis.call('XDEL', __CHANGES__, sid)
  end
end
local n_tasks = 0
for tid in pairs(tasks) do
  local worker = redis.call('HGET', __TASK__ .. tid, 'worker')
  if worker then
    if redis.call('SREM', __WORKER_OPEN__ .. worker, tid) == 1 then
      if redis.call('HINCRBY', __OPEN_COUNTS__, worker, -1) <= 0 then
        redis.call('HDEL', __OPEN_COUNTS__, worker)
      end
    end
    redis.call('ZREM', __WORKER_TASKS__ .. worker, tid)
  end
  redis.call('ZREM', __TASKS_OPEN__, tid)
  redis.call('ZREM', __ACCEPT_DUE__, tid)
  redis.call('DEL', __TASK__ .. tid)
  n_tasks = n_tasks + 1
end
redis.call('DEL', key, __EVENT_LOG__ .. eid, __EVENT_TASK__ .. eid)
return {1, removed, n_tasks}
""")
