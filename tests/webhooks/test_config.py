"""Subscriptions in the contact-centre file: validated with clear errors, shown by a dry run, applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbridge.contact_center import ConfigInvalid, apply_file
from callbridge.kit.db import Database
from tests.webhooks.conftest import webhook_yaml


async def refusals(database_url: str, tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = tmp_path / "hooks.yaml"
    path.write_text(text)
    database = Database(database_url)
    try:
        with pytest.raises(ConfigInvalid) as caught:
            await apply_file(database, path)
    finally:
        await database.dispose()
    return [(problem.path, problem.reason) for problem in caught.value.problems]


async def test_an_unknown_event_type_is_refused_with_the_known_ones(database_url: str, tmp_path: Path) -> None:
    """events: [voice_call.ended] names the place and lists the catalogue's types."""
    text = webhook_yaml({"url": "https://crm.example.com/hooks", "events": ["voice_call.ended"]})
    ((where, reason),) = await refusals(database_url, tmp_path, text)
    assert where == "orgs[0].webhooks[0].events[0]"
    assert "unknown event type 'voice_call.ended'" in reason and "voice_call.state_changed" in reason


async def test_a_bad_url_is_refused(database_url: str, tmp_path: Path) -> None:
    """A URL that is not http(s) is refused at its place."""
    ((where, reason),) = await refusals(database_url, tmp_path, webhook_yaml({"url": "ftp://crm.example.com/x"}))
    assert where == "orgs[0].webhooks[0].url" and "not an http(s) URL" in reason


async def test_a_missing_secret_env_is_refused(database_url: str, tmp_path: Path) -> None:
    """A webhook without secret_env names what it needs."""
    text = webhook_yaml({"url": "https://crm.example.com/hooks"}).replace(
        "        secret_env: TEST_WEBHOOK_SECRET\n", ""
    )
    ((_, reason),) = await refusals(database_url, tmp_path, text)
    assert "a webhook needs secret_env" in reason


async def test_a_secret_given_instead_of_a_variable_name_is_refused(database_url: str, tmp_path: Path) -> None:
    """secret_env takes a variable name; a whsec_ value pasted there is refused with the reason."""
    text = webhook_yaml({"url": "https://crm.example.com/hooks", "secret_env": "whsec_abc+def="})
    ((where, reason),) = await refusals(database_url, tmp_path, text)
    assert where == "orgs[0].webhooks[0].secret_env" and "not an environment variable name" in reason


async def test_an_unknown_call_center_is_refused(
    database_url: str, tmp_path: Path, call_centers: dict[str, object]
) -> None:
    """call_centers must name call centers of the org."""
    text = webhook_yaml({"url": "https://crm.example.com/hooks", "call_centers": ["NoSuchCC"]})
    ((where, reason),) = await refusals(database_url, tmp_path, text)
    assert where == "orgs[0].webhooks[0].call_centers[0]" and "unknown call center 'NoSuchCC'" in reason


async def test_a_dry_run_shows_the_subscription(
    database_url: str, tmp_path: Path, call_centers: dict[str, object]
) -> None:
    """apply --dry-run lists the webhook with its events, secret variable and call centers."""
    path = tmp_path / "hooks.yaml"
    path.write_text(webhook_yaml({"url": "https://crm.example.com/hooks", "events": ["transcript.accepted"]}))
    database = Database(database_url)
    try:
        result = await apply_file(database, path, dry_run=True)
    finally:
        await database.dispose()
    (change,) = [change for change in result.changes if change.kind.value == "webhook"]
    assert change.action.value == "create"
    assert change.detail == "events: transcript.accepted; secret from $TEST_WEBHOOK_SECRET; call centers: all"
