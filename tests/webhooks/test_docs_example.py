"""docs/integrations.md's example receiver runs as written and verifies signatures with the library."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2

from callbridge.webhooks.envelope import Outgoing, request_of, secret_of
from tests.e2e.test_serve_process import free_port
from tests.webhooks.conftest import SECRET, SECRET_ENV

DOC = Path(__file__).parents[2] / "docs" / "integrations.md"


def example() -> str:
    found = re.search(r"<!-- receiver-example -->\n```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert found is not None, "the receiver example is missing from docs/integrations.md"
    return found.group(1)


def test_the_documented_receiver_accepts_a_signed_event_once_and_refuses_a_forged_one(tmp_path: Path) -> None:
    """The snippet answers 204 to a signed event (printing it once, though sent twice) and 401 to a bad one."""
    script = tmp_path / "receiver.py"
    script.write_text(example())
    port = free_port()
    env = {**os.environ, "CRM_WEBHOOK_SECRET": SECRET, "PORT": str(port)}
    log = tmp_path / "receiver.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        now = datetime.now(UTC)
        outgoing = Outgoing(9, "cb_3_9", "9", "transcript.accepted", "0dgXX", "0LQXX", now, {"id": 9, "content": "hi"})
        os.environ.setdefault(SECRET_ENV, SECRET)
        headers, body = request_of(outgoing, secret_of(SECRET_ENV), now)
        url = f"http://127.0.0.1:{port}/callbridge"
        while True:
            try:
                first = httpx2.post(url, content=body, headers=headers)
                break
            except httpx2.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                time.sleep(0.1)
        again = httpx2.post(url, content=body, headers=headers)
        forged = httpx2.post(url, content=body.replace(b"hi", b"ho"), headers=headers)
        assert (first.status_code, again.status_code, forged.status_code) == (204, 204, 401)
    finally:
        process.terminate()
        process.wait(10)
    lines = log.read_text().splitlines()
    assert [line.split(" ", 2)[:2] for line in lines if line.startswith("transcript.")] == [
        ["transcript.accepted", "0LQXX"]
    ]
