"""Callbridge as a separate process (``callbridge serve``), and what /proc says about it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass(frozen=True)
class Memory:
    rss_mb: float
    peak_rss_mb: float


def memory(pid: int) -> Memory:
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return Memory(rss_mb=round(values["VmRSS"], 1), peak_rss_mb=round(values["VmHWM"], 1))


def callbridge(*args: str, env: dict[str, str], cwd: Path) -> str:
    """Run a ``callbridge`` command to completion; its output (raises with it when the command fails)."""
    result = subprocess.run(
        [str(BIN / "callbridge"), *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"callbridge {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Server:
    """``with Server(env, cwd) as server``: serving on ``server.url`` until the block ends. With ``workers``
    above 1 (``callbridge serve --workers N``), ready once ``/readyz`` answers and a second more for the
    other workers to finish starting."""

    def __init__(self, env: dict[str, str], cwd: Path, workers: int = 1) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {**env, "CALLBRIDGE_LOG_LEVEL": "warning"}
        self._cwd = cwd
        self._log = cwd / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Server:
        log = self._log.open("ab")
        command = [str(BIN / "callbridge"), "serve", "--port", str(self.port), "--graceful-timeout", "2"]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        self._process = subprocess.Popen(command, env=self._env, cwd=self._cwd, stdout=log, stderr=subprocess.STDOUT)
        ready = "/healthz" if self.workers == 1 else "/readyz"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the server exited: {self._log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}{ready}", timeout=1) as response:
                    if response.status == 200:
                        if self.workers > 1:
                            time.sleep(1)  # the other workers finish starting
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer {ready} within 30 s")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def log_tail(self, chars: int = 2000) -> str:
        return self._log.read_text(errors="replace")[-chars:]
