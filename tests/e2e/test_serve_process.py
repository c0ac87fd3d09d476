"""End to end: the README's first run, with `callbridge serve` as a real process driven over a socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

CLI = str(Path(sys.executable).parent / "callbridge")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited early"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout}s")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'callbridge.db'}",
        "COLUMNS": "250",
    }


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def server(env: dict[str, str], port: int, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`migrate`, `demo` and `serve`, as `make run` does them."""
    run(["migrate"], env)
    (tmp_path / "demo-output.txt").write_text(
        run(["demo", "--dir", str(tmp_path / "demo"), "--base-url", f"http://127.0.0.1:{port}"], env)
    )
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_printed_curl_creates_a_call_that_reads_back(
    server: subprocess.Popen[bytes], env: dict[str, str], port: int, tmp_path: Path
) -> None:
    """The curl `callbridge demo` prints creates a VoiceCall on the served process; a token minted with
    `callbridge token` reads it back over the socket."""
    output = (tmp_path / "demo-output.txt").read_text()
    curl = output[output.index("KEY=") :].strip()
    created = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30)
    assert created.returncode == 0, created.stderr
    voice_call_id = json.loads(created.stdout)["voiceCallId"]
    assert voice_call_id.startswith("0LQ")

    token = run(
        [
            "token",
            "--org",
            "00D000000000001AAA",
            "--call-center",
            "DemoCC",
            "--key",
            str(tmp_path / "demo" / "private.key"),
        ],
        env,
    ).strip()
    response = httpx2.get(
        f"http://127.0.0.1:{port}/telephony/v1/voiceCalls/{voice_call_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json()["telephonyProviderName"] == "demo"


def test_printed_curl_makes_a_new_call_each_time_it_is_pasted(server: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """The shell makes the curl's vendorCallKey: pasting it twice creates two calls, never a repeat of one."""
    output = (tmp_path / "demo-output.txt").read_text()
    curl = output[output.index("KEY=") :].strip()
    ids = set()
    for _ in range(2):
        created = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30)
        ids.add(json.loads(created.stdout)["voiceCallId"])
    assert len(ids) == 2


def test_server_stops_cleanly_on_sigterm(server: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """SIGTERM ends the server promptly through a graceful shutdown (uvicorn re-raises the signal after it)."""
    server.terminate()
    assert server.wait(timeout=15) in (0, -15)
    log = (tmp_path / "server.log").read_text()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log


def test_serve_refuses_an_unmigrated_database(env: dict[str, str], port: int) -> None:
    """`serve` on an empty database says to run `callbridge migrate` instead of failing later."""
    result = subprocess.run([CLI, "serve", "--port", str(port)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "callbridge migrate" in result.stderr
