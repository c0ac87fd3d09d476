"""`callbridge serve` as a real process (a migrated SQLite file, the routing tests' contact centre applied, small
timeouts set by environment), its memory read from /proc, and raw-socket helpers to attack it with."""

from __future__ import annotations

import select
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from callbridge.auth.certificates import KeyPair
from tests.routing.conftest import CONFIG
from tests.served import serve_contact_centre

MB = 1024 * 1024
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
KEEP_ALIVE_TIMEOUT = 1.0
WS_MAX_MESSAGE = 64 * 1024


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_bytes(self) -> int:
        """The server process's resident memory (VmRSS)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS line")

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


@contextmanager
def served(directory: Path, key_pair: KeyPair) -> Iterator[Served]:
    settings = {
        "CALLBRIDGE_LOG_LEVEL": "warning",
        "CALLBRIDGE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CALLBRIDGE_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "CALLBRIDGE_KEEP_ALIVE_TIMEOUT_SECONDS": str(KEEP_ALIVE_TIMEOUT),
        "CALLBRIDGE_WS_MAX_MESSAGE_BYTES": str(WS_MAX_MESSAGE),
    }
    with serve_contact_centre(directory, key_pair, CONFIG, settings) as process:
        yield Served(process.process, process.port, process.log)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def read_answer(sock: socket.socket, timeout: float = 5.0) -> Answer:
    """One HTTP response (status line, headers, a Content-Length body) read from ``sock``."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the connection closed before a response; got {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return Answer(int(status_line.split()[1]), headers, body)


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock`` (EOF or reset), reading and discarding whatever it sends first;
    None if it was still open after ``seconds``."""
    start = time.monotonic()
    sock.settimeout(None)
    while True:
        left = seconds - (time.monotonic() - start)
        if left <= 0:
            return None
        readable, _, _ = select.select([sock], [], [], left)
        if not readable:
            return None
        try:
            if not sock.recv(65536):
                return time.monotonic() - start
        except ConnectionError:
            return time.monotonic() - start


def push_until_refused(sock: socket.socket, total: int, piece: bytes) -> int:
    """Send ``piece`` repeatedly, up to ``total`` bytes, stopping as soon as the server answers or closes; the
    bytes sent. A server that reads everything would take all ``total`` bytes."""
    sent = 0
    sock.setblocking(False)
    try:
        while sent < total:
            readable, writable, _ = select.select([sock], [sock], [], 5)
            if readable:
                break
            if not writable:
                raise AssertionError("the server neither reads nor answers")
            try:
                sent += sock.send(piece)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionError:
                break
    finally:
        sock.setblocking(True)
    return sent


def chunked(size: int) -> bytes:
    """``size`` bytes of body as one chunk of chunked transfer coding."""
    return b"%x\r\n" % size + b"a" * size + b"\r\n"
