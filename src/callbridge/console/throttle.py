"""Console sign-in throttling: a sliding window over the ``sign_in_attempts`` table, shared by every process.

Each sign-in records one row for its username and one for its client address *before* the password is checked,
commits, then counts the rows of each in the window (its own included). Over either limit it is refused with 429
SIGN_IN_THROTTLED and its rows are removed (a refused attempt guesses nothing, so it does not prolong the lock).
Counting after committing means concurrent guesses see each other: at most the limit get through per window. A
failed sign-in keeps its rows; a successful one clears its username's rows and only its own address row, so an
attacker who also owns an account cannot reset the address counter for the usernames they guess.

Usernames and addresses are stored as SHA-256 hashes: any text may be typed as a username.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, func, insert, select

from callbridge.console.errors import SignInThrottled
from callbridge.kit.state import AppState
from callbridge.models import SignInAttempt

log = structlog.get_logger()


def client_key(address: str) -> str:
    """What the per-address limit counts: the IPv4 address, or the /64 network of an IPv6 one (a single host is
    commonly given a whole /64, so counting each address would let it rotate through them)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _subject(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode(errors="surrogatepass")).hexdigest()


@dataclass
class Attempt:
    username: str
    address: str
    ids: tuple[int, ...]
    user_subject: str


async def _window(state: AppState, subject: str, since: datetime) -> tuple[int, datetime | None]:
    async with state.database.read_session() as session:
        query = select(func.count(), func.min(SignInAttempt.attempted_at)).where(
            SignInAttempt.subject == subject, SignInAttempt.attempted_at > since
        )
        count, oldest = (await session.execute(query)).one()
    return int(count), oldest


async def _refuse_if_over(
    state: AppState, attempt: Attempt, limits: tuple[tuple[str, str, int], ...], now: datetime, *, counted: bool
) -> None:
    """429 (audited) when a subject has more than its limit in the window; ``counted``: the attempt's own rows
    are in the counts (they are removed before refusing)."""
    window = timedelta(seconds=state.settings.console_sign_in_window_seconds)
    for what, subject, limit in limits:
        count, oldest = await _window(state, subject, now - window)
        failures = count - 1 if counted else count
        if failures < limit:
            continue
        if counted:
            await _forget(state, attempt.ids)
        retry_after = max(1, math.ceil(((oldest or now) + window - now).total_seconds()))
        log.warning(
            "console sign-in throttled",
            username=attempt.username,
            address=attempt.address,
            limit=what,
            failures=failures,
            retry_after=retry_after,
        )
        raise SignInThrottled(what, retry_after)


async def begin(state: AppState, username: str, address: str) -> Attempt:
    """Record the attempt; 429 SIGN_IN_THROTTLED (audited) when the username or the address is over its limit.

    Checked once before writing anything (a flood of refused guesses costs reads only), then again after the
    attempt's rows are committed (concurrent guesses see each other)."""
    settings = state.settings
    now = state.clock.now()
    window = timedelta(seconds=settings.console_sign_in_window_seconds)
    user_subject, address_subject = _subject("username", username), _subject("address", client_key(address))
    limits = (
        ("username", user_subject, settings.console_sign_in_failures_per_username),
        ("address", address_subject, settings.console_sign_in_failures_per_address),
    )
    attempt = Attempt(username, address, (), user_subject)
    await _refuse_if_over(state, attempt, limits, now, counted=False)
    async with state.database.write_session() as session:
        await session.execute(delete(SignInAttempt).where(SignInAttempt.attempted_at <= now - window))
        rows = await session.execute(
            insert(SignInAttempt).returning(SignInAttempt.id),
            [{"subject": s, "attempted_at": now} for s in (user_subject, address_subject)],
        )
        attempt.ids = tuple(row[0] for row in rows.all())
        await session.commit()
    await _refuse_if_over(state, attempt, limits, now, counted=True)
    return attempt


async def _forget(state: AppState, ids: tuple[int, ...]) -> None:
    async with state.database.write_session() as session:
        await session.execute(delete(SignInAttempt).where(SignInAttempt.id.in_(ids)))
        await session.commit()


def failed(attempt: Attempt, reason: str) -> None:
    """A wrong username or password: the rows stay, counted against both; audited."""
    log.warning("console sign-in failed", username=attempt.username, address=attempt.address, reason=reason)


async def succeeded(state: AppState, attempt: Attempt) -> None:
    """The username's failures are forgiven; the address's other failures stay."""
    async with state.database.write_session() as session:
        await session.execute(delete(SignInAttempt).where(SignInAttempt.subject == attempt.user_subject))
        await session.execute(delete(SignInAttempt).where(SignInAttempt.id.in_(attempt.ids)))
        await session.commit()


async def not_a_guess(state: AppState, attempt: Attempt) -> None:
    """Refused for another reason than the credentials (ORG_REQUIRED): not counted."""
    await _forget(state, attempt.ids)
