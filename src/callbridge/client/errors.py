"""The client's one exception hierarchy.

Every failure a caller of the client can see is a ``CallbridgeClientError``::

    CallbridgeClientError
    ├── TransportError              the server could not be reached, or stopped answering (after retries)
    ├── UnexpectedResponse          a 2xx whose body is not what the API promises
    └── ApiError                    an error status; carries status, the server's code, message and errors
        ├── BadRequestError         400 (INVALID_REQUEST, ROUTING_FAILED, BULK_LIMIT_EXCEEDED, ...)
        ├── AuthenticationError     401 (TOKEN_MISSING, TOKEN_EXPIRED, SIGNATURE_INVALID, ...)
        ├── PermissionDeniedError   403 (NOT_YOUR_OFFER, ... ; Salesforce's PERM_MISSING)
        ├── NotFoundError           404 (VOICE_CALL_NOT_FOUND, VENDOR_CALL_KEY_REQUIRED, ...)
        ├── ConflictError           409 (CONVERSATION_NOT_CLOSED, OFFER_EXPIRED, ...)
        ├── RateLimitError          429 (Retry-After in ``retry_after``)
        └── ServerError             5xx (OVERLOADED, WRITE_FAILED, ...)

Other statuses (405, 413, 415, ...) are a plain ``ApiError``.
"""

from __future__ import annotations

from typing import Any


class CallbridgeClientError(Exception):
    """Base of every error the client raises."""


class TransportError(CallbridgeClientError):
    """No HTTP answer: connection refused, reset or timed out (after the allowed retries)."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class UnexpectedResponse(CallbridgeClientError):
    """A success status whose body does not have the documented shape."""

    def __init__(self, message: str, *, method: str, url: str, status: int, body: Any) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status
        self.body = body


class ApiError(CallbridgeClientError):
    """The server answered an error status. ``code``, ``message`` and ``errors`` come from its body
    ``{"code", "message", "errors"}`` (``code`` is ``None`` when the body has none, e.g. a proxy's page)."""

    def __init__(
        self,
        *,
        method: str,
        url: str,
        status: int,
        code: str | None,
        message: str,
        errors: list[str],
        body: Any,
        headers: dict[str, str],
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{method} {url} answered {status}{f' {code}' if code else ''}: {message}")
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.body = body
        self.headers = headers
        self.retry_after = retry_after


class BadRequestError(ApiError):
    """400: the body or a field is wrong; ``errors`` names each field path."""


class AuthenticationError(ApiError):
    """401: the token is missing or refused; ``code`` names the reason."""


class PermissionDeniedError(ApiError):
    """403."""


class NotFoundError(ApiError):
    """404: an unknown call (or one of another call center), offer or work."""


class ConflictError(ApiError):
    """409: the request does not fit the current state (e.g. post-call events before the call ended)."""


class RateLimitError(ApiError):
    """429: over a limit; ``retry_after`` says how long the server asked to wait."""


class ServerError(ApiError):
    """5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_class(status: int) -> type[ApiError]:
    """The ``ApiError`` subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)
