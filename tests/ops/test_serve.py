"""`callbridge serve` as a real process: JSON log lines when stderr is not a terminal, and with --workers 2 a
/metrics scrape of either worker counts the requests both served."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_serve_process import CLI, free_port, run, wait_until_listening

HEALTHZ = {"method": "GET", "route": "/healthz", "status": "200"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir()
    environment = {
        **os.environ,
        "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'callbridge.db'}",
        "TMPDIR": str(tmp_path / "tmp"),  # where serve makes the workers' metrics directory
    }
    environment.pop("CALLBRIDGE_LOG_FORMAT", None)
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return environment


@pytest.fixture
def two_workers(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    run(["migrate"], env)
    port = free_port()
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [CLI, "serve", "--port", str(port), "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_listening(port, process)
            yield port, process
        finally:
            process.terminate()
            process.wait(timeout=20)


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "callbridge_http_requests_total" and sample.labels == HEALTHZ:
                return sample.value
    return 0.0


def test_two_workers_share_metrics_and_log_json(
    two_workers: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """40 requests spread over two workers; every scrape, whichever worker answers it, counts all 40. The log is
    JSON lines only (stderr is a file), uvicorn's own lines included; the metrics directory is removed at exit."""
    port, process = two_workers
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(40):
            assert http.get("/healthz").status_code == 200
        scrapes = [http.get("/metrics") for _ in range(6)]
    assert {healthz_count(response.text) for response in scrapes} == {40.0}
    process.terminate()
    process.wait(timeout=20)
    lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line.strip()]
    assert all({"timestamp", "level", "event"} <= line.keys() for line in lines)
    events = [line["event"] for line in lines]
    assert any(event.startswith("Application startup complete") for event in events)
    assert not list((tmp_path / "tmp").iterdir())
