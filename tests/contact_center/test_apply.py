"""Applying a config: what is stored, idempotence, all-or-nothing, explicit removal, key rotation."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from callbridge.auth.certificates import KeyPair, parse_pem
from callbridge.contact_center import Action, ConfigInvalid, DatabaseNotMigrated, Kind, apply_file
from callbridge.kit import ids
from callbridge.kit.db import Database
from callbridge.models import (
    Agent,
    CallCenter,
    Certificate,
    ConfigRevision,
    Flow,
    Organization,
    PhoneChannel,
    Queue,
    VoiceCall,
)
from tests.conftest import PAYLOADS
from tests.contact_center.configs import EXAMPLE, dump
from tests.contact_center.conftest import WriteConfig

ORG = "00DXX000000CONFAAA"


async def test_example_applies_and_creates_every_object(database: Database, write_config: WriteConfig) -> None:
    """The issue's example applies: one org, call center, certificate, channel, two queues, agent, flow."""
    result = await apply_file(database, write_config(EXAMPLE))

    assert result.summary() == "8 created, 0 updated, 0 removed, 0 unchanged"
    assert result.revision_id is not None


async def test_stored_rows_match_the_file(database: Database, write_config: WriteConfig, key_pair: KeyPair) -> None:
    """Each row holds what the file says, under deterministic Salesforce-shaped ids."""
    await apply_file(database, write_config(EXAMPLE))

    async with database.read_session() as session:
        org = await session.get_one(Organization, ORG)
        call_center = (await session.scalars(select(CallCenter))).one()
        certificate = (await session.scalars(select(Certificate))).one()
        channel = (await session.scalars(select(PhoneChannel))).one()
        queue = (await session.scalars(select(Queue).where(Queue.api_name == "Support"))).one()
        agent = (await session.scalars(select(Agent))).one()
        flow = (await session.scalars(select(Flow))).one()
    assert org.id15 == ORG[:15]
    assert call_center.id == ids.stable_id(ids.CALL_CENTER, ORG, "ConformanceCC")
    assert (call_center.org_id, call_center.api_name) == (ORG, "ConformanceCC")
    assert certificate.fingerprint_sha256 == parse_pem(key_pair.certificate_pem).fingerprint_sha256
    assert (certificate.call_center_id, certificate.source, certificate.kind) == (
        call_center.id,
        "keys/cert.pem",
        "certificate",
    )
    assert (channel.dialed_number, channel.flow, channel.fallback_queue) == (
        "+14155550100",
        "Inbound_Support",
        "Support",
    )
    assert queue.id == ids.stable_id(ids.QUEUE, ORG, "Support")
    assert queue.external_id == "arn:aws:connect:us-east-1:111122223333:instance/i1/queue/q-support"
    assert (agent.user_id, agent.org_id, agent.username) == ("005XX0000012345AAA", ORG, "alice@example.com")
    assert (agent.queues, agent.skills, agent.capacity) == (["Support"], {"english": 5}, 100)
    assert flow.id == ids.stable_id(ids.FLOW, ORG, "Inbound_Support")
    assert flow.definition == {
        "rules": [
            {"when": {"input.language": "es"}, "route": {"queue": "Spanish"}},
            {"route": {"queue": "Support"}},
        ]
    }


async def test_second_apply_changes_nothing(database: Database, write_config: WriteConfig) -> None:
    """Applying the same file twice: the second plan is all unchanged and writes no revision."""
    path = write_config(EXAMPLE)
    await apply_file(database, path)
    before = await dump(database)

    second = await apply_file(database, path)

    assert second.summary() == "0 created, 0 updated, 0 removed, 8 unchanged"
    assert second.revision_id is None
    assert await dump(database) == before


