"""``callbridge token`` mints a token the way Salesforce's Lambdas do; ``callbridge explain-token`` says why
the server would accept or refuse one."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from callbridge.auth.certificates import MIN_KEY_BITS
from callbridge.auth.explain import Explanation, explain_token, token_from_text
from callbridge.client.tokens import sign_token
from callbridge.config import Settings, get_settings
from callbridge.kit.clock import SystemClock
from callbridge.kit.db import Database, is_sqlite

_TTL = re.compile(r"(-?)(\d+)([smhd]?)")
_EXPIRED_LIFETIME = 300  # what a token minted already expired is said to have lived
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_TIME_CLAIMS = ("iat", "nbf", "exp")


def parse_ttl(value: str) -> int:
    """Seconds from ``300``, ``90s``, ``5m``, ``4h`` or ``1d``; ``0`` or a negative one (``-10m``) for a token
    that has already expired."""
    match = _TTL.fullmatch(value.strip().lower())
    if match is None:
        raise typer.BadParameter(
            f"{value!r} is not a duration; use seconds (300) or a number and s, m, h or d (90s, 5m, 4h, 1d); "
            "a negative one (-10m) mints a token that expired that long ago.",
            param_hint="--ttl",
        )
    seconds = int(match[2]) * _UNIT_SECONDS[match[3]]
    return -seconds if match[1] else seconds


def mint_token(
    private_key: rsa.RSAPrivateKey,
    *,
    org: str,
    call_center: str,
    ttl_seconds: int,
    jti: bool,
    aud: str | None,
) -> str:
    """Header ``{"alg":"RS256","typ":"JWT"}``; claims in the Lambdas' order (iat, exp, iss, sub, jti).
    The signing itself is ``callbridge.client.tokens.sign_token``, shared with the Python client."""
    return sign_token(
        private_key, org_id=org, call_center_api_name=call_center, lifetime_seconds=ttl_seconds, jti=jti, audience=aud
    )


def token(
    org: Annotated[str, typer.Option("--org", help="Org id (15 or 18 characters): the token's iss.")],
    call_center: Annotated[str, typer.Option("--call-center", help="Call center API name: the token's sub.")],
    key: Annotated[
        Path,
        typer.Option("--key", help="PEM file of the RSA private key to sign with.", exists=True, dir_okay=False),
    ],
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: seconds (300) or with a unit (90s, 5m, 4h, 1d).")] = "5m",
    with_jti: Annotated[
        bool,
        typer.Option("--jti/--no-jti", help="Include a fresh uuid1 jti, as the Amazon Connect Lambdas do."),
    ] = True,
    aud: Annotated[
        str | None,
        typer.Option("--aud", help="Audience claim (e.g. https://scrt.salesforce.com); none if omitted."),
    ] = None,
    expired: Annotated[
        bool,
        typer.Option("--expired", help="Mint a token the server refuses at once as expired (past the clock leeway)."),
    ] = False,
) -> None:
    """Print a signed RS256 token shaped like the Amazon Connect Lambdas' tokens.

    Only the token goes to standard output, so $(callbridge token ...) works in scripts. A note on standard
    error says when the server's clock-skew leeway changes how long the token is accepted.
    """
    seconds = parse_ttl(ttl)
    private_key = _load_private_key(key)
    leeway = get_settings().clock_skew_seconds
    now = int(time.time())
    expires = now - leeway - 1 if expired else now + seconds
    issued = expires - _EXPIRED_LIFETIME if expires <= now else now
    typer.echo(
        sign_token(
            private_key,
            org_id=org,
            call_center_api_name=call_center,
            lifetime_seconds=expires - issued,
            jti=with_jti,
            audience=aud,
            now=issued,
        )
    )
    note = leeway_note(expires - now, leeway)
    if note:
        Console(stderr=True).print(note, soft_wrap=True, highlight=False)


def leeway_note(expires_in: int, leeway: int) -> str | None:
    """What a person trying a token's expiry should know: the server accepts it ``leeway`` seconds past ``exp``."""
    if expires_in >= leeway or expires_in < -leeway:
        return None
    accepted_for = expires_in + leeway
    if expires_in <= 0:
        state = f"This token expired {-expires_in} s ago, but"
    else:
        state = f"This token expires in {expires_in} s, but"
    return (
        f"{state} the server accepts it for {accepted_for} s more: tokens get a {leeway} s leeway for clock skew "
        "(CALLBRIDGE_CLOCK_SKEW_SECONDS). Use --expired for a token refused at once."
    )


