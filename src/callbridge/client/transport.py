"""HTTP plumbing of the clients: base URLs, a fresh ``Authorization`` per attempt, bounded retries that honour
``Retry-After``, and turning error answers into the client's exceptions."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final, TypeVar

import httpx2
from pydantic import BaseModel, TypeAdapter, ValidationError

from callbridge.client.errors import ApiError, TransportError, UnexpectedResponse, error_class

log = logging.getLogger("callbridge.client")

TELEPHONY_PREFIX: Final = "/telephony/v1"
CONSOLE_PREFIX: Final = "/console/v1"
USER_AGENT: Final = "callbridge-client/0.1"

# The server says these were refused before anything was done: safe to resend whatever the request.
ALWAYS_RETRYABLE: Final = frozenset({429, 503})
# These may come after the request took effect: resent only when resending cannot change the outcome.
RETRYABLE_WHEN_IDEMPOTENT: Final = frozenset({500, 502, 504})

Model = TypeVar("Model", bound=BaseModel)
Sleep = Callable[[float], Awaitable[None]]


class _NoBody:
    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Final = _NoBody()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is resent.

    At most ``max_attempts`` attempts in all. The wait before a retry is the server's ``Retry-After`` when it
    gives one (a wait longer than ``max_retry_after_seconds`` is not waited for: the error is raised), else
    ``backoff_seconds`` doubling each time up to ``max_backoff_seconds``. 429 and 503 are always retried;
    500, 502, 504 and a connection lost mid-request only for requests that are safe to repeat.

    >>> RetryPolicy(max_attempts=3, backoff_seconds=0.2).delay(attempt=2, retry_after=None)
    0.4
    """

    max_attempts: int = 4
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    max_retry_after_seconds: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return max(retry_after, 0.0)
        return float(min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds))


NO_RETRY: Final = RetryPolicy(max_attempts=1)


def api_root(base_url: str) -> str:
    """The server's root URL, from either the root or an API base such as ``SCRT_ENDPOINT_BASE``
    (``https://x.my.salesforce-scrt.com/telephony/v1``)."""
    root = base_url.strip().rstrip("/")
    for prefix in (TELEPHONY_PREFIX, CONSOLE_PREFIX):
        if root.endswith(prefix):
            root = root[: -len(prefix)]
    if not root.startswith(("http://", "https://")):
        raise ValueError(f"{base_url!r} is not an http(s) URL")
    return root