async def test_ids_are_the_same_in_another_database(
    database: Database, write_config: WriteConfig, tmp_path: Path, template_database: Path
) -> None:
    """Ids derive from the config, so a fresh database given the same file gets the same ids."""
    path = write_config(EXAMPLE)
    await apply_file(database, path)
    other_path = tmp_path / "other.db"
    shutil.copyfile(template_database, other_path)
    other = Database(f"sqlite+aiosqlite:///{other_path}")
    try:
        await apply_file(other, path)
        mine, theirs = await dump(database), await dump(other)
    finally:
        await other.dispose()

    for table in ("organizations", "call_centers", "queues", "agents", "flows"):
        assert mine[table] == theirs[table]


async def test_a_revision_records_source_hash_and_changes(database: Database, write_config: WriteConfig) -> None:
    """A ConfigRevision names the file, its sha256 and each change."""
    path = write_config(EXAMPLE)
    await apply_file(database, path)

    async with database.read_session() as session:
        revision = (await session.scalars(select(ConfigRevision))).one()
    assert revision.source == str(path.resolve())
    assert len(revision.sha256) == 64
    assert {"action": "create", "kind": "queue", "name": f"{ORG}/Spanish"} in revision.changes
    assert len(revision.changes) == 8


async def test_a_changed_field_is_an_update(database: Database, write_config: WriteConfig) -> None:
    """Changing a queue's external id updates that queue and nothing else."""
    await apply_file(database, write_config(EXAMPLE))

    result = await apply_file(database, write_config(EXAMPLE.replace("q-support", "q-support-2")))

    updates = [change for change in result.changes if change.action is Action.update]
    assert [(c.kind.value, c.name, c.detail) for c in updates] == [("queue", f"{ORG}/Support", "external_id")]
    async with database.read_session() as session:
        queue = (await session.scalars(select(Queue).where(Queue.api_name == "Support"))).one()
    assert queue.external_id.endswith("q-support-2")


async def test_an_error_in_the_last_flow_changes_nothing(database: Database, write_config: WriteConfig) -> None:
    """A file with valid changes and one unknown queue in its last flow leaves every row as it was."""
    await apply_file(database, write_config(EXAMPLE))
    before = await dump(database)
    broken = (
        EXAMPLE.replace("q-support", "q-support-2")
        + "      - api_name: Later\n        rules:\n          - route: {queue: Nowhere}\n"
    )

    with pytest.raises(ConfigInvalid):
        await apply_file(database, write_config(broken))

    assert await dump(database) == before


async def test_dry_run_writes_nothing(database: Database, write_config: WriteConfig) -> None:
    """A dry run returns the plan and leaves the database empty."""
    before = await dump(database)

    result = await apply_file(database, write_config(EXAMPLE), dry_run=True)

    assert result.summary() == "8 created, 0 updated, 0 removed, 0 unchanged"
    assert result.revision_id is None
    assert await dump(database) == before


async def test_objects_absent_from_the_file_are_kept(database: Database, write_config: WriteConfig) -> None:
    """A file listing only the org keeps every stored object of it."""
    await apply_file(database, write_config(EXAMPLE))
    before = await dump(database)

    result = await apply_file(database, write_config(f"orgs:\n  - id: {ORG}\n"))

    assert result.summary() == "0 created, 0 updated, 0 removed, 1 unchanged"
    assert await dump(database) == before


async def test_remove_true_deletes_the_item(database: Database, write_config: WriteConfig) -> None:
    """An entry with remove: true and its identifying key deletes that object."""
    await apply_file(database, write_config(EXAMPLE))
    removal = f"""\
orgs:
  - id: {ORG}
    agents:
      - {{username: alice@example.com, remove: true}}
"""
    result = await apply_file(database, write_config(removal))

    assert result.summary() == "0 created, 0 updated, 1 removed, 1 unchanged"
    async with database.read_session() as session:
        assert (await session.scalars(select(Agent))).all() == []


