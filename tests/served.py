"""`callbridge serve` as a real process: a migrated SQLite file with a contact centre applied, served on a free
port until the block ends. Tests about sockets, processes and browsers share it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from callbridge.auth.certificates import KeyPair
from tests.e2e.test_serve_process import CLI, free_port, run, wait_until_listening


@dataclass(frozen=True)
class ServedProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve_contact_centre(
    directory: Path, key_pair: KeyPair, config: str, env: Mapping[str, str] | None = None
) -> Iterator[ServedProcess]:
    """`migrate`, `apply` of ``config`` (its certificate ``cert.pem`` beside it) and `serve`, as separate
    processes, with ``env`` added to the environment; stopped (killed if it will not stop) when the block ends."""
    environment = {
        **os.environ,
        "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'callbridge.db'}",
        **(env or {}),
    }
    (directory / "cert.pem").write_text(key_pair.certificate_pem)
    (directory / "cc.yaml").write_text(config)
    run(["migrate"], environment)
    run(["apply", "-f", str(directory / "cc.yaml")], environment)
    port = free_port()
    log_path = directory / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [CLI, "serve", "--port", str(port)], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_until_listening(port, process)
        yield ServedProcess(process, port, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
