"""Schemathesis against a live server: generated requests to every operation of `/openapi.json` get no 5xx,
and every status code, Content-Type, documented header and body is what the document says (and what a request
deletes is gone). Bounded to a few hundred cases per run;
`benchmarks/schemathesis_run.py` is the bigger run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.schemathesis_run import run

from tests.support import loopback
from tests.support.isolated import Deployment, deployment
from tests.support.server import Server

MAX_EXAMPLES = 10  # per operation and phase: about 300 cases in all
# The document and the answers do not depend on the database: one run, on PostgreSQL where the suite has it
# (its column types are the stricter: an out-of-range id would surface there first).
pytestmark = pytest.mark.one_database
SEED = 20261128  # fixed, so that a failure reproduces; the benchmark script draws a fresh one each run


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, Server]]:
    """A deployment of its own: the fuzzer buys numbers and writes routes that other tests must not see."""
    with deployment(tmp_path_factory.mktemp("schemathesis")) as place:
        server = place.in_process_server().start()
        try:
            yield place, server
        finally:
            server.terminate()


def test_generated_requests_get_documented_answers(live: tuple[Deployment, Server]) -> None:
    place, server = live
    keys = place.new_account("schemathesis")
    with loopback.client(base_url=server.url, auth=keys, timeout=30) as client:
        for item in client.get("/v2/numbers/available", params={"starts_with": "1312", "limit": 2}).json()["data"]:
            assert client.post(f"/v2/numbers/{item['id']}").status_code == 201
    outcome = run(
        server.url,
        keys,
        place.admin_token(),
        max_examples=MAX_EXAMPLES,
        phases="examples,fuzzing,stateful",
        seed=SEED,
    )
    print(outcome.summary())
    assert outcome.ok, f"{outcome.summary()}\n\n{outcome.output[-15000:]}"
    assert 150 <= outcome.cases <= 1500, outcome.summary()
    log = Path(server.log_path) if server.log_path else None
    assert log is None or "Traceback" not in log.read_text(), "the server logged an unhandled error"