async def test_removing_a_queue_still_used_is_refused(database: Database, write_config: WriteConfig) -> None:
    """Support is the channel's fallback, an agent's queue and a flow's route: removing it alone is an error."""
    path = write_config(EXAMPLE)
    await apply_file(database, path)
    removal = f"orgs:\n  - id: {ORG}\n    queues:\n      - {{api_name: Support, remove: true}}\n"

    with pytest.raises(ConfigInvalid) as caught:
        await apply_file(database, write_config(removal, "remove.yaml"))

    [problem] = caught.value.problems
    assert problem.path == "orgs[0].queues[0]"
    assert problem.reason == (
        "cannot remove: still used by agent alice@example.com, flow Inbound_Support,"
        " phone channel ConformanceCC/+14155550100 (change or remove those in this file too)"
    )


async def test_removing_an_org_removes_everything_in_it(database: Database, write_config: WriteConfig) -> None:
    """{id, remove: true} deletes the org with its call centers, certificates, channels, queues, agents, flows."""
    await apply_file(database, write_config(EXAMPLE))

    result = await apply_file(database, write_config(f"orgs:\n  - {{id: {ORG}, remove: true}}\n"))

    assert result.summary() == "0 created, 0 updated, 8 removed, 0 unchanged"
    rows = await dump(database)
    assert all(rows[table] == [] for table in rows if table != "config_revisions")


async def test_replacing_the_certificate_list_rotates_keys(
    database: Database, write_config: WriteConfig, config_dir: Path, other_key_pair: KeyPair
) -> None:
    """The list is the call center's full set: adding a key then dropping the old one rotates it out."""
    await apply_file(database, write_config(EXAMPLE))
    (config_dir / "keys" / "new.pem").write_text(other_key_pair.certificate_pem)
    await apply_file(database, write_config(EXAMPLE.replace("[keys/cert.pem]", "[keys/cert.pem, keys/new.pem]")))

    result = await apply_file(database, write_config(EXAMPLE.replace("[keys/cert.pem]", "[keys/new.pem]")))

    assert [(c.action, c.kind.value) for c in result.changes if c.action is not Action.unchanged] == [
        (Action.remove, "certificate")
    ]
    async with database.read_session() as session:
        stored = (await session.scalars(select(Certificate))).all()
    assert [c.fingerprint_sha256 for c in stored] == [parse_pem(other_key_pair.certificate_pem).fingerprint_sha256]


async def test_inline_pem_is_accepted(database: Database, write_config: WriteConfig, key_pair: KeyPair) -> None:
    """A certificate may be written in the file itself, as a PEM block."""
    inline = key_pair.certificate_pem.strip().replace("\n", "\n            ")
    config = EXAMPLE.replace("certificates: [keys/cert.pem]", f"certificates:\n          - |\n            {inline}")

    await apply_file(database, write_config(config))

    async with database.read_session() as session:
        certificate = (await session.scalars(select(Certificate))).one()
    assert certificate.source == "inline"
    assert certificate.fingerprint_sha256 == parse_pem(key_pair.certificate_pem).fingerprint_sha256


async def test_a_15_character_org_id_is_stored_in_18_form(database: Database, write_config: WriteConfig) -> None:
    """A 15-character org id is stored with its case-safe suffix, and both forms then name that org."""
    await apply_file(database, write_config("orgs:\n  - id: 00DXX000000CONF\n"))

    result = await apply_file(database, write_config(f"orgs:\n  - id: {ids.to_18('00DXX000000CONF')}\n"))

    assert result.summary() == "0 created, 0 updated, 0 removed, 1 unchanged"
    async with database.read_session() as session:
        org = (await session.scalars(select(Organization))).one()
    assert (org.id, org.id15) == (ids.to_18("00DXX000000CONF"), "00DXX000000CONF")


async def test_references_may_name_stored_objects(database: Database, write_config: WriteConfig) -> None:
    """A flow may route to a queue that is stored but not listed in this file."""
    await apply_file(database, write_config(EXAMPLE))
    extra = f"orgs:\n  - id: {ORG}\n    flows:\n      - {{api_name: Extra, rules: [{{route: {{queue: Spanish}}}}]}}\n"

    result = await apply_file(database, write_config(extra, "extra.yaml"))

    assert result.summary() == "1 created, 0 updated, 0 removed, 1 unchanged"