def retry_after_seconds(response: httpx2.Response) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def api_error(response: httpx2.Response) -> ApiError:
    """The exception for an error answer, with the server's ``code``, ``message`` and ``errors``."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = response.text
    code: str | None = None
    message = response.reason_phrase or f"HTTP {response.status_code}"
    errors: list[str] = []
    if isinstance(body, dict):
        if isinstance(body.get("code"), str):
            code = body["code"]
        if isinstance(body.get("message"), str):
            message = body["message"]
        raw_errors = body.get("errors")
        if isinstance(raw_errors, list):
            errors = [str(item) for item in raw_errors]
        elif isinstance(raw_errors, str) and raw_errors:
            errors = [raw_errors]
    elif isinstance(body, str) and body.strip():
        message = body.strip()[:300]
    request = response.request
    return error_class(response.status_code)(
        method=request.method,
        url=str(request.url),
        status=response.status_code,
        code=code,
        message=message,
        errors=errors,
        body=body,
        headers=dict(response.headers),
        retry_after=retry_after_seconds(response),
    )


def parse(response: httpx2.Response, model: type[Model]) -> Model:
    """The body as ``model``; ``UnexpectedResponse`` when it is not JSON of that shape."""
    return _validate(response, TypeAdapter(model))


def parse_list(response: httpx2.Response, model: type[Model]) -> list[Model]:
    """The body as a JSON array of ``model``."""
    return _validate(response, TypeAdapter(list[model]))  # type: ignore[valid-type]


Parsed = TypeVar("Parsed")


def _validate(response: httpx2.Response, adapter: TypeAdapter[Parsed]) -> Parsed:
    request = response.request
    try:
        body = response.json()
    except ValueError:
        raise UnexpectedResponse(
            f"{request.method} {request.url} answered {response.status_code} with a body that is not JSON: "
            f"{response.text[:200]!r}",
            method=request.method,
            url=str(request.url),
            status=response.status_code,
            body=response.text,
        ) from None
    try:
        return adapter.validate_python(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise UnexpectedResponse(
            f"{request.method} {request.url} answered {response.status_code} with an unexpected body "
            f"({where}: {first['msg']}): {json.dumps(body)[:200]}",
            method=request.method,
            url=str(request.url),
            status=response.status_code,
            body=body,
        ) from None


class HttpSession:
    """One ``httpx2.AsyncClient`` and the rules every request of a client follows.

    ``authorization`` is called before each attempt, so every attempt carries a freshly signed token.
    """

    def __init__(
        self,
        base_url: str,
        *,
        authorization: Callable[[], str | None],
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 10.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.root = api_root(base_url)
        self.retry = retry
        self._authorization = authorization
        self._sleep = sleep
        self._http = httpx2.AsyncClient(
            base_url=self.root,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = NO_BODY,
        params: Mapping[str, str | int] | None = None,
        idempotent: bool,
        headers: Mapping[str, str] | None = None,
    ) -> httpx2.Response:
        """Send with retries; a 2xx response, else the matching ``ApiError`` / ``TransportError``.

        ``body`` is encoded as JSON once, so every attempt sends the same bytes (``None`` sends the literal
        ``null`` that Salesforce's clients send on clearRouting and reroute).
        """
        content = None if body is NO_BODY else json.dumps(body, separators=(",", ":")).encode()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(method, path, content=content, params=params, headers=headers)
            except httpx2.TransportError as exc:
                nothing_sent = isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout)
                if attempt < self.retry.max_attempts and (nothing_sent or idempotent):
                    wait = self.retry.delay(attempt, None)
                    log.debug("retrying %s %s in %.2fs after %r", method, path, wait, exc)
                    await self._sleep(wait)
                    continue
                raise TransportError(
                    f"{method} {self.root}{path} failed: {exc!r}", method=method, url=f"{self.root}{path}"
                ) from exc
            if response.is_success:
                return response
            error = api_error(response)
            retryable = response.status_code in ALWAYS_RETRYABLE or (
                idempotent and response.status_code in RETRYABLE_WHEN_IDEMPOTENT
            )
            too_long = error.retry_after is not None and error.retry_after > self.retry.max_retry_after_seconds
            if not retryable or too_long or attempt >= self.retry.max_attempts:
                raise error
            wait = self.retry.delay(attempt, error.retry_after)
            log.debug("retrying %s %s in %.2fs after %s", method, path, wait, response.status_code)
            await self._sleep(wait)

    async def send(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        authorization: bool = True,
    ) -> httpx2.Response:
        """One attempt, no retry, no error mapping: the raw response (``TransportError`` when there is none).
        ``headers`` are added last (a value of ``""`` removes a default header)."""
        try:
            return await self._send(
                method, path, content=content, params=params, headers=headers, authorization=authorization
            )
        except httpx2.TransportError as exc:
            url = f"{self.root}{path}"
            raise TransportError(f"{method} {url} failed: {exc!r}", method=method, url=url) from exc

    async def _send(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        authorization: bool = True,
    ) -> httpx2.Response:
        merged: dict[str, str] = {}
        if content is not None:
            merged["Content-Type"] = "application/json"
        if authorization:
            value = self._authorization()
            if value is not None:
                merged["Authorization"] = value
        merged.update(headers or {})
        request = self._http.build_request(method, path, content=content, params=params, headers=merged)
        for name, value in (headers or {}).items():
            if value == "":
                del request.headers[name]
        return await self._http.send(request)
