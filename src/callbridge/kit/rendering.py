"""What an exception becomes on the wire: one place for the app's exception handlers and the fast lane."""

from __future__ import annotations

import structlog
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from callbridge.errors import CallbridgeError, ErrorBody
from callbridge.kit.db import DatabaseUnavailable, is_unavailable
from callbridge.kit.writer import UnstorableValue, describe_error, is_data_error
from callbridge.ops import logs as ops_logs

log = structlog.get_logger()


def render(error: CallbridgeError) -> JSONResponse:
    return JSONResponse(error.body().model_dump(), status_code=error.status_code, headers=error.headers)


def unexpected(method: str, path: str, exc: BaseException) -> JSONResponse:
    """A bug: logged once with its traceback, answered 500 without details."""
    ops_logs.log_unhandled(method, path, exc)
    body = ErrorBody(code="INTERNAL_ERROR", message="Callbridge failed to handle this request; see its log.")
    return JSONResponse(body.model_dump(), status_code=500)


def database_error(method: str, path: str, exc: Exception) -> JSONResponse:
    """The database out of reach is a 503 with Retry-After (nothing was committed); a value it refuses is the
    request's fault, a 400 (logged without the statement's parameters); any other database error is a bug."""
    if is_data_error(exc):
        reason = describe_error(exc)
        log.warning("a value of the request could not be stored", method=method, path=path, error=reason)
        return render(UnstorableValue(reason.split(": ", 1)[-1]))
    if not is_unavailable(exc):
        return unexpected(method, path, exc)
    log.warning("database unavailable", method=method, path=path, error=str(exc)[:300])
    return render(DatabaseUnavailable())


def response_for(method: str, path: str, exc: Exception) -> JSONResponse:
    """The response the app's exception handlers give for ``exc``."""
    if isinstance(exc, CallbridgeError):
        return render(exc)
    if isinstance(exc, DBAPIError | ConnectionError | TimeoutError):
        return database_error(method, path, exc)
    return unexpected(method, path, exc)
