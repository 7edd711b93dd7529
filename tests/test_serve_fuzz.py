"""Schemathesis over the server's OpenAPI schema: no generated request gets a 5xx.

Every operation is called with requests Hypothesis generates from the schema (random
form fields, random bytes as uploads, odd ids and paths); each answer must be below 500,
and every 4xx must be the JSON error with a message. The API runs in-process with no
workers (jobs that are accepted just wait in the queue).
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from heihachi.serve.app import create_app  # noqa: E402
from heihachi.serve.settings import ServeSettings  # noqa: E402


def _app(tmp: str):
    # no workers: a waiting request (?wait=true) gives up after 0.2 s and answers 202
    s = ServeSettings(data=f"{tmp}/data", rate_per_s=0, max_upload_mb=2, max_queue=100_000,
                      wait_timeout_s=0.2)
    return create_app(s, start_workers=False)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return _app(str(tmp_path_factory.mktemp("fuzz")))


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def check(case) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path,
                                        response.status_code, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert body["status"] == response.status_code and body["message"], body
        assert "Traceback" not in response.text


def test_no_server_errors(api_schema):
    operations = [r.ok() for r in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for op in operations:
        @given(op.as_strategy())
        @settings(max_examples=20, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            check(case)

        run()
