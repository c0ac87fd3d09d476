"""The dependency as FastAPI sees it: a declared bearer scheme, and an async callable."""

from __future__ import annotations

import inspect

from fastapi import FastAPI

from callbridge.auth.dependencies import authorize
from tests.auth.conftest import WHOAMI


def test_authorize_is_async() -> None:
    """authorize is a coroutine function, so FastAPI does not run it in the threadpool."""
    assert inspect.iscoroutinefunction(authorize)


def test_openapi_declares_the_bearer_scheme(app: FastAPI) -> None:
    """Protected routes carry an HTTP bearer security requirement with JWT format in the OpenAPI document."""
    schema = app.openapi()
    schemes = schema["components"]["securitySchemes"]
    assert [
        {"type": s["type"], "scheme": s["scheme"], "bearerFormat": s["bearerFormat"]} for s in schemes.values()
    ] == [{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}]
    assert schema["paths"][WHOAMI]["get"]["security"] == [{name: []} for name in schemes]
