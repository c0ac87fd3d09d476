"""The console's web pages: the agent console (``GET /console``) and the supervisor view
(``GET /console/supervisor``), server-rendered shells that ES modules (``static/console.js``, the entry point, and
the modules it imports) bring to life through the console API and its push stream. No build step: the files are
served as they are."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import Scope

from callbridge import __version__
from callbridge.console.sessions import COOKIE, SignedIn, signed_in
from callbridge.errors import CallbridgeError
from callbridge.kit.state import app_state
from callbridge.ops.apidocs import PAGE_HEADERS

HERE = Path(__file__).parent
STATIC_PATH = "/console/static"
router = APIRouter(include_in_schema=False)

# The pages load nothing from elsewhere and are never framed; the stream is same-origin.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    **PAGE_HEADERS,
    "Cache-Control": "no-store",
}


@cache
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=HERE / "templates")


class _StaticFiles(StaticFiles):
    """Served with ``Cache-Control: no-cache``. The pages link ``console.js?v=<version>``, but the modules it
    imports (``./api.js`` ...) have no version in their URL: the browser revalidates each (a 304 while unchanged)
    rather than pairing a cached module of one release with the entry point of the next."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        return response


def static_files() -> StaticFiles:
    """The pages' stylesheet and scripts, mounted at ``STATIC_PATH``."""
    return _StaticFiles(directory=HERE / "static")


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = _templates().TemplateResponse(
        request,
        template,
        {"static": STATIC_PATH, "version": __version__, **context},
        status_code=status_code,
        headers=_HEADERS,
    )
    return response


async def _signed_in_or_none(request: Request) -> SignedIn | None:
    """The agent of the session cookie, if it holds a live session (the page shows its sign-in form otherwise)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    state = app_state(request)
    try:
        async with state.database.read_session() as session:
            return await signed_in(session, token, state.clock.now())
    except CallbridgeError:
        return None


@router.get("/console", response_class=HTMLResponse)
async def agent_console(request: Request) -> HTMLResponse:
    return _render(request, "console.html", page="agent", title="Agent console")


@router.get("/console/supervisor", response_class=HTMLResponse)
async def supervisor_console(request: Request) -> HTMLResponse:
    """Supervisors only: an agent signed in gets a page saying so (403), not the view."""
    signed = await _signed_in_or_none(request)
    if signed is not None and not signed.is_supervisor:
        return _render(
            request,
            "not_supervisor.html",
            status_code=403,
            page="not-supervisor",
            title="Supervisors only",
            username=signed.agent.username,
            role=signed.agent.role,
        )
    return _render(request, "supervisor.html", page="supervisor", title="Supervisor")