def explain(
    token_text: Annotated[
        str,
        typer.Argument(
            metavar="TOKEN",
            help="The token (a 'Bearer ' prefix is fine), or - to read it from standard input.",
        ),
    ],
) -> None:
    """Say why the server would accept or refuse a token.

    Decodes the token without trusting it, then verifies it exactly as the server would, against the database
    in CALLBRIDGE_DATABASE_URL, without recording its jti. Exit status: 0 accepted, 1 refused, 2 when the
    database cannot be read.
    """
    raw = token_from_text(sys.stdin.read() if token_text == "-" else token_text)
    settings = get_settings()
    console = _console()
    try:
        require_database_file(settings.database_url)
        explanation = asyncio.run(_explain(raw, settings))
    except (SQLAlchemyError, OSError) as exc:
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        Console(stderr=True).print(f"[red]Cannot read the database at {url}[/red]: {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    _render(console, explanation)
    raise typer.Exit(0 if explanation.accepted else 1)


def require_database_file(url: str) -> None:
    """Refuse to explain against a SQLite file that does not exist (connecting would create an empty one)."""
    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:" and not Path(path).exists():
            raise OSError(f"no database file at {path}")


async def _explain(raw: str, settings: Settings) -> Explanation:
    database = Database(settings.database_url)
    try:
        return await explain_token(raw, settings=settings, database=database, now=SystemClock().now())
    finally:
        await database.dispose()


def _render(console: Console, explanation: Explanation) -> None:
    now = time.time()
    if explanation.header is not None:
        header = Table(title="Header (unverified)", title_justify="left")
        header.add_column("field")
        header.add_column("value")
        for name, value in explanation.header.items():
            header.add_row(name, _json(value))
        console.print(header)
    if explanation.claims is not None:
        claims = Table(title="Claims (unverified)", title_justify="left")
        claims.add_column("claim")
        claims.add_column("value")
        claims.add_column("meaning")
        for name, value in explanation.claims.items():
            claims.add_row(name, _json(value), _meaning(name, value, explanation.claims, now))
        console.print(claims)
    if explanation.error is None and explanation.context is not None:
        context = explanation.context
        console.print(
            f"[bold green]ACCEPTED[/bold green]: call center {context.call_center_api_name} "
            f"({context.call_center_id}) of org {context.org_id}, "
            f"verified with certificate {explanation.certificate_fingerprint}.",
            soft_wrap=True,
        )
        if explanation.replay_note:
            console.print(explanation.replay_note, soft_wrap=True)
        leeway = _leeway_used(explanation.claims or {}, now)
        if leeway:
            console.print(leeway, soft_wrap=True)
        return
    error = explanation.error
    if error is not None:
        console.print(f"[bold red]REFUSED[/bold red] {error.code}: {error.message}", soft_wrap=True)
        for problem in error.errors[1:]:
            console.print(f"  also: {problem}", soft_wrap=True)


def _leeway_used(claims: dict[str, Any], now: float) -> str | None:
    """Said of an accepted token that only the clock-skew leeway lets through."""
    leeway = get_settings().clock_skew_seconds
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int | float) and not isinstance(exp, bool) and exp < now:
        return (
            f"Accepted only because of the {leeway} s clock-skew leeway (CALLBRIDGE_CLOCK_SKEW_SECONDS): it expired "
            f"{_duration(now - exp)} ago and is refused from {_human_time(exp + leeway)}."
        )
    if isinstance(iat, int | float) and not isinstance(iat, bool) and iat > now:
        return (
            f"Accepted only because of the {leeway} s clock-skew leeway (CALLBRIDGE_CLOCK_SKEW_SECONDS): it was "
            f"issued {_duration(iat - now)} in the future."
        )
    return None


def _meaning(name: str, value: Any, claims: dict[str, Any], now: float) -> str:
    if name == "iss":
        return "org id"
    if name == "sub":
        return "call center API name"
    if name == "jti":
        return "token id (replay protection)"
    if name == "aud":
        return "audience"
    if name not in _TIME_CLAIMS:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"not a number ({type(value).__name__}): refused"
    meaning = f"{_human_time(value)} ({_relative(value - now)})"
    iat = claims.get("iat")
    if name == "exp" and isinstance(iat, int | float) and not isinstance(iat, bool):
        meaning += f"; lifetime {_duration(value - iat)}"
    return meaning


def _human_time(seconds: float) -> str:
    try:
        return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%d %H:%M:%S} UTC"
    except (OverflowError, OSError, ValueError):
        return "out of range"


def _relative(delta: float) -> str:
    return f"in {_duration(delta)}" if delta >= 0 else f"{_duration(-delta)} ago"


def _duration(seconds: float) -> str:
    """Two units at most: 4 min 59 s, 1 d 23 h."""
    remaining = int(seconds)
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    for index, (unit, size) in enumerate(units):
        if remaining >= size or unit == "s":
            whole, rest = divmod(remaining, size)
            text = f"{whole} {unit}"
            if index + 1 < len(units) and rest >= units[index + 1][1]:
                text += f" {rest // units[index + 1][1]} {units[index + 1][0]}"
            return text
    return f"{remaining} s"


def _json(value: Any) -> str:
    """Values as the token holds them: a string shows its quotes, so "1717895186" is told from 1717895186."""
    return json.dumps(value, ensure_ascii=False)


def _load_private_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(f"{path} is not an unencrypted PEM private key ({exc}).", param_hint="--key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise typer.BadParameter(f"{path} is not an RSA key; RS256 needs one.", param_hint="--key")
    if key.key_size < MIN_KEY_BITS:
        raise typer.BadParameter(
            f"{path} holds a {key.key_size}-bit key; keys need at least {MIN_KEY_BITS} bits.",
            param_hint="--key",
        )
    return key


def _console() -> Console:
    """Rich output; wide when not on a terminal, so piped tables keep whole fingerprints and ids."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def register(app: typer.Typer) -> None:
    app.command("token")(token)
    app.command("explain-token")(explain)
