"""The workflow table, SLA limits and escalation arithmetic (pure: no Redis, no clock)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.access.policy import holders
from dispatch.access.roles import Actor, Role
from dispatch.events.models import ESCALATION_TIERS, Severity, Status
from dispatch.events.workflow import (
    TRANSITIONS,
    ManualClock,
    TransitionError,
    check_move,
    due_at,
    escalation_level,
    escalation_tier,
    limit_minutes,
    sla_table,
)

LEGAL = sorted(TRANSITIONS, key=lambda pair: (pair[0].value, pair[1].value))
ILLEGAL = [(a, b) for a in Status for b in Status if (a, b) not in TRANSITIONS]


def _as(role: Role) -> Actor:
    return Actor(name="t", role=role)


def _id(pair: tuple[Status, Status]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


# --- the transition table -----------------------------------------------------------------

@pytest.mark.parametrize("pair", LEGAL, ids=_id)
def test_every_legal_move_is_accepted_for_each_allowed_role(pair):
    move = TRANSITIONS[pair]
    assert holders(move.permission), f"{_id(pair)} names no role"
    for role in holders(move.permission):
        assert check_move(*pair, actor=_as(role), reason="checked on site") is move


@pytest.mark.parametrize("pair", LEGAL, ids=_id)
def test_roles_outside_the_move_are_refused_naming_role(pair):
    move = TRANSITIONS[pair]
    for role in set(Role) - set(holders(move.permission)):
        with pytest.raises(TransitionError) as err:
            check_move(*pair, actor=_as(role), reason="a reason")
        assert err.value.field == "role" and err.value.value == role.value
        assert role.value in str(err.value)


@pytest.mark.parametrize("pair", [p for p in LEGAL if TRANSITIONS[p].needs_reason], ids=_id)
@pytest.mark.parametrize("reason", ["", "   ", "\t\n"])
def test_a_reason_is_required_where_the_move_needs_one(pair, reason):
    role = holders(TRANSITIONS[pair].permission)[0]
    with pytest.raises(TransitionError) as err:
        check_move(*pair, actor=_as(role), reason=reason)
    assert err.value.field == "reason"


@pytest.mark.parametrize("pair", [p for p in LEGAL if not TRANSITIONS[p].needs_reason],
                         ids=_id)
def test_moves_without_needs_reason_accept_an_empty_reason(pair):
    check_move(*pair, actor=_as(holders(TRANSITIONS[pair].permission)[0]), reason="")


def test_returned_cancelled_and_reopened_need_a_reason_but_the_forward_path_does_not():
    for (_, target), move in TRANSITIONS.items():
        if target in (Status.RETURNED, Status.CANCELLED, Status.REOPENED):
            assert move.needs_reason, target
    forward = [Status.REPORTED, Status.REGISTERED, Status.DISPATCHED, Status.SIGNED,
               Status.IN_PROGRESS, Status.FEEDBACK, Status.VERIFIED, Status.CLOSED,
               Status.ARCHIVED]
    for a, b in pairwise(forward):
        assert not TRANSITIONS[(a, b)].needs_reason, (a, b)


@pytest.mark.parametrize("pair", ILLEGAL, ids=_id)
def test_pairs_not_in_the_table_are_refused_listing_the_allowed_targets(pair):
    current, target = pair
    with pytest.raises(TransitionError) as err:
        # Even the most privileged role with a reason cannot make an illegal move.
        check_move(current, target, actor=_as(Role.ADMIN), reason="because")
    assert err.value.field == "status" and err.value.value == target.value
    allowed = sorted(t.value for (f, t) in TRANSITIONS if f == current)
    assert str(allowed) in str(err.value)


def test_the_status_check_comes_before_role_and_reason():
    # A resident with no reason trying an illegal move hears about the status first.
    with pytest.raises(TransitionError) as err:
        check_move(Status.REPORTED, Status.CLOSED, actor=_as(Role.RESIDENT), reason="")
    assert err.value.field == "status"
    with pytest.raises(TransitionError) as err:
        check_move(Status.REGISTERED, Status.CANCELLED, actor=_as(Role.WORKER), reason="")
    assert err.value.field == "role"


def test_terminal_statuses_have_no_way_out_and_archived_is_final():
    assert not [t for (f, t) in TRANSITIONS if f in (Status.ARCHIVED, Status.CANCELLED)]
    with pytest.raises(TransitionError, match=r"\[\]"):
        check_move(Status.ARCHIVED, Status.REOPENED, actor=_as(Role.ADMIN), reason="x")


def test_every_open_status_has_a_way_forward():
    sources = {f for (f, _) in TRANSITIONS}
    for status in Status:
        if status.open:
            assert status in sources, status


def test_transition_error_is_a_value_error():
    assert issubclass(TransitionError, ValueError)


# --- SLA lookup ---------------------------------------------------------------------------

def test_a_class_specific_row_beats_the_wildcard():
    table = sla_table()
    assert table[("04", Severity.URGENT)][Status.REPORTED] == 5
    assert table[("*", Severity.URGENT)][Status.REPORTED] == 10
    assert limit_minutes("04001", Severity.URGENT, Status.REPORTED) == 5
    assert limit_minutes("04002", Severity.URGENT, Status.DISPATCHED) == 10
    assert limit_minutes("20001", Severity.URGENT, Status.DISPATCHED) == 10
    # Same severity, a class without its own row: the wildcard.
    assert limit_minutes("11001", Severity.URGENT, Status.REPORTED) == 10
    assert limit_minutes("11001", Severity.URGENT, Status.DISPATCHED) == 15


def test_a_class_row_only_covers_its_own_severity():
    # 04 has an urgent row only; a routine 04 event uses the routine wildcard.
    assert ("04", Severity.ROUTINE) not in sla_table()
    assert limit_minutes("04001", Severity.ROUTINE, Status.REPORTED) == 60


@pytest.mark.parametrize("severity, status, minutes", [
    (Severity.URGENT, Status.REPORTED, 10),  # verify within 10 min
    (Severity.URGENT, Status.SIGNED, 15),  # signed for within 15 min
    (Severity.URGENT, Status.IN_PROGRESS, 120),  # made safe within 2 h
    (Severity.ROUTINE, Status.REPORTED, 60),  # 1 working hour
    (Severity.ROUTINE, Status.REGISTERED, 60),
    (Severity.ROUTINE, Status.DISPATCHED, 120),
    (Severity.ROUTINE, Status.SIGNED, 60),
    (Severity.ROUTINE, Status.IN_PROGRESS, 480),  # 4 h to a working day
    (Severity.COMPLEX, Status.IN_PROGRESS, 10080),  # 7 days
    (Severity.COMPLEX, Status.SIGNED, 60),
])
def test_urgent_routine_and_complex_limits(severity, status, minutes):
    assert limit_minutes("01001", severity, status) == minutes


def test_urgent_is_never_slower_than_routine_nor_routine_than_complex():
    for status in sla_table()[("*", Severity.ROUTINE)]:
        urgent = limit_minutes("99001", Severity.URGENT, status)
        routine = limit_minutes("99001", Severity.ROUTINE, status)
        complex_ = limit_minutes("99001", Severity.COMPLEX, status)
        assert urgent <= routine <= complex_, status


@pytest.mark.parametrize("status", [Status.COLLECTED, Status.VERIFIED, Status.CLOSED,
                                    Status.ARCHIVED, Status.CANCELLED])
def test_no_clock_runs_in_statuses_without_a_limit(status):
    for severity in Severity:
        assert limit_minutes("01001", severity, status) is None
        assert due_at("01001", severity, status, entered=1000.0) is None


def test_due_at_adds_the_limit_to_the_time_the_status_was_entered():
    entered = 1_800_000_000.0
    assert due_at("01001", Severity.ROUTINE, Status.REPORTED, entered=entered) == entered + 3600
    assert due_at("04001", Severity.URGENT, Status.REPORTED, entered=entered) == entered + 300
    assert due_at("03002", Severity.COMPLEX, Status.IN_PROGRESS,
                  entered=entered) == entered + 7 * 24 * 3600


# --- escalation ---------------------------------------------------------------------------

def test_escalation_climbs_one_tier_per_limit_on_a_manual_clock():
    clock = ManualClock()
    entered = clock.now()
    due = due_at("01001", Severity.ROUTINE, Status.REPORTED, entered=entered)
    span = due - entered

    def level() -> int:
        return escalation_level(entered=entered, due=due, now=clock.now())

    assert level() == 0
    clock.advance(span)  # exactly at the deadline: still on time
    assert level() == 0
    clock.advance(1)
    assert (level(), escalation_tier(level())) == (1, "general")
    clock.advance(span - 2)
    assert level() == 1
    clock.advance(1)  # one full limit past the deadline
    assert (level(), escalation_tier(level())) == (2, "total")
    clock.advance(span)
    assert (level(), escalation_tier(level())) == (3, "street")
    clock.advance(100 * span)
    assert (level(), escalation_tier(level())) == (3, "street")


def test_no_deadline_means_no_escalation():
    assert escalation_level(entered=0.0, due=None, now=1e12) == 0


def test_a_zero_length_limit_still_climbs_one_tier_per_second():
    assert escalation_level(entered=100.0, due=100.0, now=100.5) == 1
    assert escalation_level(entered=100.0, due=100.0, now=101.0) == 2


def test_tiers_are_named_lowest_first_and_clamped():
    assert [escalation_tier(i) for i in range(4)] == list(ESCALATION_TIERS)
    assert ESCALATION_TIERS == ("micro", "general", "total", "street")
    assert escalation_tier(-1) == "micro" and escalation_tier(99) == "street"


def test_manual_clock_moves_only_by_hand():
    clock = ManualClock(t=10.0)
    assert clock.now() == clock.now() == 10.0
    clock.advance(2.5)
    assert clock.now() == 12.5


_times = st.floats(min_value=0, max_value=1e7, allow_nan=False)


@given(entered=_times, limit=st.floats(min_value=1, max_value=1e6), a=_times, b=_times)
def test_escalation_is_monotonic_in_time(entered, limit, a, b):
    due = entered + limit
    early, late = sorted((entered + a, entered + b))
    lo = escalation_level(entered=entered, due=due, now=early)
    hi = escalation_level(entered=entered, due=due, now=late)
    assert 0 <= lo <= hi <= len(ESCALATION_TIERS) - 1


@given(entered=st.integers(min_value=0, max_value=10**7),
       limit=st.integers(min_value=1, max_value=10_000),
       missed=st.integers(min_value=0, max_value=10),
       into=st.integers(min_value=1, max_value=10_000))
def test_each_whole_limit_missed_raises_one_tier(entered, limit, missed, into):
    into = min(into, limit)  # seconds into the next limit: 1..limit
    due = entered + limit
    now = due + missed * limit + into
    level = escalation_level(entered=float(entered), due=float(due), now=float(now))
    expected = 1 + missed if into < limit else 2 + missed
    assert level == min(expected, len(ESCALATION_TIERS) - 1)


@given(category=st.sampled_from(["01001", "04001", "06001", "20002", "99001"]),
       severity=st.sampled_from(list(Severity)), status=st.sampled_from(list(Status)),
       entered=_times)
def test_due_is_never_before_entry(category, severity, status, entered):
    due = due_at(category, severity, status, entered=entered)
    assert due is None or due > entered
