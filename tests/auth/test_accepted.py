"""Tokens shaped like the real clients' are accepted and name their call center."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import jwt

from callbridge.auth.certificates import KeyPair, new_key_pair
from callbridge.models import CallCenter
from tests.auth.conftest import WHOAMI, whoami
from tests.conftest import CALL_CENTER, ORG_ID, OTHER_CALL_CENTER, TokenFactory, seed_call_center


async def test_lambda_token_is_accepted(
    client: httpx2.AsyncClient, make_token: TokenFactory, call_centers: dict[str, CallCenter]
) -> None:
    """The Amazon Connect Lambdas' token (typ JWT, jti, no aud, 5 min) passes and names its call center."""
    token = make_token(jti="6af41080-8787-11f0-a7ad-736f74082154")
    response = await whoami(client, token)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "org_id": ORG_ID,
        "call_center_id": call_centers[CALL_CENTER].id,
        "call_center_api_name": CALL_CENTER,
        "jti": "6af41080-8787-11f0-a7ad-736f74082154",
    }


async def test_java_transcriber_token_is_accepted(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """The Java kvsTranscriber's token (header without typ, aud = https://scrt.salesforce.com) passes."""
    token = make_token(aud="https://scrt.salesforce.com", headers={"typ": None})
    assert jwt.get_unverified_header(token) == {"alg": "RS256"}
    response = await whoami(client, token)
    assert response.status_code == 200, response.text


async def test_demo_connector_token_is_accepted(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """The demo connector's token (4 h lifetime, no jti, no aud) passes."""
    response = await whoami(client, make_token(ttl=4 * 3600, jti=None))
    assert response.status_code == 200, response.text
    assert response.json()["jti"] is None


async def test_a_token_of_24_hours_is_accepted(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """exp exactly 24 h after iat is within the current profile's limit."""
    response = await whoami(client, make_token(ttl=24 * 3600))
    assert response.status_code == 200, response.text


async def test_fifteen_character_iss_names_the_same_org(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A 15-character iss matches the org configured with its 18-character id."""
    response = await whoami(client, make_token(iss=ORG_ID[:15]))
    assert response.status_code == 200, response.text
    assert response.json()["org_id"] == ORG_ID


async def test_eighteen_character_iss_with_another_suffix_names_the_same_org(
    client: httpx2.AsyncClient, make_token: TokenFactory
) -> None:
    """Orgs are matched on their first 15 characters; the 18-character suffix is not checked."""
    response = await whoami(client, make_token(iss=ORG_ID[:15] + "ZZZ"))
    assert response.status_code == 200, response.text


async def test_each_call_center_is_verified_with_its_own_key(
    client: httpx2.AsyncClient, other_token: Callable[..., str], call_centers: dict[str, CallCenter]
) -> None:
    """A token for OtherCC signed with OtherCC's key acts for OtherCC."""
    response = await whoami(client, other_token())
    assert response.status_code == 200, response.text
    assert response.json()["call_center_id"] == call_centers[OTHER_CALL_CENTER].id


async def test_lower_case_bearer_scheme_is_accepted(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """The scheme name is case-insensitive (RFC 7235): 'bearer <token>' works."""
    response = await client.get(WHOAMI, headers={"Authorization": f"bearer {make_token()}"})
    assert response.status_code == 200, response.text


async def test_extra_claims_are_ignored(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """The token rotator's roles claim and other unknown claims do not matter."""
    response = await whoami(client, make_token(roles="voiceagent", scope="anything"))
    assert response.status_code == 200, response.text


async def test_rsa_4096_certificate_verifies(
    client: httpx2.AsyncClient, make_token: TokenFactory, database_url: str
) -> None:
    """A 4096-bit key (the other size Salesforce allows) is trusted."""
    big: KeyPair = new_key_pair("big", bits=4096)
    await seed_call_center(database_url, ORG_ID, "BigCC", [big.certificate_pem])
    response = await whoami(client, make_token(sub="BigCC", key_pem=big.private_key_pem))
    assert response.status_code == 200, response.text
