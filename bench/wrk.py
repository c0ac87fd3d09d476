"""Running wrk with a scenario's Lua script: the figures it prints, its own CPU time, the server's CPU time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.server import cpu_seconds

LUA = Path(__file__).parent / "lua"


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    errors: dict[str, int]
    latency_ms: dict[str, float]
    tokens_used: int
    token_repeats: int
    client_cpu_s: float  # wrk's user + system time over the run
    server_cpu_s: float  # the server process's, over the same run
    connections: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.rate, 1),
            "errors": self.errors,
            "latency_ms": self.latency_ms,
            "tokens_used": self.tokens_used,
            "token_repeats": self.token_repeats,
            "client_cpu_s": round(self.client_cpu_s, 2),
            "server_cpu_s": round(self.server_cpu_s, 2),
            "server_cpu_us_per_request": round(self.server_cpu_s / self.requests * 1e6) if self.requests else None,
            "connections": self.connections,
        }


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk (make bench does it when it may)")
    return found


def run_wrk(
    url: str,
    scenario: str,
    *,
    seconds: float,
    connections: int,
    server_pid: int,
    params: dict[str, str | int | Path] | None = None,
) -> WrkRun:
    """One wrk run of ``lua/<scenario>.lua`` (after ``lua/common.lua``), one thread, ``connections`` open."""
    script = (LUA / "common.lua").read_text() + "\n" + (LUA / f"{scenario}.lua").read_text()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        script_path = handle.name
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        script_path,
        url,
        "--",
        *(f"{key}={value}" for key, value in (params or {}).items()),
    ]
    server_before = cpu_seconds(server_pid)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    server_cpu = cpu_seconds(server_pid) - server_before
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read().decode()
    err = process.stderr.read().decode()
    process.returncode = os.waitstatus_to_exitcode(status)
    os.unlink(script_path)
    line = next((x for x in out.splitlines() if x.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{out}\n{err}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return WrkRun(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["errors"],
        latency_ms={k: round(v / 1000, 2) for k, v in data["latency_us"].items()},
        tokens_used=data["tokens_used"],
        token_repeats=data["token_repeats"],
        client_cpu_s=usage.ru_utime + usage.ru_stime,
        server_cpu_s=server_cpu,
        connections=connections,
    )


def pause(seconds: float = 0.5) -> None:
    """Let the server drain between runs (its writer batches, the routing timer)."""
    time.sleep(seconds)
