"""`callbridge check URL` with no options after `make run`: the org, call center, key, queue, dialed number and
agent (with the demo password) come from the demo's files under ./var/demo, as `simulate`'s do."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callbridge.cli import check as check_command
from tests.cli.conftest import typer_app
from tests.e2e.test_serve_process import CLI, free_port, wait_until_listening

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`migrate`, `demo` and `serve` in a fresh folder, as `make run` does: the URL and the folder."""
    folder = tmp_path_factory.mktemp("check-demo")
    port = free_port()
    env = {**os.environ, "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'callbridge.db'}"}
    env.pop("CALLBRIDGE_CHECK_AGENT_PASSWORD", None)
    for args in (["migrate"], ["demo", "--base-url", f"http://127.0.0.1:{port}"]):
        subprocess.run([CLI, *args], cwd=folder, env=env, check=True, capture_output=True, timeout=60)
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen([CLI, "serve", "--port", str(port)], cwd=folder, env=env, stdout=log, stderr=log)
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}", folder
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_check_with_no_options_runs_every_check_against_the_demo(demo_server: tuple[str, Path]) -> None:
    """Nothing fails and nothing is skipped for want of an option (only the limits check, which needs a server
    enforcing limits)."""
    url, folder = demo_server
    env = {k: v for k, v in os.environ.items() if k != "CALLBRIDGE_CHECK_AGENT_PASSWORD"}
    result = subprocess.run(
        [CLI, "check", url, "--json"], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    report = json.loads(result.stdout)
    not_passed = {r["name"]: r["reason"] for r in report["results"] if r["status"] != "pass"}
    assert list(not_passed) == ["limits.create_rate_limited"], not_passed
    assert result.returncode == 0


def test_check_without_the_demo_files_names_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no ./var/demo and no --org, a usage error (exit 2) says to run `callbridge demo` or give the options."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(typer_app(check_command), ["check", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "callbridge demo" in result.output
