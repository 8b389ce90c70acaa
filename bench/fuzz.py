"""Schemathesis over every operation of the served OpenAPI document, with every check.

`grid-dispatch fuzz api` runs a long profile against `grid-dispatch serve` on a fresh embedded
Redis; tests/dashboard/api/test_schemathesis.py runs a short one against the app in process.
Both read the same configuration from :func:`config`, so what CI passes is what the long run
means.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: Answers a schema-valid request may still get, by operation, and why the document cannot
#: rule them out: validity here depends on the district's geography or on state the
#: document cannot name (a point must fall inside a grid, a form token is issued per page).
SEMANTIC: dict[str, tuple[list[str], str]] = {
    "POST /api/v1/events": (["422"], "the point must lie inside a grid of the district"),
    "POST /api/v1/events/batch": (["422"], "each point must lie inside a grid of the district"),
    "POST /api/v1/iot/devices": (["422"], "the point must lie inside a grid of the district"),
    "POST /api/v1/tokens": (["422"], "a device token names a registered device"),
    "POST /api/v1/hotline/import": (["422"], "the export's columns and rows are checked "
                                             "inside the file"),
    "GET /open311/v2/requests.{fmt}": (["400"], "end_date not before start_date, at most 90 "
                                                "days apart"),
    "POST /open311/v2/requests.{fmt}": (["400"], "the point must lie inside the district "
                                                 "(GeoReport answers every field problem 400)"),
    "POST /report": (["400", "422"], "a grid code of the district and a one-time form token "
                                     "that only the form page issues"),
    "GET /m/link/{token}": (["410"], "a one-time link that `workers link` issued and nobody "
                                     "has used"),
    "POST /api/v1/drills": (["422"], "the scope names the district, a street or a grid of the "
                                     "loaded set; a named team is on the roster; someone (or "
                                     "some household) is in scope"),
    "POST /api/v1/drills/{drill_id}/slots": (["422"], "start is a real local time"),
}
#: Default expected answers of schemathesis, and 413, which refuses a batch or body too large.
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422",
                     "428", "429", "5xx"]
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
#: Operations whose coverage phase alone is 50 to 360 cases: the short profile (CI) only
#: fuzzes them, the long one (`grid-dispatch fuzz api`) covers them too.
HEAVY = ("POST /api/v1/events", "POST /api/v1/events/batch", "GET /api/v1/events",
         "POST /open311/v2/requests.{fmt}", "GET /open311/v2/requests.{fmt}",
         "POST /api/v1/events/{event_id}/transitions", "POST /api/v1/iot/devices",
         "POST /api/v1/iot/alarms", "POST /api/v1/tokens")
INSTALL = "schemathesis is not installed: pip install -e '.[test]'"


class FuzzerMissingError(RuntimeError):
    """schemathesis (the `test` extra) is not installed."""


@dataclass
class Identity:
    """Who the run calls as: an administrator's token, and an integration's for raising
    alarms (neither for an anonymous run)."""

    admin: str | None = None
    integration: str | None = None


@dataclass
class Figures:
    """What a run counted; failures and errors kept as text to show."""

    operations: int = 0
    cases: int = 0
    server_errors: int = 0
    conformance_failures: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"operations": self.operations, "cases": self.cases,
                "server_errors": self.server_errors,
                "conformance_failures": dict(sorted(self.conformance_failures.items())),
                "errors": len(self.errors), "seconds": round(self.seconds, 1),
                "first_failures": self.failures[:10] + self.errors[:5]}

    def add(self, other: Figures) -> None:
        self.operations = max(self.operations, other.operations)
        self.cases += other.cases
        self.server_errors += other.server_errors
        self.conformance_failures.update(other.conformance_failures)
        self.errors += other.errors
        self.failures += other.failures
        self.seconds += other.seconds


def require_schemathesis() -> None:
    if importlib.util.find_spec("schemathesis") is None:
        raise FuzzerMissingError(INSTALL)


def config(*, examples: int, seed: int, identity: Identity, grid: str,
           stateful: bool = False, coverage: str = "all", workers: int = 1) -> Any:
    """The run's schemathesis configuration: every check, the expected answers above,
    ``grid`` (a real micro-grid code) for the parameters that must name one. ``coverage``
    is ``all``, ``light`` (not the HEAVY operations) or ``none``."""
    import schemathesis

    operations: list[dict[str, Any]] = [
        {"include-name": name, "checks": {"positive_data_acceptance": {
            "expected-statuses": [*POSITIVE_STATUSES, *statuses]}}}
        for name, (statuses, _why) in SEMANTIC.items()]
    operations += [
        {"include-name": "GET /api/v1/events", "parameters": {"query.grid": grid}},
        {"include-name": "GET /report", "parameters": {"query.grid": grid}},
    ]
    if coverage == "light":
        operations += [{"include-name": name, "phases": {"coverage": {"enabled": False}}}
                       for name in HEAVY]
    if identity.integration:  # an administrator holds every grant but raising alarms
        operations.append({"include-name": "POST /api/v1/iot/alarms",
                           "headers": {"Authorization": f"Bearer {identity.integration}"}})
    data: dict[str, Any] = {
        "seed": seed,
        "workers": workers,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": examples, "deterministic": True, "no-shrink": True,
                       "database": "none"},
        "checks": {"enabled": True,
                   "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
                   "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES}},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": coverage != "none"},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": stateful}},
        "warnings": False,
        "operations": operations,
    }
    if identity.admin:
        data["headers"] = {"Authorization": f"Bearer {identity.admin}"}
    return schemathesis.Config.from_dict(data)


def execute(schema: Any) -> Figures:
    """Run every phase the configuration enables and count what happened."""
    from schemathesis.engine import Status, events, from_schema

    figures = Figures()
    started = time.monotonic()
    labels: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            _count(event.recorder, figures, labels, Status)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            figures.errors.append(_error_text(event))
    figures.operations = len(labels)
    figures.seconds = time.monotonic() - started
    return figures


def _count(recorder: Any, figures: Figures, labels: set[str], status: Any) -> None:
    for case_id, node in recorder.cases.items():
        figures.cases += 1
        labels.add(node.value.operation.label)
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        if response is not None and response.status_code >= 500:
            figures.server_errors += 1
        for check in recorder.checks.get(case_id, []):
            if check.status == status.FAILURE:
                figures.conformance_failures[check.name] += 1
                failure = check.failure_info.failure if check.failure_info else None
                title = getattr(failure, "title", "") if failure is not None else ""
                message = getattr(failure, "message", "") if failure is not None else ""
                request = interaction.request if interaction is not None else None
                where = f"{request.method} {request.uri}" if request is not None else ""
                figures.failures.append(
                    f"{check.name}: {node.value.operation.label}: {title}: "
                    f"{message[:300]} [{where[:300]}] -> "
                    f"{response.status_code if response is not None else '-'} "
                    f"{(response.text if response is not None else '')[:200]}")


def _error_text(event: Any) -> str:
    value = getattr(event, "value", None) or getattr(event, "exception", None)
    return f"{getattr(event, 'label', '')}: {type(value).__name__}: {str(value)[:300]}"


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app of this process on a loopback port, in a thread: its base URL.

    Over HTTP rather than schemathesis' in-process WSGI transport, whose probes for
    ``ignored_auth`` pass it options a WSGI client does not take.
    """
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="fuzz-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def fuzz_app(app: Any, *, examples: int, seed: int, identity: Identity, grid: str,
             coverage: str = "light") -> Figures:
    """The app of this process (its WSGI callable), as the tests run it: no stateful
    phase, and by default a light coverage phase."""
    with serving(app) as base:
        return fuzz_url(base, examples=examples, seed=seed, identity=identity, grid=grid,
                        stateful=False, coverage=coverage, workers=1)


