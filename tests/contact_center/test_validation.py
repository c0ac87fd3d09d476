"""Every kind of problem names the file, the path inside it and the reason, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from callbridge.auth.certificates import KeyPair
from callbridge.contact_center import ConfigInvalid, apply_file
from callbridge.kit.db import Database
from tests.contact_center.configs import EXAMPLE, dump
from tests.contact_center.conftest import WriteConfig

ORG = "00DXX000000CONFAAA"


async def problems(database: Database, path: Path) -> list[tuple[str, str]]:
    """(path, reason) of each problem of the file, which must be refused."""
    with pytest.raises(ConfigInvalid) as caught:
        await apply_file(database, path)
    assert all(problem.file == str(path) for problem in caught.value.problems)
    return [(problem.path, problem.reason) for problem in caught.value.problems]


def org(body: str = "") -> str:
    """A one-org file; ``body`` is indented under the org."""
    indented = "".join(f"    {line}\n" for line in body.splitlines())
    return f"orgs:\n  - id: {ORG}\n{indented}"


async def test_an_unknown_queue_names_file_path_and_what_exists(
    database: Database, write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch, config_dir: Path
) -> None:
    """The problem reads FILE:PATH: reason, listing the queues the org has."""
    write_config(
        org(
            "queues: [{api_name: Support}]\nflows:\n"
            "  - {api_name: A, rules: [{route: {queue: Support}}]}\n"
            "  - {api_name: B, rules: [{route: {queue: Spanish}}]}"
        )
    )
    monkeypatch.chdir(config_dir)

    with pytest.raises(ConfigInvalid) as caught:
        await apply_file(database, Path("cc.yaml"))

    assert caught.value.errors == [
        f"cc.yaml:orgs[0].flows[1].rules[0].route.queue: unknown queue 'Spanish' (org {ORG} has: Support)"
    ]


async def test_yaml_syntax_errors_name_line_and_column(database: Database, write_config: WriteConfig) -> None:
    """A YAML syntax error is reported as FILE:LINE:COLUMN: reason."""
    path = write_config("orgs:\n  - id: 00DXX000000CONFAAA\n    queues: [Support\n")

    [(where, reason)] = await problems(database, path)

    assert where == "4:1"
    assert "expected ',' or ']'" in reason


async def test_a_key_given_twice_is_refused(database: Database, write_config: WriteConfig) -> None:
    """YAML would keep the last of two equal keys silently; the loader refuses them with both lines."""
    path = write_config(f"orgs:\n  - id: {ORG}\n    id: 00DXX000000OTHRAAA\n")

    assert await problems(database, path) == [("3:5", "duplicate key 'id' (first given on line 2)")]


async def test_an_empty_file_is_refused(database: Database, write_config: WriteConfig) -> None:
    """An empty file says what was expected."""
    assert await problems(database, write_config("")) == [("", "the file is empty: expected a mapping with `orgs`")]


async def test_a_missing_file_is_refused(database: Database, tmp_path: Path) -> None:
    """A file that cannot be read is one problem naming it."""
    assert await problems(database, tmp_path / "nope.yaml") == [
        ("", "cannot read the file (No such file or directory)")
    ]


async def test_an_unknown_key_lists_the_allowed_ones(database: Database, write_config: WriteConfig) -> None:
    """A typo is an error at its path, with the keys that place takes."""
    path = write_config(org("queues: [{api_name: Support, externalId: x}]"))

    assert await problems(database, path) == [
        ("orgs[0].queues[0].externalId", "unknown key (allowed: api_name, external_id, remove)")
    ]


async def test_an_unquoted_phone_number_gets_a_hint(database: Database, write_config: WriteConfig) -> None:
    """YAML reads +14155550100 as a number; the error says to quote it."""
    path = write_config(
        org(
            "call_centers:\n  - api_name: CC\n    certificates: []\n    phone_channels:\n"
            "      - {dialed_number: +14155550100, fallback_queue: Support}\nqueues: [{api_name: Support}]"
        )
    )

    [(where, reason)] = await problems(database, path)

    assert where == "orgs[0].call_centers[0].phone_channels[0].dialed_number"
    assert reason.startswith("input should be a valid string, got an integer (quote phone numbers")


@pytest.mark.parametrize(
    ("org_id", "reason"),
    [
        ("00DXX00000CONF", "'00DXX00000CONF' is not an org id (15 or 18 letters and digits starting with 00D)"),
        ("005XX000000CONFAAA", "'005XX000000CONFAAA' is not an org id (15 or 18 letters and digits starting with 00D)"),
    ],
)
async def test_org_ids_must_look_like_org_ids(
    database: Database, write_config: WriteConfig, org_id: str, reason: str
) -> None:
    """An org id has 15 or 18 letters and digits and starts with 00D."""
    assert await problems(database, write_config(f"orgs:\n  - id: {org_id}\n")) == [("orgs[0].id", reason)]


async def test_user_ids_must_start_with_005(database: Database, write_config: WriteConfig) -> None:
    """An agent's user id is a 15- or 18-character 005 id."""
    path = write_config(org("agents: [{username: a@example.com, user_id: 00GXX0000012345AAA}]"))

    assert await problems(database, path) == [
        (
            "orgs[0].agents[0].user_id",
            "'00GXX0000012345AAA' is not a user id (15 or 18 letters and digits starting with 005)",
        )
    ]


