"""Which certificates verify: several at once (rotation), never an expired one, never a weak key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import delete

from callbridge.auth.certificates import KeyPair, new_key_pair, parse_pem
from callbridge.kit.db import Database
from callbridge.models import Certificate
from tests.auth.conftest import assert_refused, whoami
from tests.conftest import ORG_ID, TokenFactory, seed_call_center

ROTATING = "RotatingCC"


@pytest.fixture
async def rotating(database_url: str, key_pair: KeyPair, other_key_pair: KeyPair) -> str:
    """A call center trusting two certificates at once, mid-rotation."""
    call_center = await seed_call_center(
        database_url, ORG_ID, ROTATING, [key_pair.certificate_pem, other_key_pair.certificate_pem]
    )
    return call_center.id


async def test_old_key_verifies_during_rotation(
    client: httpx2.AsyncClient, make_token: TokenFactory, rotating: str
) -> None:
    """With two certificates trusted, a token signed with the first key passes."""
    response = await whoami(client, make_token(sub=ROTATING))
    assert response.status_code == 200, response.text


async def test_new_key_verifies_during_rotation(
    client: httpx2.AsyncClient, make_token: TokenFactory, other_key_pair: KeyPair, rotating: str
) -> None:
    """With two certificates trusted, a token signed with the second key passes."""
    response = await whoami(client, make_token(sub=ROTATING, key_pem=other_key_pair.private_key_pem))
    assert response.status_code == 200, response.text


async def test_removed_certificate_stops_verifying(
    client: httpx2.AsyncClient,
    make_token: TokenFactory,
    key_pair: KeyPair,
    other_key_pair: KeyPair,
    rotating: str,
    database_url: str,
) -> None:
    """Once the old certificate is removed, its tokens fail and the new key's still pass."""
    database = Database(database_url)
    try:
        async with database.write_session() as session:
            await session.execute(
                delete(Certificate).where(
                    Certificate.call_center_id == rotating,
                    Certificate.fingerprint_sha256 == parse_pem(key_pair.certificate_pem).fingerprint_sha256,
                )
            )
            await session.commit()
    finally:
        await database.dispose()
    assert_refused(await whoami(client, make_token(sub=ROTATING)), "SIGNATURE_INVALID")
    response = await whoami(client, make_token(sub=ROTATING, key_pem=other_key_pair.private_key_pem))
    assert response.status_code == 200, response.text


async def test_expired_certificate_is_certificate_expired(
    client: httpx2.AsyncClient, make_token: TokenFactory, database_url: str
) -> None:
    """A token that only an expired certificate verifies is CERTIFICATE_EXPIRED, with the expiry date."""
    old = new_key_pair("old", days=1, now=datetime.now(UTC) - timedelta(days=30))
    await seed_call_center(database_url, ORG_ID, "ExpiredCC", [old.certificate_pem])
    body = assert_refused(
        await whoami(client, make_token(sub="ExpiredCC", key_pem=old.private_key_pem)), "CERTIFICATE_EXPIRED"
    )
    assert "expired at" in body["message"]


async def test_expired_certificate_beside_a_current_one_is_ignored(
    client: httpx2.AsyncClient, make_token: TokenFactory, key_pair: KeyPair, database_url: str
) -> None:
    """The current certificate still verifies its tokens when an expired one is also configured."""
    old = new_key_pair("old", days=1, now=datetime.now(UTC) - timedelta(days=30))
    await seed_call_center(database_url, ORG_ID, "MixedCC", [old.certificate_pem, key_pair.certificate_pem])
    response = await whoami(client, make_token(sub="MixedCC"))
    assert response.status_code == 200, response.text


async def test_call_center_without_certificates_is_signature_invalid(
    client: httpx2.AsyncClient, make_token: TokenFactory, database_url: str
) -> None:
    """A call center that trusts no certificate refuses every token, and says why."""
    await seed_call_center(database_url, ORG_ID, "BareCC", [])
    body = assert_refused(await whoami(client, make_token(sub="BareCC")), "SIGNATURE_INVALID")
    assert "trusts no certificate" in body["message"]


async def test_1024_bit_certificate_is_not_trusted(
    client: httpx2.AsyncClient, make_token: TokenFactory, database_url: str
) -> None:
    """A token signed with a 1024-bit key its call center trusts is refused as too weak."""
    weak = new_key_pair("weak", bits=1024)
    await seed_call_center(database_url, ORG_ID, "WeakCC", [weak.certificate_pem])
    with pytest.warns(InsecureKeyLengthWarning):
        token = make_token(sub="WeakCC", key_pem=weak.private_key_pem)
    body = assert_refused(await whoami(client, token), "SIGNATURE_INVALID")
    assert "1024-bit" in body["message"] and "2048" in body["message"]
