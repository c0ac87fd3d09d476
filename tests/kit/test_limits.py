"""BodyLimit as an ASGI layer: what reaches the app, what never does, and what the client is answered."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from callbridge.config import Settings
from callbridge.kit.limits import BodyLimit

LIMIT = 4096
UPLOAD_LIMIT = 64 * 1024
APP = SimpleNamespace(
    state=SimpleNamespace(
        callbridge=SimpleNamespace(settings=Settings(max_body_bytes=LIMIT, transcript_upload_max_bytes=UPLOAD_LIMIT))
    )
)
UPLOAD_PATH = "/services/data/v62.0/connect/conversations/upload"


class Recorder:
    """Stands for the app: records the messages it receives, reads the whole body, answers 200."""

    def __init__(self) -> None:
        self.called = False
        self.received: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        while True:
            message = await receive()
            self.received.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def run(
    messages: list[Message], headers: list[tuple[bytes, bytes]], path: str = "/x"
) -> tuple[Recorder, list[Message], int]:
    """The app, what was sent to the client, and how many messages were taken from the client."""
    app = Recorder()
    pending = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": path, "headers": headers, "app": APP}
    await BodyLimit(app)(scope, receive, send)
    return app, sent, len(messages) - len(pending)


def chunks(count: int, size: int, *, last: bool = True) -> list[Message]:
    return [
        {"type": "http.request", "body": b"a" * size, "more_body": not (last and i == count - 1)} for i in range(count)
    ]


CHUNKED = [(b"transfer-encoding", b"chunked")]


async def test_declared_length_over_the_limit_never_reaches_the_app() -> None:
    """A Content-Length over the limit is a 413 with Connection: close, and not one body message is read."""
    app, sent, taken = await run(chunks(1, 10), [(b"content-length", str(LIMIT + 1).encode())])
    assert not app.called
    assert taken == 0
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_chunked_body_within_the_limit_arrives_whole() -> None:
    """A chunked body within the limit reaches the app as one message holding all of it."""
    app, _, _ = await run(chunks(4, 1000), CHUNKED)
    assert app.received[0] == {"type": "http.request", "body": b"a" * 4000, "more_body": False}


async def test_chunked_body_over_the_limit_stops_at_the_chunk_past_it() -> None:
    """Reading stops at the chunk that passes the limit: a 413, the app never runs, later chunks stay unread."""
    app, sent, taken = await run(chunks(50, 1000), CHUNKED)
    assert not app.called
    assert sent[0]["status"] == 413
    assert taken == LIMIT // 1000 + 1


async def test_client_leaving_midway_never_reaches_the_app() -> None:
    """A body whose client leaves before its end is never handed to the app; 499 is recorded for the metrics."""
    app, sent, _ = await run(chunks(2, 1000, last=False), CHUNKED)
    assert not app.called
    assert sent[0]["status"] == 499


async def test_small_declared_body_passes_untouched() -> None:
    """A declared body of up to 64 KiB goes to the app as the server delivers it, in its own messages."""
    app, _, _ = await run(chunks(2, 1000), [(b"content-length", b"2000")])
    assert [len(m["body"]) for m in app.received] == [1000, 1000]


async def test_upload_streams_past_the_general_limit() -> None:
    """The conversation upload is streamed to the app chunk by chunk, well past the general limit."""
    app, sent, _ = await run(chunks(10, 4000), CHUNKED, path=UPLOAD_PATH)
    assert len(app.received) == 10
    assert sent[0]["status"] == 200


async def test_upload_over_its_own_limit_is_refused() -> None:
    """The upload is refused with 413 once it passes its own limit (CALLBRIDGE_TRANSCRIPT_UPLOAD_MAX_BYTES)."""
    _, sent, taken = await run(chunks(40, 4000), CHUNKED, path=UPLOAD_PATH)
    assert sent[0]["status"] == 413
    assert taken == UPLOAD_LIMIT // 4000 + 1


async def test_request_without_a_body_is_not_read() -> None:
    """A request with neither Content-Length nor Transfer-Encoding goes straight to the app."""
    app, _, _ = await run([{"type": "http.request", "body": b"", "more_body": False}], [(b"host", b"x")])
    assert app.received == [{"type": "http.request", "body": b"", "more_body": False}]
