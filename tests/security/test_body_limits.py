"""A 50 MB body to any route, before sign-in, against a real `callbridge serve`: refused with 413 before it is read
(at once when its length is declared), the connection closed, and the server's memory unmoved."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx2
import pytest

from callbridge.auth.certificates import KeyPair
from tests.security.served import MB, Served, chunked, push_until_refused, read_answer, served

pytestmark = pytest.mark.timeout(120)

BODY = 50 * MB
# Routes reachable without a token or a session, read by the console, the fast lane and FastAPI's router.
ROUTES = [
    ("POST", "/console/v1/session"),
    ("PUT", "/console/v1/presence"),
    ("POST", "/telephony/v1/voiceCalls"),
    ("POST", "/telephony/v1/voiceCalls/some-key/messages"),
    ("POST", "/nowhere/at/all"),
]
RSS_GROWTH_LIMIT = 5 * MB


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("body-limits"), key_pair) as server:
        yield server


def declared_attack(server: Served, method: str, path: str) -> tuple[int, float, int]:
    """A 50 MB Content-Length body: the answer's status, the seconds from the headers to the answer, and the
    body bytes the server took before it stopped reading."""
    with server.connect() as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {BODY}\r\n"
        head += "\r\n"
        start = time.monotonic()
        sock.sendall(head.encode())
        answer = read_answer(sock)
        elapsed = time.monotonic() - start
        taken = push_until_refused(sock, BODY, b"a" * 65536)
        assert answer.headers.get("connection") == "close"
        assert json.loads(answer.body)["code"] == "PAYLOAD_TOO_LARGE"
        return answer.status, elapsed, taken


def chunked_attack(server: Served, method: str, path: str) -> tuple[int, int]:
    """A 50 MB chunked body, sent until the server answers: its status and the bytes sent by then."""
    with server.connect() as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        head += "Transfer-Encoding: chunked\r\n\r\n"
        sock.sendall(head.encode())
        sent = push_until_refused(sock, BODY, chunked(65536))
        answer = read_answer(sock)
        assert answer.headers.get("connection") == "close"
        assert json.loads(answer.body)["code"] == "PAYLOAD_TOO_LARGE"
        return answer.status, sent


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_declared_50mb_body_is_refused_at_once(server: Served, method: str, path: str) -> None:
    """A 50 MB Content-Length body is a 413 in under 100 ms, before the body is read, costing < 5 MB of RSS."""
    declared_attack(server, method, path)  # warm-up: first use of this route's code
    before = server.rss_bytes()
    status, elapsed, taken = declared_attack(server, method, path)
    grown = server.rss_bytes() - before
    assert status == 413
    assert elapsed < 0.1, f"refused after {elapsed * 1000:.0f} ms"
    assert taken < 10 * MB, f"the server kept reading: {taken} bytes"
    assert grown < RSS_GROWTH_LIMIT, f"RSS grew by {grown / MB:.1f} MB"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_chunked_50mb_body_is_refused_past_the_limit(server: Served, method: str, path: str) -> None:
    """A 50 MB chunked body is a 413 once 1 MiB has passed, then the connection closes; RSS grows < 5 MB."""
    chunked_attack(server, method, path)  # warm-up
    before = server.rss_bytes()
    status, sent = chunked_attack(server, method, path)
    grown = server.rss_bytes() - before
    assert status == 413
    assert sent < 10 * MB, f"the server kept reading: {sent} bytes"
    assert grown < RSS_GROWTH_LIMIT, f"RSS grew by {grown / MB:.1f} MB"


def test_repeated_chunked_attacks_do_not_accumulate(server: Served) -> None:
    """Ten 50 MB chunked sign-in bodies in a row (the issue's 3 x 50 MB: +327 MB) leave RSS within 5 MB."""
    chunked_attack(server, "POST", "/console/v1/session")
    before = server.rss_bytes()
    for _ in range(10):
        assert chunked_attack(server, "POST", "/console/v1/session")[0] == 413
    grown = server.rss_bytes() - before
    assert grown < RSS_GROWTH_LIMIT, f"RSS grew by {grown / MB:.1f} MB"


def test_bodies_abandoned_midway_do_not_accumulate(server: Served) -> None:
    """Ten sign-ins that declare 1 MiB, send all but a byte and leave: RSS stays within 5 MB."""

    def abandon() -> None:
        with server.connect() as sock:
            head = "POST /console/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            sock.sendall(f"{head}Content-Length: {MB}\r\n\r\n".encode() + b" " * (MB - 1))
            time.sleep(0.05)

    abandon()
    before = server.rss_bytes()
    for _ in range(10):
        abandon()
    time.sleep(0.2)
    grown = server.rss_bytes() - before
    assert grown < RSS_GROWTH_LIMIT, f"RSS grew by {grown / MB:.1f} MB"


def test_body_within_the_limit_is_read(server: Served) -> None:
    """A chunked sign-in body within the limit reaches the endpoint: a wrong password is a 401, not a 413."""
    with server.connect() as sock:
        body = json.dumps({"username": "nobody@example.com", "password": "wrong"}).encode()
        head = b"POST /console/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        assert read_answer(sock).status == 401


def test_small_chunked_body_to_an_unknown_path_keeps_the_connection(server: Served) -> None:
    """An unread chunked body within the limit is dropped, not refused: 404, and the connection serves again."""
    with server.connect() as sock:
        request = b"POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(1000)
        sock.sendall(request + b"0\r\n\r\n")
        assert read_answer(sock).status == 404
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answer(sock).status == 200


def test_declared_body_within_the_limit_is_served(server: Served) -> None:
    """A 1 MiB sign-in body (exactly the limit) is read by the endpoint: 400 or 401, never 413."""
    padding = "x" * (MB - 100)
    body = json.dumps({"username": "nobody@example.com", "password": "wrong", "pad": padding}).encode()
    body += b" " * (MB - len(body))
    headers = {"Content-Type": "application/json"}
    response = httpx2.post(f"{server.url}/console/v1/session", content=body, headers=headers)
    assert response.status_code in (400, 401)


def test_upload_route_keeps_its_larger_limit(server: Served) -> None:
    """The conversation upload route is not held to the 1 MiB body limit (it streams up to 512 MB)."""
    with server.connect() as sock:
        head = (
            f"POST /services/data/v62.0/connect/conversations/upload HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {2 * MB}\r\n\r\n"
        )
        sock.sendall(head.encode())
        answer = read_answer(sock)
    assert answer.status == 401  # refused for its missing token, not its size