async def test_an_agent_user_id_of_another_org_is_refused(database: Database, write_config: WriteConfig) -> None:
    """A user id names one agent: another org cannot take it unless the same file removes it first."""
    await apply_file(database, write_config(EXAMPLE))
    other = (
        "orgs:\n  - id: 00DXX000000OTHRAAA\n    agents:\n"
        "      - {username: alice@example.com, user_id: 005XX0000012345AAA}\n"
    )

    with pytest.raises(ConfigInvalid) as caught:
        await apply_file(database, write_config(other, "other.yaml"))

    assert [(p.path, p.reason) for p in caught.value.problems] == [
        (
            "orgs[0].agents[0].user_id",
            f"user id 005XX0000012345AAA belongs to agent alice@example.com of org {ORG}"
            " (remove it there in the same file to move it)",
        )
    ]


async def test_an_unmigrated_database_is_reported(tmp_path: Path, write_config: WriteConfig) -> None:
    """A database without the schema raises DatabaseNotMigrated naming `callbridge migrate`."""
    empty = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(DatabaseNotMigrated, match="run `callbridge migrate` first"):
            await apply_file(empty, write_config(EXAMPLE))
    finally:
        await empty.dispose()


async def test_removing_a_call_center_removes_its_certificates_and_channels(
    database: Database, write_config: WriteConfig
) -> None:
    """{api_name, remove: true} deletes the call center with its certificates and phone channels."""
    await apply_file(database, write_config(EXAMPLE))
    removal = f"orgs:\n  - id: {ORG}\n    call_centers: [{{api_name: ConformanceCC, remove: true}}]\n"

    result = await apply_file(database, write_config(removal, "remove.yaml"))

    removed = [(c.kind.value, c.name) for c in result.changes if c.action is Action.remove]
    assert removed == [
        ("certificate", f"{ORG}/ConformanceCC/sha256:{removed[0][1].rsplit(':', 1)[1]}"),
        ("phone channel", f"{ORG}/ConformanceCC/+14155550100"),
        ("call center", f"{ORG}/ConformanceCC"),
    ]
    rows = await dump(database)
    assert rows["call_centers"] == rows["certificates"] == rows["phone_channels"] == []


async def test_an_agent_moves_to_another_org_when_the_file_removes_it_first(
    database: Database, write_config: WriteConfig
) -> None:
    """Removing an agent from one org and declaring it in another, in one file, moves it."""
    await apply_file(database, write_config(EXAMPLE))
    move = f"""\
orgs:
  - id: {ORG}
    agents: [{{user_id: 005XX0000012345AAA, remove: true}}]
    flows:
      - {{api_name: Inbound_Support, rules: [{{route: {{queue: Support}}}}]}}
  - id: 00DXX000000OTHRAAA
    agents: [{{username: alice@example.com, user_id: 005XX0000012345AAA}}]
"""
    await apply_file(database, write_config(move, "move.yaml"))

    async with database.read_session() as session:
        agent = (await session.scalars(select(Agent))).one()
    assert (agent.user_id, agent.org_id) == ("005XX0000012345AAA", "00DXX000000OTHRAAA")


async def test_removing_a_call_center_takes_its_calls_and_says_so(
    database: Database, write_config: WriteConfig, client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    """The plan names how many calls a call-center removal deletes, and the calls go with it."""
    body = (PAYLOADS / "lambda_create_inbound.json").read_text()
    response = await client.post("/telephony/v1/voiceCalls", content=body, headers=auth())
    assert response.status_code == 200, response.text
    removal = f"orgs:\n  - id: {ORG}\n    call_centers: [{{api_name: ConformanceCC, remove: true}}]\n"

    result = await apply_file(database, write_config(removal))

    [change] = [c for c in result.changes if c.kind is Kind.call_center]
    assert (change.action, change.detail) == (Action.remove, "and its 1 voice call")
    async with database.read_session() as session:
        assert (await session.scalars(select(VoiceCall))).all() == []
