"""Cross-site request forgery and cross-site WebSocket hijacking: a browser sends the session cookie with a
request that another site's page starts, so every state-changing console request (POST, PUT, PATCH, DELETE
under ``/console/``) and every console WebSocket must come from the server's own pages.

- ``Origin`` (or, without it, ``Referer``) present: its origin must be the server's own (the ``Host`` header's
  host and port) or one of ``CALLBRIDGE_CONSOLE_ALLOWED_ORIGINS``; otherwise 403 CSRF_ORIGIN_MISMATCH.
- Neither header, and a session cookie: the request must carry ``X-Requested-With`` or ``Authorization``
  (which no other site can add without a CORS preflight that Callbridge never grants; the console's scripts
  always send ``X-Requested-With: callbridge-console``, the Python clients a Bearer token); otherwise 403
  CSRF_HEADER_MISSING. A request without the cookie (a script signing in) carries no credentials a browser
  would add, so it passes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from callbridge.console.errors import Forbidden
from callbridge.console.sessions import COOKIE
from callbridge.kit import rendering

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUESTED_WITH = "x-requested-with"
SIGN_IN = "/console/v1/session"
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


class OriginMismatch(Forbidden):
    code = "CSRF_ORIGIN_MISMATCH"

    def __init__(self, origin: str) -> None:
        super().__init__(
            f"Cross-site request refused: origin '{origin[:200]}' is not this server's "
            "(behind a proxy, list the public origin in CALLBRIDGE_CONSOLE_ALLOWED_ORIGINS)."
        )


class CsrfHeaderMissing(Forbidden):
    code = "CSRF_HEADER_MISSING"

    def __init__(self) -> None:
        super().__init__(
            "A request with the session cookie and neither Origin nor Referer must send X-Requested-With "
            "(the console's scripts do)."
        )


def normalize(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port; None when it is not an origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def allowed_origins(setting: str) -> frozenset[str]:
    """``CALLBRIDGE_CONSOLE_ALLOWED_ORIGINS``: origins separated by commas or spaces."""
    return frozenset(o for o in (normalize(item) for item in setting.replace(",", " ").split()) if o)


def _host_of(origin: str) -> str:
    """``host[:port]`` of a normalized origin, the port given only when not the scheme's default."""
    return origin.partition("://")[2]


def _host_header(host: str | None) -> str:
    if not host:
        return ""
    normalized = normalize(f"http://{host}")
    own = _host_of(normalized) if normalized else host.lower()
    # Host: "example.com:443" (a TLS proxy that keeps the port) names the same origin as "example.com".
    return own.removesuffix(":443")


def trusted(origin: str, host: str | None, allowed: frozenset[str]) -> bool:
    """The origin (from Origin or Referer) is the server's own, by the Host header, or an allowed one."""
    normalized = normalize(origin)
    if normalized is None:
        return False  # "null" (a sandboxed frame, a file:// page) or garbage
    return normalized in allowed or _host_of(normalized) == _host_header(host) != ""


def refusal(
    headers: Headers, allowed: frozenset[str], *, has_cookie: bool, require_header: bool = True
) -> Forbidden | None:
    """Why a request (or a WebSocket upgrade) must be refused as cross-site; None when it may proceed."""
    source = headers.get("origin") or headers.get("referer")
    if source:
        return None if trusted(source, headers.get("host"), allowed) else OriginMismatch(source)
    # Neither X-Requested-With nor Authorization can be added by another site's page without a preflight.
    if has_cookie and require_header and not (headers.get(REQUESTED_WITH) or headers.get("authorization")):
        return CsrfHeaderMissing()
    return None


class ConsoleOriginCheck:
    """Pure ASGI: refuses cross-site state-changing requests under ``/console/`` before any handler runs."""

    def __init__(self, app: ASGIApp, allowed: str = "") -> None:
        self.app = app
        self.allowed = allowed_origins(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE_METHODS
            or not scope["path"].startswith("/console/")
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        # Signing in does not use the cookie (a client's jar may still hold an older session's).
        has_cookie = scope["path"] != SIGN_IN and f"{COOKIE}=" in headers.get("cookie", "")
        refused = refusal(headers, self.allowed, has_cookie=has_cookie)
        if refused is not None:
            await rendering.render(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)
