"""A live server for the documents' runnable blocks: `migrate`, `demo` and `serve` in a fresh folder, as
`make run` does, on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_serve_process import CLI, free_port, wait_until_listening


@dataclass(frozen=True)
class DocServer:
    url: str
    folder: Path  # the reader's working folder: var/demo/ is here
    env: dict[str, str]


@pytest.fixture(scope="session")
def doc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocServer]:
    folder = tmp_path_factory.mktemp("doctest")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'var' / 'callbridge.db'}",
        "COLUMNS": "120",
    }
    (folder / "var").mkdir()
    for args in (["migrate"], ["demo", "--base-url", url]):
        subprocess.run([CLI, *args], cwd=folder, env=env, check=True, capture_output=True, timeout=60)
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen([CLI, "serve", "--port", str(port)], cwd=folder, env=env, stdout=log, stderr=log)
    try:
        wait_until_listening(port, process)
        yield DocServer(url, folder, env)
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
