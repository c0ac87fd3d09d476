"""The config file's routing additions: agents' role and password_hash, the new call fields, idempotency."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from callbridge.auth.certificates import KeyPair
from callbridge.contact_center import apply_file
from callbridge.contact_center.schemas import AgentSpec, RuleSpec
from callbridge.kit.db import Database
from callbridge.models import CallCenter
from tests.routing.conftest import CONFIG, apply_config


def test_a_plain_password_is_not_a_password_hash() -> None:
    """password_hash takes only what hash-password prints, never the password itself."""
    with pytest.raises(ValidationError, match="not a password hash"):
        AgentSpec(username="a", user_id="005XX0000000001AAA", password_hash="hunter2")


def test_role_is_agent_or_supervisor() -> None:
    """agent by default; anything but agent or supervisor is refused."""
    assert AgentSpec(username="a", user_id="005XX0000000001AAA").role == "agent"
    with pytest.raises(ValidationError):
        AgentSpec(username="a", user_id="005XX0000000001AAA", role="admin")  # type: ignore[arg-type]


def test_rules_may_read_the_new_call_fields() -> None:
    """call.callSubtype, call.dialedNumber and call.vendorCallKey are conditions."""
    rule = RuleSpec.model_validate(
        {"when": {"call.callSubtype": "WebRTC", "call.dialedNumber": {"prefix": "+1800"}}, "route": {"queue": "Q"}}
    )
    assert rule.when is not None and set(rule.when) == {"call.callSubtype", "call.dialedNumber"}


async def test_applying_the_routing_config_twice_changes_nothing(
    database_url: str, call_centers: dict[str, CallCenter], tmp_path: Path, key_pair: KeyPair
) -> None:
    """Roles and password hashes are compared like any other field: the second apply is a no-op."""
    await apply_config(database_url, tmp_path, key_pair)
    database = Database(database_url)
    try:
        result = await apply_file(database, tmp_path / "cc.yaml")
    finally:
        await database.dispose()
    assert not result.changed
    assert CONFIG.count("password_hash") == 5