@pytest.mark.parametrize(
    ("route", "where", "reason"),
    [
        (
            "{queue: Support, agent: a@example.com}",
            "route",
            "name exactly one of queue, agent or skills (got queue, agent)",
        ),
        ("{priority: 1}", "route", "name exactly one of queue, agent or skills"),
        (
            "{queue: Support, preferred_agent: a@example.com}",
            "route",
            "preferred_agent goes with skills (a queue or agent route names its target)",
        ),
        ("{queue: Support, push_timeout: 25}", "route.push_timeout", "Input should be less than or equal to 20"),
        ("{skills: {english: 11}}", "route.skills.english", "Input should be less than or equal to 10"),
        (
            "{queue: Support, wait: 3}",
            "route.wait",
            "unknown key (allowed: queue, agent, skills, preferred_agent, priority, push_timeout)",
        ),
    ],
)
async def test_route_shapes_are_checked(
    database: Database, write_config: WriteConfig, route: str, where: str, reason: str
) -> None:
    """A route names exactly one target, preferred_agent only with skills, push_timeout 0..20."""
    path = write_config(
        org(f"queues: [{{api_name: Support}}]\nflows:\n  - api_name: F\n    rules:\n      - route: {route}")
    )

    assert await problems(database, path) == [(f"orgs[0].flows[0].rules[0].{where}", reason)]


@pytest.mark.parametrize(
    ("when", "where", "reason"),
    [
        ("{input.language: [es, fr]}", 'when["input.language"]', "a list needs an operator: write {in: [...]}"),
        (
            "{input.language: {like: es}}",
            'when["input.language"]',
            "unknown operator 'like' (operators: equals, exists, in, not, prefix)",
        ),
        ("{input.language: {in: es}}", 'when["input.language"]', "in: expected a non-empty list of values"),
        ("{call.from: {not: {prefix: 5}}}", 'when["call.from"]', "not: prefix: expected a non-empty string"),
        (
            "{caller: x}",
            "when.caller",
            "unknown condition 'caller': use input.<name>, attribute.<name> or one of call.callOrigin,"
            " call.callSubtype, call.dialedNumber, call.from, call.initiationMethod, call.to, call.vendorCallKey",
        ),
    ],
)
async def test_conditions_are_checked(
    database: Database, write_config: WriteConfig, when: str, where: str, reason: str
) -> None:
    """A condition is a value or a mapping of known operators, under a known condition key."""
    path = write_config(
        org(
            f"queues: [{{api_name: Support}}]\nflows:\n  - api_name: F\n    rules:\n"
            f"      - {{when: {when}, route: {{queue: Support}}}}"
        )
    )

    assert await problems(database, path) == [(f"orgs[0].flows[0].rules[0].{where}", reason)]


