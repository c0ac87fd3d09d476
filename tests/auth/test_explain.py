"""The offline explanation gives the server's verdict and reason, and never writes the replay memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from callbridge.auth.explain import explain_token, token_from_text
from callbridge.auth.replay import Sighting
from callbridge.auth.service import authorize_token
from callbridge.config import JtiPolicy, Settings
from callbridge.kit.clock import SystemClock
from callbridge.kit.db import Database
from callbridge.models import CallCenter
from tests.auth.conftest import seen_token_rows
from tests.conftest import CALL_CENTER, TokenFactory


@pytest.fixture
async def database(database_url: str, call_centers: dict[str, CallCenter]) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


async def test_accepted_token_names_its_call_center(
    database: Database, settings: Settings, make_token: TokenFactory, call_centers: dict[str, CallCenter]
) -> None:
    """An acceptable token is explained as accepted, with its call center and the certificate used."""
    explanation = await explain_token(make_token(), settings=settings, database=database, now=datetime.now(UTC))
    assert explanation.accepted
    assert explanation.context is not None
    assert explanation.context.call_center_id == call_centers[CALL_CENTER].id
    assert explanation.certificate_fingerprint is not None
    assert explanation.sighting is Sighting.first


async def test_explaining_records_nothing(
    database: Database, settings: Settings, make_token: TokenFactory, database_url: str
) -> None:
    """Explaining a token with a jti leaves the replay memory empty, so the token still works afterwards."""
    await explain_token(make_token(), settings=settings, database=database, now=datetime.now(UTC))
    assert await seen_token_rows(database_url) == 0


async def test_seen_token_is_reported(database: Database, settings: Settings, make_token: TokenFactory) -> None:
    """A token the server already accepted is reported as presented before."""
    token = make_token()
    await authorize_token(token, settings=settings, database=database, clock=SystemClock())
    explanation = await explain_token(token, settings=settings, database=database, now=datetime.now(UTC))
    assert explanation.accepted
    assert explanation.sighting is Sighting.same_token
    assert explanation.replay_note is not None and "presented before" in explanation.replay_note


async def test_seen_jti_in_another_token_is_refused(
    database: Database, settings: Settings, make_token: TokenFactory
) -> None:
    """A new token reusing a seen jti is explained as TOKEN_REPLAYED, as the server would answer."""
    await authorize_token(make_token(jti="x"), settings=settings, database=database, clock=SystemClock())
    explanation = await explain_token(
        make_token(jti="x", ttl=301), settings=settings, database=database, now=datetime.now(UTC)
    )
    assert explanation.error is not None and explanation.error.code == "TOKEN_REPLAYED"


async def test_seen_token_is_refused_under_single_use(
    database: Database, database_url: str, make_token: TokenFactory
) -> None:
    """Under single-use, a token already presented is explained as refused."""
    settings = Settings(database_url=database_url, jti_policy=JtiPolicy.single_use)
    token = make_token()
    await authorize_token(token, settings=settings, database=database, clock=SystemClock())
    explanation = await explain_token(token, settings=settings, database=database, now=datetime.now(UTC))
    assert explanation.error is not None and explanation.error.code == "TOKEN_REPLAYED"


async def test_malformed_token_has_no_header_or_claims(database: Database, settings: Settings) -> None:
    """A token that cannot be decoded is refused as TOKEN_MALFORMED with nothing to show."""
    explanation = await explain_token("garbage", settings=settings, database=database, now=datetime.now(UTC))
    assert explanation.header is None and explanation.claims is None
    assert explanation.error is not None and explanation.error.code == "TOKEN_MALFORMED"


async def test_refused_token_still_shows_its_claims(
    database: Database, settings: Settings, make_token: TokenFactory
) -> None:
    """A refused but decodable token is shown with its header and claims."""
    explanation = await explain_token(
        make_token(sub="NoSuchCC"), settings=settings, database=database, now=datetime.now(UTC)
    )
    assert explanation.claims is not None and explanation.claims["sub"] == "NoSuchCC"
    assert explanation.error is not None and explanation.error.code == "UNKNOWN_CALL_CENTER"


@pytest.mark.parametrize(
    "text", ["abc.def.ghi", "  abc.def.ghi\n", "Bearer abc.def.ghi", "Authorization: Bearer abc.def.ghi"]
)
def test_pasted_token_forms_are_cleaned(text: str) -> None:
    """A token pasted with blanks, a Bearer prefix or the whole header line is read as the token."""
    assert token_from_text(text) == "abc.def.ghi"
