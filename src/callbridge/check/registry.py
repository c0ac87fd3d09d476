"""What a conformance check is: a named async function with one expectation, registered in order, that
passes (optionally with a note), fails with a reason, or is skipped with a reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx2

from callbridge.client.errors import ApiError

if TYPE_CHECKING:
    from callbridge.check.context import CheckContext

CheckFunction = Callable[["CheckContext"], Awaitable[str | None]]


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


class CheckFailed(Exception):
    """The server did not do what the check expects; the message says what it did instead."""


class CheckSkipped(Exception):
    """The check cannot run against this server or with these options; the message says why."""


@dataclass(frozen=True)
class Check:
    name: str
    expectation: str
    function: CheckFunction
    gate: bool = False


@dataclass(frozen=True)
class CheckResult:
    name: str
    expectation: str
    status: Status
    reason: str | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expectation": self.expectation,
            "status": self.status.value,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
        }


REGISTRY: list[Check] = []


def check(name: str, expectation: str, *, gate: bool = False) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check. A failing ``gate`` check skips every later one (the server is unreachable, or
    refuses the configured token)."""

    def register(function: CheckFunction) -> CheckFunction:
        if any(existing.name == name for existing in REGISTRY):
            raise ValueError(f"two checks are named {name!r}")
        REGISTRY.append(Check(name=name, expectation=expectation, function=function, gate=gate))
        return function

    return register


def expect(condition: bool, reason: str) -> None:
    """Fail with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(reason)


def describe(response: httpx2.Response) -> str:
    """``400 INVALID_REQUEST: message`` or ``200 {"voiceCallId": ...}``: a response in a few words."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return f"{response.status_code} {body['code']}: {body.get('message', '')}"
    text = response.text.strip().replace("\n", " ")
    return f"{response.status_code} {text[:160]}" if text else str(response.status_code)


def describe_error(error: ApiError) -> str:
    return f"{error.status}{f' {error.code}' if error.code else ''}: {error.message}"


def error_shape_problem(body: Any) -> str | None:
    """Why ``body`` is not ``{"code": str, "message": str, "errors": [str, ...]}``; None when it is."""
    if not isinstance(body, dict):
        return f"the error body is not a JSON object ({str(body)[:80]!r})"
    if not isinstance(body.get("code"), str) or not body["code"]:
        return "the error body has no string 'code'"
    if not isinstance(body.get("message"), str) or not body["message"]:
        return "the error body has no string 'message'"
    errors = body.get("errors")
    if not isinstance(errors, list) or not all(isinstance(item, str) for item in errors):
        return "the error body has no 'errors' list of strings"
    return None


def expect_error_body(
    status: int,
    body: Any,
    *,
    expected_status: int,
    code: str,
    naming: Iterable[str] = (),
    answer: str,
) -> None:
    """The answer is ``expected_status`` with ``code``, in the one error shape, and its ``errors`` name each
    of ``naming`` (field paths such as ``startTime`` or ``events[0].participant``)."""
    got_code = body.get("code") if isinstance(body, dict) else None
    expect(
        status == expected_status and got_code == code,
        f"expected {expected_status} {code}, got {answer}",
    )
    problem = error_shape_problem(body)
    expect(problem is None, f"{problem}: {str(body)[:200]}")
    errors = body["errors"]
    for field in naming:
        expect(
            any(field in item for item in errors),
            f"no entry of 'errors' names {field!r}: {errors}",
        )


async def expect_api_error(call: Awaitable[Any], *, status: int, code: str, naming: Iterable[str] = ()) -> ApiError:
    """Await ``call`` (a client method) and expect it to fail with ``status`` and ``code``."""
    try:
        result = await call
    except ApiError as error:
        expect_error_body(
            error.status,
            error.body,
            expected_status=status,
            code=code,
            naming=naming,
            answer=describe_error(error),
        )
        return error
    raise CheckFailed(f"expected {status} {code}, got a success: {result!r}"[:300])


def expect_response_error(
    response: httpx2.Response, *, status: int, code: str, naming: Iterable[str] = ()
) -> dict[str, Any]:
    """A raw response is ``status`` with ``code`` in the one error shape; its body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    expect_error_body(
        response.status_code, body, expected_status=status, code=code, naming=naming, answer=describe(response)
    )
    result: dict[str, Any] = body
    return result


def expect_json(response: httpx2.Response, status: int, expected_body: dict[str, Any] | None = None) -> Any:
    """A raw response is ``status`` (with exactly ``expected_body`` when given); its JSON body."""
    expect(response.status_code == status, f"expected {status}, got {describe(response)}")
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(f"the {status} body is not JSON: {response.text[:160]!r}") from None
    if expected_body is not None:
        expect(body == expected_body, f"expected the body {expected_body}, got {body}")
    return body
