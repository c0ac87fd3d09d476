"""Property-based: whatever schemathesis generates from the OpenAPI document, the server never answers 5xx."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.e2e.test_serve_process import CLI, free_port, run, wait_until_listening

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"
schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A served demo contact centre and a token for it (reused, as Salesforce's token rotator does)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {**os.environ, "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'callbridge.db'}"}
    run(["migrate"], env)
    run(["demo", "--dir", str(tmp / "demo")], env)
    key = str(tmp / "demo" / "private.key")
    token = run(["token", "--org", "00D000000000001AAA", "--call-center", "DemoCC", "--key", key, "--ttl", "1h"], env)
    process = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}", token.strip()
    finally:
        process.terminate()
        process.wait(timeout=15)


@schema.include(path_regex="^/telephony/v1/").parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_for_any_generated_request(case: schemathesis.Case, live: tuple[str, str]) -> None:
    """Generated bodies, paths and query strings (JSON and XML) get a 2xx or a 4xx with the error body, never 5xx."""
    base_url, token = live
    response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[not_a_server_error])
