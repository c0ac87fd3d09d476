"""The newest endpoints' keys in the contact-centre file: validated with file paths and reasons, and shown in
the plan of an apply (--dry-run prints the same plan)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbridge.contact_center import ConfigInvalid, apply_file
from callbridge.kit.db import Database
from callbridge.models import Agent, PhoneChannel
from tests.contact_center.conftest import WriteConfig

ORG = "00DXX000000CONFAAA"


def call_center(extra: str, channel: str = "", agent: str = "") -> str:
    return f"""\
orgs:
  - id: {ORG}
    call_centers:
      - api_name: ConformanceCC
        certificates: [keys/cert.pem]
        phone_channels:
          - {{dialed_number: "+14155550100", fallback_queue: Support{channel}}}
{extra}
    queues: [{{api_name: Support}}]
    agents:
      - {{username: alice@example.com, user_id: 005XX0000012345AAA{agent}}}
"""


GOOD = call_center(
    "        voicemail_drops:\n"
    "          - {name: Busy, recording_url: 'https://media.example.com/busy.wav'}\n"
    "        default_outbound_number: '+14155550199'\n"
    "        routable_numbers: ['+14155559001', '+14155559002']\n"
    "        routable_number_ttl_seconds: 120",
    channel=", voicemail_greeting_url: 'https://media.example.com/greeting.wav'",
    agent=", default_outbound_number: '+14155550111'",
)


async def refused(database: Database, path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ConfigInvalid) as caught:
        await apply_file(database, path)
    return [(problem.path, problem.reason) for problem in caught.value.problems]


async def test_the_plan_shows_the_outbound_keys(database: Database, write_config: WriteConfig) -> None:
    """A dry run lists the drops, the default number and the pool on the call center's line."""
    result = await apply_file(database, write_config(GOOD), dry_run=True)
    (line,) = [c for c in result.changes if c.kind.value == "call center"]
    assert line.detail == (
        "voicemail_drops: Busy; default_outbound_number: +14155550199; "
        "routable_numbers: 2 (+14155559001, +14155559002); routable_number_ttl_seconds: 120"
    )


async def test_a_changed_pool_is_named_in_the_update(database: Database, write_config: WriteConfig) -> None:
    """Re-applying with another pool: an update whose detail names the new pool."""
    await apply_file(database, write_config(GOOD))
    result = await apply_file(database, write_config(GOOD.replace("'+14155559002'", "'+14155559003'")), dry_run=True)
    (line,) = [c for c in result.changes if c.kind.value == "call center"]
    assert (line.action.value, line.detail) == ("update", "settings: routable_numbers: 2 (+14155559001, +14155559003)")


async def test_the_agent_and_channel_keys_are_stored(database: Database, write_config: WriteConfig) -> None:
    """Applying stores the agent's default number and the channel's greeting."""
    result = await apply_file(database, write_config(GOOD))
    created = {c.kind.value: c.row for c in result.changes if c.row is not None}
    agent, channel = created["agent"], created["phone channel"]
    assert isinstance(agent, Agent) and isinstance(channel, PhoneChannel)
    assert agent.default_outbound_number == "+14155550111"
    assert channel.voicemail_greeting_url == "https://media.example.com/greeting.wav"


async def test_numbers_must_be_e164(database: Database, write_config: WriteConfig) -> None:
    """A default number or a pooled number that is not E.164 is refused at its path."""
    text = call_center(
        "        default_outbound_number: '4155550199'\n        routable_numbers: ['+1', '+14155559001']"
    )
    problems = await refused(database, write_config(text))
    assert [path for path, _ in problems] == [
        "orgs[0].call_centers[0].default_outbound_number",
        "orgs[0].call_centers[0].routable_numbers[0]",
    ]
    assert "is not an E.164 phone number" in problems[0][1]


async def test_an_unquoted_number_is_told_to_be_quoted(database: Database, write_config: WriteConfig) -> None:
    """YAML reads +14155550199 unquoted as an integer: the reason says to quote it."""
    problems = await refused(database, write_config(call_center("        default_outbound_number: +14155550199")))
    assert "quote phone numbers" in problems[0][1]


async def test_urls_must_be_http(database: Database, write_config: WriteConfig) -> None:
    """A drop's recording_url and a channel's greeting must be http(s) URLs."""
    text = call_center(
        "        voicemail_drops: [{name: Busy, recording_url: 'ftp://x/busy.wav'}]",
        channel=", voicemail_greeting_url: 'greeting.wav'",
    )
    paths = [path for path, _ in await refused(database, write_config(text))]
    assert paths == [
        "orgs[0].call_centers[0].phone_channels[0].voicemail_greeting_url",
        "orgs[0].call_centers[0].voicemail_drops[0].recording_url",
    ]


async def test_drop_names_and_pooled_numbers_are_unique(database: Database, write_config: WriteConfig) -> None:
    """A drop name or a pooled number given twice is refused at its second place."""
    text = call_center(
        "        voicemail_drops:\n"
        "          - {name: Busy, recording_url: 'https://x.example.com/a.wav'}\n"
        "          - {name: Busy, recording_url: 'https://x.example.com/b.wav'}\n"
        "        routable_numbers: ['+14155559001', '+14155559001']"
    )
    paths = [path for path, _ in await refused(database, write_config(text))]
    assert paths == [
        "orgs[0].call_centers[0].voicemail_drops[1].name",
        "orgs[0].call_centers[0].routable_numbers[1]",
    ]


async def test_the_ttl_is_at_most_180_seconds_and_needs_a_pool(database: Database, write_config: WriteConfig) -> None:
    """routable_number_ttl_seconds over 180 is refused; without routable_numbers it is refused too."""
    over = call_center("        routable_numbers: ['+14155559001']\n        routable_number_ttl_seconds: 600")
    assert "less than or equal to 180" in (await refused(database, write_config(over)))[0][1]
    alone = call_center("        routable_number_ttl_seconds: 60")
    assert (await refused(database, write_config(alone)))[0] == (
        "orgs[0].call_centers[0].routable_number_ttl_seconds",
        "goes with routable_numbers (the pool it applies to)",
    )