async def test_valid_conditions_are_stored_as_written(database: Database, write_config: WriteConfig) -> None:
    """Every documented operator and key form is accepted."""
    when = (
        "{call.from: {prefix: '+1415'}, call.initiationMethod: Inbound, attribute.Tier: {in: [gold, platinum]},"
        " input.vip: {exists: true}, call.callOrigin: {not: {equals: Voicemail}}}"
    )
    path = write_config(
        org(
            f"queues: [{{api_name: Support}}]\nflows:\n  - api_name: F\n    rules:\n"
            f"      - {{when: {when}, route: {{queue: Support, priority: 2, push_timeout: 0}}}}"
        )
    )

    result = await apply_file(database, path)

    assert result.summary() == "3 created, 0 updated, 0 removed, 0 unchanged"


@pytest.mark.parametrize(
    ("body", "where", "reason"),
    [
        (
            "queues: [{api_name: Support}, {api_name: Support}]",
            "orgs[0].queues[1].api_name",
            f"queue 'Support' is listed twice in {ORG} (first at orgs[0].queues[0])",
        ),
        (
            "flows:\n  - {api_name: F, rules: [{route: {queue: Q}}]}\n  - {api_name: F, remove: true}\n"
            "queues: [{api_name: Q}]",
            "orgs[0].flows[1].api_name",
            f"flow 'F' is listed twice in {ORG} (first at orgs[0].flows[0])",
        ),
        (
            "call_centers:\n  - api_name: CC\n    certificates: []\n    phone_channels:\n"
            "      - {dialed_number: '+1', fallback_queue: Q}\n      - {dialed_number: '+1', fallback_queue: Q}\n"
            "queues: [{api_name: Q}]",
            "orgs[0].call_centers[0].phone_channels[1].dialed_number",
            "phone channel '+1' is listed twice in CC (first at orgs[0].call_centers[0].phone_channels[0])",
        ),
        (
            "agents:\n  - {username: a, user_id: 005XX0000012345}\n  - {username: b, user_id: 005XX0000012345AAA}",
            "orgs[0].agents[1].user_id",
            f"user id '005XX0000012345' is listed twice in {ORG} (first at orgs[0].agents[0])",
        ),
    ],
)
async def test_duplicates_are_refused(
    database: Database, write_config: WriteConfig, body: str, where: str, reason: str
) -> None:
    """Two entries naming the same object are an error at the second one."""
    assert await problems(database, write_config(org(body))) == [(where, reason)]


async def test_the_same_org_in_15_and_18_form_is_a_duplicate(database: Database, write_config: WriteConfig) -> None:
    """00DXX000000CONF and 00DXX000000CONFAAA are one org: listing both is an error."""
    path = write_config(f"orgs:\n  - id: {ORG}\n  - id: {ORG[:15]}\n")

    assert await problems(database, path) == [
        (
            "orgs[1].id",
            f"org {ORG[:15]} is listed twice (also at orgs[0];"
            " the 15- and 18-character forms of an id name the same org)",
        )
    ]


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        (
            "flow: Inbound_Support",
            "flow: Outbound",
            "call_centers[0].phone_channels[0].flow",
            f"unknown flow 'Outbound' (org {ORG} has: Inbound_Support)",
        ),
        (
            "fallback_queue: Support",
            "fallback_queue: Sales",
            "call_centers[0].phone_channels[0].fallback_queue",
            f"unknown queue 'Sales' (org {ORG} has: Spanish, Support)",
        ),
        (
            "queues: [Support]",
            "queues: [Support, Sales]",
            "agents[0].queues[1]",
            f"unknown queue 'Sales' (org {ORG} has: Spanish, Support)",
        ),
        (
            "route: {queue: Spanish}",
            "route: {agent: bob@example.com}",
            "flows[0].rules[0].route.agent",
            f"unknown agent 'bob@example.com' (org {ORG} has: alice@example.com)",
        ),
        (
            "route: {queue: Spanish}",
            "route: {skills: {spanish: 3}, preferred_agent: 005XX0000099999}",
            "flows[0].rules[0].route.preferred_agent",
            f"unknown agent '005XX0000099999' (org {ORG} has: alice@example.com)",
        ),
    ],
)
async def test_cross_references_must_exist(
    database: Database, write_config: WriteConfig, old: str, new: str, where: str, reason: str
) -> None:
    """Phone channels, agents and flows may only name flows, queues and agents of their org."""
    assert old in EXAMPLE
    path = write_config(EXAMPLE.replace(old, new))

    assert await problems(database, path) == [(f"orgs[0].{where}", reason)]


