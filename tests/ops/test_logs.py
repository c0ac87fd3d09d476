"""Structured logs: JSON lines with timestamp, level, event and the request's call ids; unhandled exceptions
as one JSON line with the traceback as a string; uvicorn's records in the same format."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import httpx2
import pytest
import structlog
from fastapi import FastAPI

from callbridge.config import LogFormat, Settings
from callbridge.ops import logs

pytestmark = pytest.mark.usefixtures("restore_logging")

VOICE_CALL_ID = "0LQXX00000000014AA"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written, each parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def configure(settings: Settings, log_format: LogFormat | None = LogFormat.json) -> io.StringIO:
    stream = io.StringIO()
    logs.configure(settings.model_copy(update={"log_format": log_format}), stream=stream, cache_loggers=False)
    return stream


def test_format_defaults_to_console_on_a_terminal_and_json_elsewhere(settings: Settings) -> None:
    """Unset, the format follows stderr: a terminal gets console lines, a pipe or file JSON."""
    assert logs.resolve_format(settings, Terminal()) is LogFormat.console
    assert logs.resolve_format(settings, io.StringIO()) is LogFormat.json
    assert logs.resolve_format(settings.model_copy(update={"log_format": LogFormat.json}), Terminal()) is LogFormat.json


def test_structlog_and_stdlib_records_are_json_lines(settings: Settings) -> None:
    """Both kinds of logger write one JSON object per line with timestamp, level, logger and event."""
    stream = configure(settings)
    structlog.get_logger("callbridge.test").info("call routed", queue="Support")
    logging.getLogger("sqlalchemy.pool").warning("pool %s exhausted", "main")
    routed, pool = lines(stream)
    assert routed["event"] == "call routed" and routed["level"] == "info" and routed["queue"] == "Support"
    assert routed["logger"] == "callbridge.test" and routed["timestamp"].endswith("Z")
    assert pool["event"] == "pool main exhausted" and pool["level"] == "warning" and pool["logger"] == "sqlalchemy.pool"
    assert "timestamp" in pool


def test_log_level_filters(settings: Settings) -> None:
    """CALLBRIDGE_LOG_LEVEL=warning keeps info lines out, from structlog and the standard library alike."""
    stream = configure(settings.model_copy(update={"log_level": "warning"}))
    structlog.get_logger().info("quiet")
    logging.getLogger("uvicorn.error").info("quiet too")
    structlog.get_logger().warning("loud")
    assert [line["event"] for line in lines(stream)] == ["loud"]


def test_uvicorn_access_lines_become_fields(settings: Settings) -> None:
    """uvicorn's access record is rendered as method, path, status and client fields."""
    stream = configure(settings)
    access = logging.getLogger("uvicorn.access")
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "PATCH", "/telephony/v1/voiceCalls/k1", "1.1", 200)
    (line,) = lines(stream)
    assert line["event"] == "request"
    assert (line["method"], line["path"], line["status"], line["client"]) == (
        "PATCH",
        "/telephony/v1/voiceCalls/k1",
        200,
        "127.0.0.1:5000",
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/telephony/v1/voiceCalls/{VOICE_CALL_ID}", {"voiceCallId": VOICE_CALL_ID}),
        ("/telephony/v1/voiceCalls/5b2c7a9e-3f1d/messages", {"vendorCallKey": "5b2c7a9e-3f1d"}),
        (f"/telephony/v1/voiceCalls/route/{VOICE_CALL_ID}", {"voiceCallId": VOICE_CALL_ID}),
        (f"/console/v1/calls/{VOICE_CALL_ID}/hold", {"voiceCallId": VOICE_CALL_ID}),
        ("/telephony/v1/voiceCalls/messages", {}),
        ("/telephony/v1/voiceCalls", {}),
        ("/console/v1/offers", {}),
    ],
)
def test_call_ids_of_request_paths(path: str, expected: dict[str, str]) -> None:
    """A VoiceCall id (0LQ…) in a call path is a voiceCallId; anything else there is a vendorCallKey."""
    assert logs.call_ids(path) == expected


async def test_unhandled_exception_is_one_json_line_with_traceback_and_call_id(
    settings: Settings, app: FastAPI
) -> None:
    """A handler that raises: its own log line carries the call id (contextvars), and the error is logged once,
    as JSON, with the traceback as a string; uvicorn's second report of the same exception is dropped."""
    stream = configure(settings)

    async def fails(vendorCallKey: str) -> None:
        structlog.get_logger("callbridge.test").info("about to fail")
        raise RuntimeError("the handler broke")

    app.add_api_route("/telephony/v1/voiceCalls/{vendorCallKey}/fails", fails)
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
        response = await http.get("/telephony/v1/voiceCalls/contact-42/fails")
    assert response.status_code == 500 and response.json()["code"] == "INTERNAL_ERROR"
    try:
        raise RuntimeError("the handler broke")
    except RuntimeError as exc:  # as uvicorn reports an exception that escaped the app
        logging.getLogger("uvicorn.error").error("Exception in ASGI application\n", exc_info=exc)
        logs.log_unhandled("GET", "/other", exc)
        logging.getLogger("uvicorn.error").error("Exception in ASGI application\n", exc_info=exc)
    before, error, uvicorn_error, other = [line for line in lines(stream) if line["logger"] != "httpx2"]
    assert before["event"] == "about to fail" and before["vendorCallKey"] == "contact-42"
    assert error["event"] == "unhandled error" and error["level"] == "error"
    assert error["vendorCallKey"] == "contact-42" and error["path"] == "/telephony/v1/voiceCalls/contact-42/fails"
    assert isinstance(error["exception"], str)
    assert error["exception"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: the handler broke" in error["exception"]
    assert uvicorn_error["logger"] == "uvicorn.error" and "RuntimeError" in uvicorn_error["exception"]
    assert other["path"] == "/other"


async def test_call_ids_do_not_outlive_the_request(settings: Settings, client: httpx2.AsyncClient) -> None:
    """After a request about a call, lines logged elsewhere carry no call id."""
    stream = configure(settings)
    await client.get(f"/telephony/v1/voiceCalls/{VOICE_CALL_ID}")
    structlog.get_logger().info("after")
    assert "voiceCallId" not in lines(stream)[-1]


def test_console_format_is_not_json(settings: Settings) -> None:
    """The console format renders readable lines (for a terminal), not JSON."""
    stream = configure(settings, LogFormat.console)
    structlog.get_logger().info("readable", queue="Support")
    text = stream.getvalue()
    assert "readable" in text and "queue" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])
