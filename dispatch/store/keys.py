"""Every Redis key name, spelled here and nowhere else (the Lua scripts get theirs from here).

The names are those the stored data already uses: renaming one strands what is stored
under the old name, so a change here needs a layout upgrade (see ``Store.upgrade_layout``).
"""

from __future__ import annotations

# --- whole keys ------------------------------------------------------------------------
CHANGES = "changes"  # stream: every change, in order
WORKER_POSITIONS = "workers:positions"  # geo set: each worker's last reported position
WORKER_SEEN = "workers:seen"  # sorted set: worker id → when that position was taken (ms)
WORKER_MOVED = "workers:moved"  # sorted set: worker id → the move number of its last position
WORKER_MOVES = "workers:moves"  # string: the last move number handed out
WORKER_ACCURACY = "workers:accuracy"  # hash: worker id → the position's accuracy in metres
AUDIT = "audit"  # stream: every read of personal data, every reveal and every export
GRIDS_ACTIVE = "grids:active"  # hash: the grid set this deployment serves
LAYOUT = "config:layout"  # string: version of the key layout the data is in
PRIVACY_SEALED = "config:privacy-sealed"  # string: set once every stored event is sealed
SECRET_KEY = "config:secret_key"  # string: the session-signing key every process shares
USERS = "users"  # set: user names
TOKENS = "tokens"  # set: API token digests
DEVICES = "devices"  # set: IoT device ids
WORKERS = "workers"  # set: ids of the grid workers on the roster
WORKERS_VERSION = "workers:version"  # string: bumped by every roster load (caches compare it)
WORKER_GRIDS = "workers:grids"  # set: micro-grids that have a roster index (what a reload clears)
WORKER_LEADERS = "workers:leaders"  # hash: grid code → its leader, as Worker JSON (one read)
HOTLINE_ORDERS = "hotline:orders"  # hash: 12345 order number → event id
TASKS_OPEN = "tasks:open"  # sorted set: open task ids by when they were assigned (ms)
TASKS_OPEN_COUNTS = "tasks:open-counts"  # hash: worker id → open tasks (one read for many)
TASKS_ACCEPT_DUE = "tasks:accept-due"  # sorted set: assigned tasks by when acceptance is due
DRILLS = "drills:all"  # sorted set: every drill id by when it was planned (ms)
DRILLS_LIVE = "drills:live"  # set: drills running or paused (what every screen watches)
HOUSEHOLDS_GRIDS = "households:grids"  # hash: micro-grid → households loaded for it
HOUSEHOLDS_VERSION = "households:version"  # string: bumped by every household load
SLOTS = "slots:building"  # hash: building id → its published time slot (JSON, with the drill)
ALL_INDEX = "idx:all"  # sorted set: every event by creation time (ms)
DUE_INDEX = "idx:due"  # sorted set: open events by deadline (ms)

# --- prefixes: the key is the prefix and an id ---------------------------------------------
EVENT_PREFIX = "ev:"  # hash: one event
EVENT_LOG_PREFIX = "evlog:"  # list: stream ids of one event's moves
SEQUENCE_PREFIX = "ev:seq:"  # string: the last event number of one day
IDEMPOTENCY_PREFIX = "idem:"  # string: event id stored for a client's key (expires)
DEDUPE_PREFIX = "dedupe:"  # string: open event id a repeat folds into (expires)
INDEX_PREFIX = "idx:"  # every sorted-set index of events
STATUS_INDEX_PREFIX = "idx:st:"
STREET_INDEX_PREFIX = "idx:street:"
GRID_INDEX_PREFIX = "idx:grid:"
CATEGORY_INDEX_PREFIX = "idx:cat:"
TASK_PREFIX = "task:"  # hash: one task (one worker's piece of one event)
EVENT_TASK_PREFIX = "evtask:"  # string: the open task of one event (at most one: the guard)
WORKER_TASKS_PREFIX = "tasks:worker:"  # sorted set: every task of one worker, by assignment
WORKER_OPEN_TASKS_PREFIX = "tasks:worker-open:"  # set: one worker's open tasks
USER_PREFIX = "user:"  # hash: one user
TOKEN_PREFIX = "token:"  # hash: one API token, by digest
DEVICE_PREFIX = "device:"  # hash: one IoT device
WORKER_PREFIX = "worker:"  # hash: one grid worker on the roster
WORKER_GRID_PREFIX = "workers:grid:"  # set: ids of the roster's workers of one micro-grid
LOCK_PREFIX = "lock:"  # string: a named lease and its owner
AUDIT_SEEN_PREFIX = "audit-seen:"  # string: one reader's repeated read, counted once a window
SESSION_PREFIX = "session:"  # string: one signed-in browser's server-side session
USER_SESSIONS_PREFIX = "user-sessions:"  # set: the session ids one account holds
SIGN_IN_FAILURES_PREFIX = "signin-failures:"  # string: failed sign-ins, expiring with the window
WORKER_LINK_PREFIX = "worker-link:"  # string: a one-time sign-in link's account (expires)
DRILL_PREFIX = "drill:"  # hash: one drill's header (kind, scope, status, clock fields)
DRILL_LOG_PREFIX = "drill-log:"  # stream: every change of one drill (its own, never `changes`)
DRILL_RESPONDERS_PREFIX = "drill-resp:"  # hash: worker id → responder status in one muster
DRILL_POINTS_PREFIX = "drill-point:"  # hash: worker id → index of their muster point
DRILL_HOUSEHOLDS_PREFIX = "drill-hh:"  # hash: household id → what the sweep found
DRILL_SWEPT_PREFIX = "drill-swept:"  # hash: micro-grid → households reached in one sweep
DRILL_NOTES_PREFIX = "drill-notes:"  # hash: household id → the sweeper's note (sealed)
DRILL_EVENTS_PREFIX = "drill-events:"  # set: event ids one drill raised (purged with it)
DRILL_SLOTS_PREFIX = "drill-slots:"  # hash: building id → slot JSON one drill published
HOUSEHOLDS_PREFIX = "households:grid:"  # hash: household id → sealed record, one micro-grid
HOUSEHOLDS_PRIORITY_PREFIX = "households:priority:"  # set: special-population households
#: The public form's rate-limit counters (flask-limiter adds its own parts after it).
RESIDENT_LIMIT_PREFIX = "grid-dispatch:resident"


