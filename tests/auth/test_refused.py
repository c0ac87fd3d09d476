"""Every reason a token is refused: 401, the reason's code in the body, and the Bearer challenge."""

from __future__ import annotations

import httpx2

from callbridge.auth.certificates import KeyPair
from callbridge.kit.clock import FrozenClock
from tests.auth.conftest import WHOAMI, assert_refused, b64json, lambda_claims, sign, whoami
from tests.conftest import ORG_ID, TokenFactory


async def test_no_authorization_header_is_token_missing(client: httpx2.AsyncClient) -> None:
    """A request without Authorization is 401 TOKEN_MISSING (not FastAPI's 403 or 422)."""
    assert_refused(await client.get(WHOAMI), "TOKEN_MISSING")


async def test_another_scheme_is_token_missing(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A token sent with the Basic scheme is not a bearer token."""
    body = assert_refused(await client.get(WHOAMI, headers={"Authorization": "Basic dXNlcjpwYXNz"}), "TOKEN_MISSING")
    assert '"Basic"' in body["message"]


async def test_bearer_without_token_is_token_missing(client: httpx2.AsyncClient) -> None:
    """'Bearer' alone carries no token."""
    assert_refused(await client.get(WHOAMI, headers={"Authorization": "Bearer "}), "TOKEN_MISSING")


async def test_one_segment_is_token_malformed(client: httpx2.AsyncClient) -> None:
    """A value that is not header.payload.signature is TOKEN_MALFORMED, saying how many segments it has."""
    body = assert_refused(await whoami(client, "not-a-jwt"), "TOKEN_MALFORMED")
    assert "1 dot-separated segment" in body["message"]


async def test_four_segments_are_token_malformed(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A JWS with an extra segment is not a compact JWT."""
    assert_refused(await whoami(client, make_token() + ".extra"), "TOKEN_MALFORMED")


async def test_bad_base64_is_token_malformed(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A segment outside the base64url alphabet is TOKEN_MALFORMED."""
    _, payload, signature = make_token().split(".")
    body = assert_refused(await whoami(client, f"e$$.{payload}.{signature}"), "TOKEN_MALFORMED")
    assert "header" in body["message"]


async def test_header_that_is_not_json_is_token_malformed(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A header segment that decodes to something other than a JSON object is TOKEN_MALFORMED."""
    _, payload, signature = make_token().split(".")
    assert_refused(await whoami(client, f"aGVsbG8.{payload}.{signature}"), "TOKEN_MALFORMED")


async def test_payload_that_is_a_json_array_is_token_malformed(
    client: httpx2.AsyncClient, make_token: TokenFactory
) -> None:
    """Claims must be a JSON object."""
    header, _, signature = make_token().split(".")
    assert_refused(await whoami(client, f"{header}.{b64json([1, 2])}.{signature}"), "TOKEN_MALFORMED")


async def test_missing_iss_is_claim_missing(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """iss is required and the reason names it."""
    body = assert_refused(await whoami(client, make_token(iss=None)), "CLAIM_MISSING")
    assert "'iss'" in body["message"]


async def test_missing_sub_is_claim_missing(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """sub is required and the reason names it."""
    body = assert_refused(await whoami(client, make_token(sub=None)), "CLAIM_MISSING")
    assert "'sub'" in body["message"]


async def test_missing_exp_is_claim_missing(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """exp is required and the reason names it."""
    body = assert_refused(await whoami(client, make_token(exp=None)), "CLAIM_MISSING")
    assert "'exp'" in body["message"]


async def test_exp_as_string_is_claim_invalid(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """exp sent as a string of digits is refused, naming the claim and its type."""
    token = sign(lambda_claims(exp="1717895186"), key_pair.private_key_pem)
    body = assert_refused(await whoami(client, token), "CLAIM_INVALID")
    assert "'exp'" in body["message"] and "string" in body["message"]


async def test_iat_as_boolean_is_claim_invalid(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """A boolean is not a number of seconds."""
    body = assert_refused(
        await whoami(client, sign(lambda_claims(iat=True), key_pair.private_key_pem)), "CLAIM_INVALID"
    )
    assert "'iat'" in body["message"] and "boolean" in body["message"]


async def test_nbf_as_string_is_claim_invalid(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """nbf, when present, must be a number too."""
    token = sign(lambda_claims(nbf="now"), key_pair.private_key_pem)
    assert_refused(await whoami(client, token), "CLAIM_INVALID")


async def test_iss_as_number_is_claim_invalid(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """iss must be a string."""
    body = assert_refused(await whoami(client, sign(lambda_claims(iss=42), key_pair.private_key_pem)), "CLAIM_INVALID")
    assert "'iss'" in body["message"]


async def test_jti_as_number_is_claim_invalid(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """jti is optional, but when present it must be a string."""
    body = assert_refused(await whoami(client, sign(lambda_claims(jti=7), key_pair.private_key_pem)), "CLAIM_INVALID")
    assert "'jti'" in body["message"]


async def test_aud_as_object_is_claim_invalid(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """aud must be a string or a list of strings."""
    token = sign(lambda_claims(aud={"url": "x"}), key_pair.private_key_pem)
    assert_refused(await whoami(client, token), "CLAIM_INVALID")


async def test_every_claim_problem_is_listed(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """When several claims are wrong, errors lists each of them."""
    token = sign(lambda_claims(sub=None, exp="soon", iat="earlier"), key_pair.private_key_pem)
    body = assert_refused(await whoami(client, token), "CLAIM_MISSING")
    assert len(body["errors"]) == 3


async def test_broken_client_c8_is_refused(client: httpx2.AsyncClient, key_pair: KeyPair) -> None:
    """C8's token (connected-app key as iss, a username as sub, exp as a string) is refused with both reasons."""
    claims = {
        "iss": "3MVG9A2kN3Bn17hsWsLDatw_5JLv1xJSCRWdpAP7LQJsQxH9P6CsWnD0k.fCiKlzdPBlqhM4WmLkA",
        "sub": "test-user@example.com",
        "aud": "https://scrt.salesforce.com",
        "exp": "1717895186",
    }
    body = assert_refused(await whoami(client, sign(claims, key_pair.private_key_pem)), "CLAIM_INVALID")
    assert any("'exp'" in problem for problem in body["errors"])
    assert any("org id" in problem for problem in body["errors"])


async def test_unknown_org_is_unknown_call_center(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """An iss that is no configured org is UNKNOWN_CALL_CENTER, naming the iss."""
    body = assert_refused(await whoami(client, make_token(iss="00DXX000000OTHR")), "UNKNOWN_CALL_CENTER")
    assert "00DXX000000OTHR" in body["message"]


async def test_unknown_call_center_is_unknown_call_center(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A sub that names no call center of the org is UNKNOWN_CALL_CENTER, naming the sub."""
    body = assert_refused(await whoami(client, make_token(sub="NoSuchCC")), "UNKNOWN_CALL_CENTER")
    assert '"NoSuchCC"' in body["message"] and ORG_ID in body["message"]


async def test_call_center_name_is_case_sensitive(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """sub must match the API name exactly."""
    assert_refused(await whoami(client, make_token(sub="conformancecc")), "UNKNOWN_CALL_CENTER")


async def test_other_call_centers_key_is_signature_invalid(
    client: httpx2.AsyncClient, make_token: TokenFactory, other_key_pair: KeyPair
) -> None:
    """A token for ConformanceCC signed with OtherCC's key does not verify."""
    token = make_token(key_pem=other_key_pair.private_key_pem)
    assert_refused(await whoami(client, token), "SIGNATURE_INVALID")


async def test_expired_token_is_token_expired(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """exp ten minutes ago is TOKEN_EXPIRED."""
    now = int(clock.now().timestamp())
    body = assert_refused(await whoami(client, make_token(iat=now - 900, exp=now - 600)), "TOKEN_EXPIRED")
    assert "600 s ago" in body["message"]


async def test_iat_in_the_future_is_token_not_yet_valid(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """A token issued two minutes ahead of the server's clock is TOKEN_NOT_YET_VALID."""
    now = int(clock.now().timestamp())
    body = assert_refused(await whoami(client, make_token(iat=now + 120, exp=now + 400)), "TOKEN_NOT_YET_VALID")
    assert "'iat'" in body["message"]


async def test_nbf_in_the_future_is_token_not_yet_valid(
    client: httpx2.AsyncClient, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """nbf, when present, is honoured."""
    now = int(clock.now().timestamp())
    body = assert_refused(await whoami(client, make_token(nbf=now + 120)), "TOKEN_NOT_YET_VALID")
    assert "'nbf'" in body["message"]


async def test_lifetime_over_24_hours_is_too_long(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """exp 25 h after iat is TOKEN_LIFETIME_TOO_LONG, stating the limit."""
    body = assert_refused(await whoami(client, make_token(ttl=25 * 3600)), "TOKEN_LIFETIME_TOO_LONG")
    assert "86400 s" in body["message"]


async def test_lifetime_without_iat_counts_from_now(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """Without iat, exp more than 24 h from now is too long."""
    assert_refused(await whoami(client, make_token(ttl=25 * 3600, iat=None)), "TOKEN_LIFETIME_TOO_LONG")


async def test_token_without_iat_is_accepted(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """iat is optional."""
    response = await whoami(client, make_token(iat=None))
    assert response.status_code == 200, response.text


async def test_wrong_audience_is_audience_invalid(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """An aud other than the configured audience is AUDIENCE_INVALID."""
    body = assert_refused(await whoami(client, make_token(aud="https://login.salesforce.com")), "AUDIENCE_INVALID")
    assert "https://scrt.salesforce.com" in body["message"]


async def test_audience_list_containing_ours_is_accepted(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """aud may be a list; it passes when it contains the configured audience."""
    token = make_token(aud=["https://example.com", "https://scrt.salesforce.com"])
    response = await whoami(client, token)
    assert response.status_code == 200, response.text


async def test_signature_is_checked_before_time_claims(
    client: httpx2.AsyncClient, make_token: TokenFactory, other_key_pair: KeyPair, clock: FrozenClock
) -> None:
    """An expired token signed with the wrong key is refused for its signature, not its expiry."""
    now = int(clock.now().timestamp())
    token = make_token(iat=now - 900, exp=now - 600, key_pem=other_key_pair.private_key_pem)
    assert_refused(await whoami(client, token), "SIGNATURE_INVALID")


async def test_non_ascii_claim_values_are_reported_safely(client: httpx2.AsyncClient, make_token: TokenFactory) -> None:
    """A sub with non-Latin characters and a newline is a clean 401 (the reason also travels in a header)."""
    body = assert_refused(await whoami(client, make_token(sub="客服\nCC")), "UNKNOWN_CALL_CENTER")
    assert "\\u5ba2" in body["message"]
