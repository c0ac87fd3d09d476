"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc``, with a Content-Security-Policy.

Both pages work with no internet: their scripts and styles are the bundles the pinned fastapi-offline package
(MIT) ships, Swagger UI (Apache-2.0) and ReDoc (MIT), served from ``/docs/static/``. The policy therefore
allows ``'self'`` only, plus, by hash, the one inline script that starts Swagger UI. Styles may be inline
(ReDoc's styled-components inject ``<style>`` elements) and ReDoc runs a worker from a ``blob:`` URL. Like
every HTML page, they may not be framed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS, OAUTH2_REDIRECT, REDOC, OPENAPI = "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"
STATIC = "/docs/static"
ASSETS = Path(str(files("fastapi_offline") / "static"))
# ReDoc's sidebar shows Redocly's logo from their CDN: the one outside request left, served here instead.
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
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
            f"script-src 'self' {hashes}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
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
    favicon = f"{STATIC}/favicon.png"
    return {
        DOCS: _page(
            get_swagger_ui_html(
                openapi_url=OPENAPI,
                title=f"{title} - Swagger UI",
                oauth2_redirect_url=OAUTH2_REDIRECT,
                swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
                swagger_css_url=f"{STATIC}/swagger-ui.css",
                swagger_favicon_url=favicon,
                # The validator badge would be an image from validator.swagger.io, for a spec it cannot reach.
                swagger_ui_parameters={"validatorUrl": None},
            )
        ),
        OAUTH2_REDIRECT: _page(get_swagger_ui_oauth2_redirect_html()),
        REDOC: _page(
            get_redoc_html(
                openapi_url=OPENAPI,
                title=f"{title} - ReDoc",
                redoc_js_url=f"{STATIC}/redoc.standalone.js",
                redoc_favicon_url=favicon,
                with_google_fonts=False,
            )
        ),
    }


@cache
def _redoc_bundle() -> bytes:
    return (ASSETS / "redoc.standalone.js").read_bytes().replace(_REDOC_LOGO, f"{STATIC}/favicon.png".encode())


async def redoc_bundle() -> Response:
    """ReDoc's bundle, its one outside URL (a logo) pointed at the local favicon."""
    return Response(_redoc_bundle(), media_type="text/javascript; charset=utf-8")


def _route(title: str, path: str) -> Callable[[], Awaitable[HTMLResponse]]:
    async def page() -> HTMLResponse:
        html, headers = _pages(title)[path]
        return HTMLResponse(html, headers=headers)

    return page


def install(app: FastAPI) -> None:
    """Serve the pages and their assets (the app is made with ``docs_url=None, redoc_url=None``)."""
    router = APIRouter(include_in_schema=False)
    for path in (DOCS, OAUTH2_REDIRECT, REDOC):
        router.add_api_route(path, _route(app.title, path), methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"{STATIC}/redoc.standalone.js", redoc_bundle, methods=["GET"])
    app.include_router(router)
    app.mount(STATIC, StaticFiles(directory=ASSETS), name="apidocs-static")
