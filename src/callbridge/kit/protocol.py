"""uvicorn's httptools protocol with the limits it lacks: request heads bounded in size (431) and in time, bodies
that stall closed, so nothing a client sends before signing in can hold memory or a connection indefinitely.

- A request line plus headers over ``max_header_bytes`` is answered 431 and the connection closed, counted as
  the bytes arrive (an unfinished head is refused as soon as it is too long, not when it ends).
- A request head that has not fully arrived ``header_timeout_seconds`` after its first byte (or after the
  connection opened) is answered 408 and closed; a silent new connection is just closed.
- A body that stalls for ``body_timeout_seconds`` between chunks is closed (the app sees the client leave),
  unless the server itself paused reading because the app has not read what it has.
- Between requests, uvicorn's keep-alive timeout closes idle connections.

Every callback added here is O(1) and a request that arrives in one read arms no timer.
``callbridge serve`` passes this class to uvicorn (``http=``), in every worker.
"""

from __future__ import annotations

import asyncio
from asyncio import TimerHandle
from functools import lru_cache
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from callbridge.config import get_settings
from callbridge.errors import ErrorBody


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a request whose head is over the limit."""


@lru_cache
def _limits() -> tuple[int, float, float]:
    settings = get_settings()
    return settings.max_header_bytes, settings.header_timeout_seconds, settings.body_timeout_seconds


def _error(code: str, message: str) -> bytes:
    return ErrorBody(code=code, message=message).model_dump_json().encode()


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._max_head, self._head_timeout, self._body_timeout = _limits()
        self._head_started = False  # a request head has begun and is not complete
        self._head_bytes = 0  # bytes received while that head was incomplete
        self._head_size = 0  # its URL and header bytes, as parsed
        self._head_too_large = False
        self._body_pending = False  # headers done, body not yet complete
        self._last_body = 0.0  # loop time of the last read while the body was pending
        self._timer: TimerHandle | None = None  # the head timer or the body timer, never both

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._cancel_timer()
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self._head_too_large:
                self._refuse_head()
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        if self._head_started:
            self._head_bytes += len(data)
            if self._head_bytes > self._max_head:
                self._refuse_head()
            elif self._timer is None:
                self._timer = self.loop.call_later(self._head_timeout, self._head_timed_out)
        elif self._body_pending:
            self._last_body = self.loop.time()
            if self._timer is None:
                self._timer = self.loop.call_later(self._body_timeout, self._body_timed_out)

    # Parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True
        self._head_size = 0

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_started = False
        self._head_bytes = 0
        self._cancel_timer()
        if self._head_size > self._max_head:
            self._head_too_large = True
            raise _HeadTooLarge
        super().on_headers_complete()
        self._body_pending = not (self.parser.should_upgrade() and self._should_upgrade())

    def on_message_complete(self) -> None:
        self._body_pending = False
        self._cancel_timer()
        super().on_message_complete()

    # Refusals
    def _refuse_head(self) -> None:
        self._head_too_large = True
        self.logger.warning(
            "Request line and headers over %d bytes from %s: 431, connection closed.", self._max_head, self._peer()
        )
        self._write_and_close(
            431,
            _error(
                "REQUEST_HEADERS_TOO_LARGE",
                f"The request line and headers exceed the limit of {self._max_head} bytes.",
            ),
        )

    def _head_timed_out(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._head_started:
            self.logger.info(
                "Request head from %s incomplete after %gs: 408, connection closed.", self._peer(), self._head_timeout
            )
            message = f"The request line and headers did not arrive within {self._head_timeout:g} s."
            self._write_and_close(408, _error("REQUEST_TIMEOUT", message))
        elif self.cycle is None:  # a new connection that never sent a byte
            self.transport.close()

    def _body_timed_out(self) -> None:
        self._timer = None
        if not self._body_pending or self.transport.is_closing():
            return
        idle = self.loop.time() - self._last_body
        if self.flow.read_paused:  # the app has not read what it has: the stall is ours, not the client's
            idle = 0.0
        if idle >= self._body_timeout:
            self.transport.close()
        else:
            self._timer = self.loop.call_later(self._body_timeout - idle, self._body_timed_out)

    def _write_and_close(self, status: int, body: bytes) -> None:
        self._cancel_timer()
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "?"

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
