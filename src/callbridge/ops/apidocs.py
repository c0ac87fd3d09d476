"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc``, with a Content-Security-Policy.

Both pages load their scripts and styles from a CDN today (jsDelivr; ReDoc also Google Fonts): the policy allows
exactly those hosts and, by hash, the one inline script that starts Swagger UI; everything else is ``'self'``.
Styles may be inline (ReDoc's styled-components inject ``<style>`` elements) and ReDoc runs a worker from a
``blob:`` URL. Like every HTML page, they may not be framed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from functools import cache

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

DOCS, OAUTH2_REDIRECT, REDOC, OPENAPI = "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"
CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

# The headers of every HTML page Callbridge serves, besides its Content-Security-Policy.
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _policy(html: str) -> str:
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {CDN} {hashes}".rstrip(),
            f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com",
            f"img-src 'self' data: {CDN} https://fastapi.tiangolo.com",
            "font-src 'self' https://fonts.gstatic.com",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _page(response: HTMLResponse) -> tuple[str, dict[str, str]]:
    html = bytes(response.body).decode()
    return html, {"Content-Security-Policy": _policy(html), **PAGE_HEADERS}


@cache
def _pages(title: str) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        DOCS: _page(
            get_swagger_ui_html(
                openapi_url=OPENAPI,
                title=f"{title} - Swagger UI",
                oauth2_redirect_url=OAUTH2_REDIRECT,
                # The validator badge would be an image from validator.swagger.io, for a spec it cannot reach.
                swagger_ui_parameters={"validatorUrl": None},
            )
        ),
        OAUTH2_REDIRECT: _page(get_swagger_ui_oauth2_redirect_html()),
        REDOC: _page(get_redoc_html(openapi_url=OPENAPI, title=f"{title} - ReDoc")),
    }


def _route(title: str, path: str) -> Callable[[], Awaitable[HTMLResponse]]:
    async def page() -> HTMLResponse:
        html, headers = _pages(title)[path]
        return HTMLResponse(html, headers=headers)

    return page


def install(app: FastAPI) -> None:
    """Serve the pages (the app is made with ``docs_url=None, redoc_url=None``)."""
    router = APIRouter(include_in_schema=False)
    for path in (DOCS, OAUTH2_REDIRECT, REDOC):
        router.add_api_route(path, _route(app.title, path), methods=["GET"], response_class=HTMLResponse)
    app.include_router(router)