def event(event_id: str) -> str:
    return EVENT_PREFIX + event_id


def event_log(event_id: str) -> str:
    return EVENT_LOG_PREFIX + event_id


def sequence(day: str) -> str:
    return SEQUENCE_PREFIX + day


def idempotency(key: str) -> str:
    return IDEMPOTENCY_PREFIX + key


def dedupe(key: str) -> str:
    return DEDUPE_PREFIX + key


def status_index(status: str) -> str:
    return STATUS_INDEX_PREFIX + status


def street_index(code: str) -> str:
    return STREET_INDEX_PREFIX + code


def grid_index(code: str) -> str:
    """Events in one grid of any tier (micro, general or total)."""
    return GRID_INDEX_PREFIX + code


def category_index(code: str) -> str:
    return CATEGORY_INDEX_PREFIX + code


def event_index(*, status: str | None = None, grid: str | None = None,
                street: str | None = None, category: str | None = None) -> str:
    """The one index to read for these filters: the first given of grid, status, street,
    category, else every event. Its members may fail the other filters; callers check them."""
    if grid:
        return grid_index(grid)
    if status:
        return status_index(status)
    if street:
        return street_index(street)
    if category:
        return category_index(category)
    return ALL_INDEX


def user(name: str) -> str:
    return USER_PREFIX + name


def token(digest: str) -> str:
    return TOKEN_PREFIX + digest


def device(device_id: str) -> str:
    return DEVICE_PREFIX + device_id


def worker(worker_id: str) -> str:
    return WORKER_PREFIX + worker_id


def worker_grid(micro_code: str) -> str:
    """The roster's workers of one micro-grid."""
    return WORKER_GRID_PREFIX + micro_code


def task(task_id: str) -> str:
    return TASK_PREFIX + task_id


def event_task(event_id: str) -> str:
    return EVENT_TASK_PREFIX + event_id


def worker_tasks(worker_id: str) -> str:
    return WORKER_TASKS_PREFIX + worker_id


def worker_open_tasks(worker_id: str) -> str:
    return WORKER_OPEN_TASKS_PREFIX + worker_id


def lock(name: str) -> str:
    return LOCK_PREFIX + name


def sign_in_failures(kind: str, who: str) -> str:
    """Failed sign-ins of one account (``kind`` "account") or one address ("address")."""
    return f"{SIGN_IN_FAILURES_PREFIX}{kind}:{who}"


def audit_seen(actor: str, action: str, target: str) -> str:
    return f"{AUDIT_SEEN_PREFIX}{actor}:{action}:{target}"


def session(sid: str) -> str:
    return SESSION_PREFIX + sid


def user_sessions(account: str) -> str:
    return USER_SESSIONS_PREFIX + account


def worker_link(digest: str) -> str:
    """A one-time sign-in link, by the digest of its token (the token itself is not kept)."""
    return WORKER_LINK_PREFIX + digest


def drill(drill_id: str) -> str:
    return DRILL_PREFIX + drill_id


def drill_log(drill_id: str) -> str:
    return DRILL_LOG_PREFIX + drill_id


def drill_responders(drill_id: str) -> str:
    return DRILL_RESPONDERS_PREFIX + drill_id


def drill_points(drill_id: str) -> str:
    return DRILL_POINTS_PREFIX + drill_id


def drill_households(drill_id: str) -> str:
    return DRILL_HOUSEHOLDS_PREFIX + drill_id


def drill_swept(drill_id: str) -> str:
    return DRILL_SWEPT_PREFIX + drill_id


def drill_notes(drill_id: str) -> str:
    return DRILL_NOTES_PREFIX + drill_id


def drill_events(drill_id: str) -> str:
    return DRILL_EVENTS_PREFIX + drill_id


def drill_slots(drill_id: str) -> str:
    return DRILL_SLOTS_PREFIX + drill_id


def drill_keys(drill_id: str) -> list[str]:
    """Every key one drill owns: what `drill purge` deletes (its events go separately)."""
    return [fn(drill_id) for fn in (drill, drill_log, drill_responders, drill_points,
                                    drill_households, drill_swept, drill_notes, drill_events,
                                    drill_slots)]


def households(micro_code: str) -> str:
    """The household base of one micro-grid: household id → sealed record."""
    return HOUSEHOLDS_PREFIX + micro_code


def households_priority(micro_code: str) -> str:
    """The special-population households of one micro-grid (ids only; the tags are sealed)."""
    return HOUSEHOLDS_PRIORITY_PREFIX + micro_code
