"""Schemathesis against the served OpenAPI document: every operation, every check, a short
profile (`grid-dispatch fuzz api` runs the long one).

A request the document calls valid must be taken, one it calls invalid refused with a 4xx,
and every answer must be one the document lists, in its media type, headers and schema;
nothing may answer 5xx. The app runs on its own Redis database, so what the fuzzer creates
(tokens, devices, events) stays out of the other tests' data.
"""

from __future__ import annotations

import pytest

from bench.fuzz import Figures, Identity, fuzz_app
from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Role
from geo.model import Tier

SEED = 20_221_021
#: Examples per operation in the fuzzing phase; the coverage phase adds its own cases (for
#: the signed-in caller, leaving out the operations it takes hundreds of cases to cover).
SIGNED_IN, ANONYMOUS = 4, 2
FUZZ_DB = 7


@pytest.fixture(scope="module")
def served(redis_server, cache_dir, demo_grids, tmp_path_factory):
    url = redis_server.url.rsplit("/", 1)[0] + f"/{FUZZ_DB}"
    runtime = open_runtime(Settings(redis_url=url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")))
    app = create_app(runtime=runtime)
    identity = Identity(admin=runtime.auth.create_token(name="fuzz-admin", role=Role.ADMIN),
                        integration=runtime.auth.create_token(name="fuzz-integration",
                                                              role=Role.INTEGRATION))
    grid = str(demo_grids.tier(Tier.MICRO)["code"].sort_values().iloc[0])
    yield app.server, identity, grid
    runtime.close()


def _clean(figures: Figures) -> None:
    found = figures.as_dict()
    assert figures.cases > figures.operations, found
    assert figures.errors == [], found
    assert figures.server_errors == 0, "\n".join(figures.failures[:20])
    assert not figures.conformance_failures, "\n".join(figures.failures[:20])


def test_signed_in_caller_meets_the_document(served):
    server, identity, grid = served
    figures = fuzz_app(server, examples=SIGNED_IN, seed=SEED, identity=identity, grid=grid)
    assert figures.operations >= 25
    _clean(figures)


def test_anonymous_caller_meets_the_document(served):
    server, _, grid = served
    _clean(fuzz_app(server, examples=ANONYMOUS, seed=SEED, identity=Identity(), grid=grid,
                    coverage="none"))
