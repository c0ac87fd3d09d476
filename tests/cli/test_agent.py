"""``callbridge agent set-password`` / ``hash-password``: passwords the console accepts, kept across applies."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from callbridge.auth.certificates import KeyPair
from callbridge.cli import agent
from callbridge.console.passwords import verify_password
from callbridge.kit.db import Database
from callbridge.models import Agent
from tests.cli.conftest import typer_app
from tests.routing.conftest import ALICE, CONFIG, PASSWORD, apply_config


@pytest.fixture
def app() -> typer.Typer:
    return typer_app(agent)


async def stored_hash(database_url: str, username: str) -> str | None:
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            return (await session.scalars(select(Agent.password_hash).where(Agent.username == username))).one()
    finally:
        await database.dispose()


async def test_set_password_from_stdin(app: typer.Typer, configured: None, database_url: str) -> None:
    """The new password verifies against the stored scrypt hash; the old one no longer does."""
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["agent", "set-password", ALICE, "--password-stdin"], input="new secret\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Password set for {ALICE}")
    stored = await stored_hash(database_url, ALICE)
    assert stored is not None and stored.startswith("scrypt$16384$8$1$")
    assert verify_password("new secret", stored)
    assert not verify_password(PASSWORD, stored)


async def test_reapplying_a_file_without_a_hash_keeps_it(
    app: typer.Typer, configured: None, database_url: str, tmp_path: Path, key_pair: KeyPair
) -> None:
    """A password set with the CLI survives an apply of a file that gives no password_hash."""
    await asyncio.to_thread(
        CliRunner().invoke, app, ["agent", "set-password", ALICE, "--password-stdin"], input="new secret\n"
    )
    without_hashes = "\n".join(line for line in CONFIG.splitlines() if "password_hash" not in line) + "\n"
    await apply_config(database_url, tmp_path, key_pair, without_hashes)
    stored = await stored_hash(database_url, ALICE)
    assert stored is not None and verify_password("new secret", stored)


async def test_unknown_agent_exits_1(app: typer.Typer, configured: None) -> None:
    """No such username: an error, nothing changed."""
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["agent", "set-password", "nobody", "--password-stdin"], input="x\n"
    )
    assert (result.exit_code, result.stderr.strip()) == (1, "error: no agent 'nobody'")


async def test_an_empty_password_is_refused(app: typer.Typer, configured: None) -> None:
    """An empty line on stdin is not a password."""
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["agent", "set-password", ALICE, "--password-stdin"], input="\n"
    )
    assert result.exit_code == 1


def test_hash_password_prints_a_hash_the_config_accepts(app: typer.Typer) -> None:
    """hash-password's output verifies and has the config file's shape."""
    from callbridge.contact_center.schemas import AgentSpec

    result = CliRunner().invoke(app, ["agent", "hash-password", "--password-stdin"], input="pw\n")
    hashed = result.stdout.strip()
    assert verify_password("pw", hashed)
    spec = AgentSpec(username="a", user_id="005XX0000000001AAA", password_hash=hashed)
    assert spec.password_hash == hashed