async def test_an_agent_may_be_named_by_user_id(database: Database, write_config: WriteConfig) -> None:
    """A route's agent may be the 15-character form of the agent's 18-character user id."""
    path = write_config(EXAMPLE.replace("route: {queue: Spanish}", "route: {agent: 005XX0000012345}"))

    result = await apply_file(database, path)

    assert result.revision_id is not None


async def test_naming_what_the_file_removes_is_refused(database: Database, write_config: WriteConfig) -> None:
    """A reference to a queue removed by the same file points at the removal."""
    path = write_config(
        EXAMPLE.replace("      - api_name: Spanish\n", "      - remove: true\n        api_name: Spanish\n").replace(
            '        external_id: "arn:aws:connect:us-east-1:111122223333:instance/i1/queue/q-spanish"\n', ""
        )
    )

    assert await problems(database, path) == [
        ("orgs[0].flows[0].rules[0].route.queue", "queue 'Spanish' is removed by this file (at orgs[0].queues[1])")
    ]


@pytest.mark.parametrize(
    ("body", "where", "reason"),
    [
        (
            "call_centers: [{api_name: CC}]",
            "orgs[0].call_centers[0].certificates",
            "required: the certificates or public keys this call center trusts ([] trusts none)",
        ),
        ("agents: [{username: a@example.com}]", "orgs[0].agents[0].user_id", "required"),
        ("flows: [{api_name: F}]", "orgs[0].flows[0].rules", "required: at least one rule"),
        (
            "call_centers: [{api_name: CC, certificates: [], phone_channels: [{dialed_number: '+1'}]}]",
            "orgs[0].call_centers[0].phone_channels[0]",
            "give a flow, a fallback_queue or both",
        ),
        (
            "queues: [{api_name: Q, external_id: x, remove: true}]",
            "orgs[0].queues[0]",
            "a removed queue takes only api_name and remove (drop external_id)",
        ),
        ("agents: [{remove: true}]", "orgs[0].agents[0]", "name the agent to remove by username or user_id"),
    ],
)
async def test_required_keys_and_removal_entries(
    database: Database, write_config: WriteConfig, body: str, where: str, reason: str
) -> None:
    """What an object needs unless it is removed, and what a removal entry may carry."""
    assert await problems(database, write_config(org(body))) == [(where, reason)]


def call_center_with(certificate: str) -> str:
    return org(f"call_centers:\n  - api_name: CC\n    certificates:\n      - {certificate}")


async def test_a_missing_certificate_file_names_its_path(database: Database, write_config: WriteConfig) -> None:
    """A certificate path that cannot be read is resolved against the config file's directory."""
    path = write_config(call_center_with("keys/missing.pem"))

    [(where, reason)] = await problems(database, path)

    assert where == "orgs[0].call_centers[0].certificates[0]"
    assert reason == (
        f"cannot read keys/missing.pem (resolved to {path.parent / 'keys/missing.pem'}): No such file or directory"
    )


