"""Structured logs, configured once when a server process starts (``CALLBRIDGE_LOG_FORMAT``).

structlog's loggers and the standard library's (uvicorn's among them) go through one handler on stderr that
renders each record either as a JSON line (``json``: production) or as a readable line (``console``: a
terminal). Every line has ``timestamp``, ``level``, ``logger`` and ``event``, plus the call ids a request's
path names (``voiceCallId`` or ``vendorCallKey``), bound through contextvars for the request's lifetime.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from callbridge.config import LogFormat, Settings
from callbridge.kit import ids

log = structlog.get_logger()

_LEVELS = {"critical": 50, "error": 40, "warning": 30, "info": 20, "debug": 10, "trace": 5}
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

# The call a request concerns, from the segment after /telephony/v1/voiceCalls/ (or .../voiceCalls/route/) or
# /console/v1/calls/: a VoiceCall id or a vendorCallKey, which the API accepts in the same places.
_CALL_PATH = re.compile(r"/(?:telephony/v1/voiceCalls(?:/route)?|console/v1/calls)/([^/]+)")
_NOT_A_CALL = frozenset({"messages", "route"})  # POST /voiceCalls/messages (bulk), PATCH /voiceCalls/route/...

# Credentials never reach a log line (docs/security.md): a ``token=`` (or ``access_token=``, ``password=``)
# query parameter, a Bearer or Basic credential, the session cookie; and any field named like a credential.
REDACTED = "[REDACTED]"
_SECRETS_IN_TEXT = (
    (re.compile(r"(?i)([?&;](?:access_)?token=|[?&;]password=)[^&\s\"'#]*"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\g<1>\g<2>{REDACTED}"),
    (re.compile(r"(?i)(callbridge_session=)[^;\s\"',]*"), rf"\g<1>{REDACTED}"),
)
_SECRET_FIELDS = frozenset({"authorization", "cookie", "set-cookie", "token", "password", "session_token"})


def redact(text: str) -> str:
    """The text with every credential it carries replaced by ``[REDACTED]``."""
    if "=" not in text and "earer" not in text and "asic" not in text:
        return text  # the common case, without a regular-expression scan
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _redacted(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value)
    if depth >= 4:
        return value
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in _SECRET_FIELDS else _redacted(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redacted(item, depth + 1) for item in value)
    return value


def redact_credentials(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The structlog processor: every field of every line, uvicorn's access and WebSocket lines included."""
    for key, value in event_dict.items():
        if key.startswith("_"):
            continue  # the standard library's record, structlog's own
        if key.lower() in _SECRET_FIELDS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redacted(value)
    return event_dict


# Marks an exception ``log_unhandled`` logged, which uvicorn reports again ("Exception in ASGI application").
_LOGGED = "_callbridge_logged"


def call_ids(path: str) -> dict[str, str]:
    """``{"voiceCallId": ...}`` or ``{"vendorCallKey": ...}`` when the request path names a call, else ``{}``."""
    match = _CALL_PATH.match(path)
    if match is None or match.group(1) in _NOT_A_CALL:
        return {}
    value = match.group(1)
    return {"voiceCallId" if ids.is_salesforce_id(value, ids.VOICE_CALL) else "vendorCallKey": value}


def log_unhandled(method: str, path: str, exc: BaseException) -> None:
    """Log an exception no handler expected, once, with its traceback and the call the request concerns."""
    setattr(exc, _LOGGED, True)  # exceptions take no weak references, but do take attributes
    log.error("unhandled error", method=method, path=path, exc_info=exc, **call_ids(path))


def resolve_format(settings: Settings, stream: TextIO) -> LogFormat:
    """The configured format, or ``console`` on a terminal and ``json`` anywhere else."""
    if settings.log_format is not None:
        return settings.log_format
    return LogFormat.console if stream.isatty() else LogFormat.json


def configure(settings: Settings, *, stream: TextIO | None = None, cache_loggers: bool = True) -> LogFormat:
    """Route structlog and the standard library's logging to one stderr handler in the configured format.

    Meant to run once per process, before the server logs anything; running it again replaces the handler.
    """
    stream = stream or sys.stderr
    log_format = resolve_format(settings, stream)
    level = _LEVELS.get(settings.log_level.lower(), logging.INFO)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendering: list[Processor] = (
        [structlog.processors.format_exc_info, redact_credentials, structlog.processors.JSONRenderer()]
        if log_format is LogFormat.json
        else [
            redact_credentials,
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False)),
        ]
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, _uvicorn_access],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
            pass_foreign_args=True,
        )
    )
    handler.addFilter(_not_logged_already)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in _UVICORN_LOGGERS:  # uvicorn's own handlers would print a second, unstructured line
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
        logging.getLogger(name).setLevel(logging.NOTSET)  # the root's level rules, whatever uvicorn set before
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=cache_loggers,
    )
    return log_format


def _uvicorn_access(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """uvicorn's access line (``'%s - "%s %s HTTP/%s" %d'``) as fields instead of one formatted string."""
    args: Any = event_dict.pop("positional_args", None)
    record = event_dict.get("_record")
    if record is not None and record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        client, method, path, _http_version, status = args
        event_dict.update(event="request", client=client, method=method, path=path, status=status)
    return event_dict


def _not_logged_already(record: logging.LogRecord) -> bool:
    return not (record.exc_info and getattr(record.exc_info[1], _LOGGED, False))
