"""The one error hierarchy of Callbridge, and its single renderer.

Every failure a client can cause is a ``CallbridgeError``; the renderer turns each into the stable body
``{"code": ..., "message": ..., "errors": [...]}``::

    CallbridgeError                     (500 INTERNAL_ERROR: a bug, never client input)
    ├── InvalidRequest                  400 (all problems listed at once, each naming its field path)
    │   └── ...domain subclasses        (ROUTING_FAILED, BULK_LIMIT_EXCEEDED, ...)
    ├── Unauthorized                    401 (``code`` names the reason; see callbridge.auth.errors)
    ├── NotFound                        404 (VOICE_CALL_NOT_FOUND, VENDOR_CALL_KEY_REQUIRED, ...)
    ├── MethodNotAllowed                405
    ├── Conflict                        409
    ├── PayloadTooLarge                 413
    ├── UnsupportedMediaType            415
    ├── TooManyRequests                 429 (with Retry-After; RATE_LIMIT_EXCEEDED: callbridge.limits)
    ├── ServiceUnavailable              503
    └── FaultInjected                   the status CALLBRIDGE_FAULTS names (FAULT_INJECTED: callbridge.limits)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str = Field(description="Machine-readable reason, e.g. VOICE_CALL_NOT_FOUND or TOKEN_EXPIRED.")
    message: str = Field(description="One sentence for a person.")
    errors: list[str] = Field(default_factory=list, description="One string per problem, naming the field path.")


class CallbridgeError(Exception):
    status_code: ClassVar[int] = 500
    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.errors = list(errors)

    @property
    def headers(self) -> dict[str, str]:
        return {}

    def body(self) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.message, errors=self.errors)


class InvalidRequest(CallbridgeError):
    status_code = 400
    code = "INVALID_REQUEST"

    @classmethod
    def for_fields(cls, problems: Sequence[str], message: str | None = None) -> InvalidRequest:
        """An error listing every ``"path: reason"`` problem at once."""
        if message is None:
            message = problems[0] if len(problems) == 1 else f"The request has {len(problems)} problems."
        return cls(message, errors=problems)


class Unauthorized(CallbridgeError):
    status_code = 401
    code = "UNAUTHORIZED"

    @property
    def headers(self) -> dict[str, str]:
        # A header value must be printable ASCII: a message quoting client input may hold anything.
        description = "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in self.message)
        return {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'}


class NotFound(CallbridgeError):
    status_code = 404
    code = "NOT_FOUND"


class MethodNotAllowed(CallbridgeError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"


class Conflict(CallbridgeError):
    status_code = 409
    code = "CONFLICT"


class PayloadTooLarge(CallbridgeError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(CallbridgeError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class TooManyRequests(CallbridgeError):
    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(CallbridgeError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` entries for the given error statuses, all with the ErrorBody shape."""
    descriptions = {
        400: "Invalid body or field: every problem is listed in `errors`.",
        401: "Missing or rejected token: `code` names the reason.",
        404: "Unknown call (also a call of another call center).",
        405: "Method not allowed on this path.",
        409: "The request conflicts with the state of the call.",
        413: "Body over the size limit.",
        415: "Unsupported Content-Type.",
        429: "Over a limit; retry after `Retry-After` seconds.",
        503: "A backing service is unavailable; retry.",
    }
    retry_after = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
    return {
        status: {"model": ErrorBody, "description": descriptions[status]}
        | ({"headers": retry_after} if status in (429, 503) else {})
        for status in statuses
    }


def document_validation_as_400(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents request validation as 422 ``HTTPValidationError`` on every operation with parameters or
    a body; Callbridge answers it 400 with the ErrorBody (the app's RequestValidationError handler), never 422,
    so the document says 400 instead (the fuzzing gate, tests/security/test_fuzz.py, holds the server to it)."""
    bad_request = {
        "description": error_responses(400)[400]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if isinstance(responses, dict) and responses.pop("422", None) is not None:
                responses.setdefault("400", bad_request)
    schemas = document.get("components", {}).get("schemas", {})
    if "#/components/schemas/HTTPValidationError" not in json.dumps(document.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document