async def test_a_file_that_is_not_pem_is_refused(
    database: Database, write_config: WriteConfig, config_dir: Path
) -> None:
    """A certificate file without a PEM certificate or public key is an error naming the file."""
    (config_dir / "keys" / "junk.pem").write_text("hello\n")

    assert await problems(database, write_config(call_center_with("keys/junk.pem"))) == [
        (
            "orgs[0].call_centers[0].certificates[0]",
            "keys/junk.pem: expected a PEM certificate (BEGIN CERTIFICATE) or public key (BEGIN PUBLIC KEY)",
        )
    ]


async def test_a_private_key_is_refused_with_a_hint(
    database: Database, write_config: WriteConfig, config_dir: Path, key_pair: KeyPair
) -> None:
    """Giving the private key instead of the certificate says which one belongs here."""
    (config_dir / "keys" / "private.key").write_text(key_pair.private_key_pem)

    assert await problems(database, write_config(call_center_with("keys/private.key"))) == [
        (
            "orgs[0].call_centers[0].certificates[0]",
            "keys/private.key is a private key: give the certificate or public key"
            " (the private key stays with the telephony system)",
        )
    ]


async def test_a_1024_bit_key_is_refused(database: Database, write_config: WriteConfig, config_dir: Path) -> None:
    """A key under 2048 bits is too weak (made with cryptography directly: PyJWT plays no part here)."""
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    pem = weak.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    (config_dir / "keys" / "weak.pem").write_text(pem)

    assert await problems(database, write_config(call_center_with("keys/weak.pem"))) == [
        (
            "orgs[0].call_centers[0].certificates[0]",
            "keys/weak.pem: the RSA key has 1024 bits; at least 2048 are required",
        )
    ]


async def test_the_same_key_twice_is_refused(database: Database, write_config: WriteConfig) -> None:
    """One call center listing one key twice (by path, then inline) is a duplicate."""
    path = write_config(
        org("call_centers:\n  - api_name: CC\n    certificates: [keys/cert.pem, keys/../keys/cert.pem]")
    )

    assert await problems(database, path) == [
        ("orgs[0].call_centers[0].certificates[1]", "the same key as certificates[0]")
    ]


async def test_all_problems_are_reported_at_once(database: Database, write_config: WriteConfig) -> None:
    """A schema error does not hide cross-reference errors elsewhere, nor make its own item 'unknown'."""
    path = write_config(
        org(
            "queues:\n  - {api_name: Support, external_id: 7}\nflows:\n"
            "  - {api_name: A, rules: [{route: {queue: Support}}]}\n"
            "  - {api_name: B, rules: [{route: {queue: Nowhere}}], colour: red}\n"
            "  - {api_name: C, rules: [{route: {queue: Nowhere}}]}\n"
            "agents: [{username: a@example.com, user_id: 005XX0000012345, queues: [Gone]}]"
        )
    )

    assert await problems(database, path) == [
        ("orgs[0].queues[0].external_id", "input should be a valid string, got an integer"),
        ("orgs[0].flows[1].colour", "unknown key (allowed: api_name, description, rules, remove)"),
        ("orgs[0].agents[0].queues[0]", f"unknown queue 'Gone' (org {ORG} has: Support)"),
        ("orgs[0].flows[2].rules[0].route.queue", f"unknown queue 'Nowhere' (org {ORG} has: Support)"),
    ]


async def test_a_refused_file_leaves_an_empty_database_empty(database: Database, write_config: WriteConfig) -> None:
    """Nothing of a file with one problem is written, not even the valid parts."""
    before = await dump(database)

    with pytest.raises(ConfigInvalid):
        await apply_file(database, write_config(EXAMPLE.replace("route: {queue: Support}", "route: {queue: Sales}")))

    assert await dump(database) == before
