"""Request heads and slow clients against a real `callbridge serve`: heads over 32 KiB are a 431 as soon as they
pass the limit, heads and bodies that stall are closed within their timeouts, idle connections are closed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from callbridge.auth.certificates import KeyPair
from tests.security.served import (
    BODY_TIMEOUT,
    HEADER_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    MB,
    Served,
    closed_within,
    push_until_refused,
    read_answer,
    served,
)

pytestmark = pytest.mark.timeout(120)

MAX_HEADER_BYTES = 32 * 1024
RSS_GROWTH_LIMIT = 5 * MB
SLACK = 1.0  # seconds a timer may fire late on a busy machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("headers"), key_pair) as server:
        yield server


def header_attack(server: Served, size: int) -> tuple[int, float, int]:
    """A request whose one header is ``size`` bytes, sent until the server answers: the status, the seconds from
    passing the limit to the answer, and the header bytes the server took."""
    with server.connect() as sock:
        sock.sendall(b"GET /console/v1/me HTTP/1.1\r\nHost: x\r\nX-Padding: ")
        start = time.monotonic()
        sock.sendall(b"a" * (MAX_HEADER_BYTES + 1024))
        answer = read_answer(sock)
        elapsed = time.monotonic() - start
        taken = MAX_HEADER_BYTES + 1024 + push_until_refused(sock, size, b"a" * 65536)
        assert answer.headers.get("connection") == "close"
        assert json.loads(answer.body)["code"] == "REQUEST_HEADERS_TOO_LARGE"
        return answer.status, elapsed, taken


def test_50mb_header_is_refused_with_431(server: Served) -> None:
    """A 50 MB header is a 431 within 100 ms of passing 32 KiB, the rest never read, RSS grows < 5 MB."""
    header_attack(server, 50 * MB)  # warm-up
    before = server.rss_bytes()
    status, elapsed, taken = header_attack(server, 50 * MB)
    grown = server.rss_bytes() - before
    assert status == 431
    assert elapsed < 0.1, f"refused after {elapsed * 1000:.0f} ms"
    assert taken < 10 * MB, f"the server kept reading: {taken} bytes"
    assert grown < RSS_GROWTH_LIMIT, f"RSS grew by {grown / MB:.1f} MB"


def test_ten_unfinished_10mb_headers_cost_nothing(server: Served) -> None:
    """Ten connections each sending an unfinished 10 MB header are each refused (431) and cost < 5 MB of RSS."""
    header_attack(server, MB)  # warm-up
    before = server.rss_bytes()
    sockets = [server.connect() for _ in range(10)]
    try:
        for sock in sockets:
            sock.sendall(b"POST /console/v1/session HTTP/1.1\r\nHost: x\r\nX-Padding: ")
        for sock in sockets:
            push_until_refused(sock, 10 * MB, b"a" * 65536)
        answers = [read_answer(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    grown = server.rss_bytes() - before
    assert [answer.status for answer in answers] == [431] * 10
    assert grown < RSS_GROWTH_LIMIT, f"RSS grew by {grown / MB:.1f} MB"


def test_long_url_is_refused_with_431(server: Served) -> None:
    """A request line over the limit (a 40 KB URL) is a 431 too: the limit counts URL and headers."""
    with server.connect() as sock:
        sock.sendall(b"GET /healthz?" + b"a" * 40_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answer(sock).status == 431


def test_many_small_headers_over_the_limit_are_refused(server: Served) -> None:
    """Headers arriving whole in one read but adding up to over 32 KiB are a 431 too."""
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(400))
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        assert read_answer(sock).status == 431


def test_headers_within_the_limit_are_served(server: Served) -> None:
    """A 20 KB header (a large cookie, say) is within the limit and served."""
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: c=" + b"a" * 20_000 + b"\r\n\r\n")
        assert read_answer(sock).status == 200


def test_silent_connection_is_closed_within_the_header_timeout(server: Served) -> None:
    """A connection that never sends a byte is closed after CALLBRIDGE_HEADER_TIMEOUT_SECONDS (1 s here)."""
    with server.connect() as sock:
        closed_after = closed_within(sock, HEADER_TIMEOUT + SLACK)
    assert closed_after is not None, "the silent connection is still open"
    assert closed_after >= HEADER_TIMEOUT * 0.9


def test_slowloris_is_closed_within_the_header_timeout(server: Served) -> None:
    """A head trickling in one byte every 100 ms is closed within the header timeout, although each byte
    arrives well within any idle timeout."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    closed = False
    with server.connect() as sock:
        start = time.monotonic()
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except ConnectionError:
                closed = True
            if closed or closed_within(sock, 0.1) is not None:
                closed = True
                break
            if time.monotonic() - start > HEADER_TIMEOUT + SLACK:
                break
        elapsed = time.monotonic() - start
    assert closed, f"still open after {elapsed:.1f} s"
    assert HEADER_TIMEOUT * 0.9 <= elapsed < HEADER_TIMEOUT + SLACK


def test_slowloris_gets_a_408_body(server: Served) -> None:
    """The answer to a head that did not arrive in time is a 408 REQUEST_TIMEOUT error body."""
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = read_answer(sock, timeout=HEADER_TIMEOUT + SLACK)
    assert answer.status == 408
    assert json.loads(answer.body)["code"] == "REQUEST_TIMEOUT"


def test_stalled_body_is_closed_within_the_body_timeout(server: Served) -> None:
    """A body that stops arriving halfway is closed after CALLBRIDGE_BODY_TIMEOUT_SECONDS (1 s here)."""
    with server.connect() as sock:
        sock.sendall(
            b"POST /console/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"username": '
        )
        closed_after = closed_within(sock, BODY_TIMEOUT + SLACK)
    assert closed_after is not None, "the stalled body's connection is still open"


def test_trickling_body_is_closed_when_it_stalls(server: Served) -> None:
    """A chunked body whose chunks keep coming is read; the connection closes only once the chunks stop."""
    with server.connect() as sock:
        sock.sendall(
            b"POST /console/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for _ in range(int(BODY_TIMEOUT * 2 / 0.25)):  # twice the timeout in total, 250 ms apart
            sock.sendall(b"1\r\n \r\n")
            assert closed_within(sock, 0.25) is None, "closed while the body was still arriving"
        assert closed_within(sock, BODY_TIMEOUT + SLACK) is not None, "still open after the body stalled"


def test_idle_keep_alive_connection_is_closed(server: Served) -> None:
    """After a response, a connection that sends nothing more is closed after the keep-alive timeout."""
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answer(sock).status == 200
        assert closed_within(sock, KEEP_ALIVE_TIMEOUT + SLACK) is not None