def fuzz_url(base: str, *, examples: int, seed: int, identity: Identity, grid: str,
             stateful: bool, coverage: str = "all", workers: int = 1) -> Figures:
    import schemathesis

    cfg = config(examples=examples, seed=seed, identity=identity, grid=grid,
                 stateful=stateful, coverage=coverage, workers=workers)
    return execute(schemathesis.openapi.from_url(f"{base}/openapi.json", config=cfg))


def run(settings: Any, *, examples: int, seed: int, anonymous: bool = True,
        stateful: bool = True, workers: int = 2) -> dict[str, Any]:
    """`grid-dispatch serve` on a fresh embedded Redis, fuzzed as an administrator (and an
    integration for alarms), then as an anonymous caller: JSON figures of both."""
    require_schemathesis()
    from bench.harness import running_server
    from dispatch.access.credentials import Auth
    from dispatch.access.roles import Role
    from dispatch.store import Store
    from geo.catalog import demo_grid_set
    from geo.model import Tier

    grid = str(demo_grid_set(settings.cache_dir).tier(Tier.MICRO)["code"].iloc[0])
    started = time.monotonic()
    with running_server(settings, fsync="everysec") as (base, redis_server, _token, _pid):
        store = Store.from_url(redis_server.url)
        auth = Auth(store.auth)
        identity = Identity(admin=auth.create_token(name="fuzz-admin", role=Role.ADMIN),
                            integration=auth.create_token(name="fuzz-integration",
                                                          role=Role.INTEGRATION))
        store.close()
        runs = {"signed": fuzz_url(base, examples=examples, seed=seed, identity=identity,
                                   grid=grid, stateful=stateful, workers=workers)}
        if anonymous:
            runs["anonymous"] = fuzz_url(base, examples=max(1, examples // 4), seed=seed,
                                         identity=Identity(), grid=grid, stateful=False,
                                         workers=workers)
    total = Figures()
    for figures in runs.values():
        total.add(figures)
    out = total.as_dict() | {"seconds": round(time.monotonic() - started, 1),
                             "examples_per_operation": examples, "seed": seed}
    out["runs"] = {name: figures.as_dict() for name, figures in runs.items()}
    return out
