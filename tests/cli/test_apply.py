"""``callbridge apply -f FILE [--dry-run]``: the plan table, the summary, errors on stderr, exit codes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from callbridge.auth.certificates import KeyPair
from callbridge.cli import config
from callbridge.config import get_settings
from callbridge.kit.db import Database
from tests.contact_center.configs import EXAMPLE, dump


@pytest.fixture
def app() -> typer.Typer:
    """Only this module's command, so the test does not depend on the other command groups."""
    application = typer.Typer()

    @application.callback()
    def main() -> None:
        """callbridge"""

    config.register(application)
    return application


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[str]:
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.fixture
def example(tmp_path: Path, key_pair: KeyPair) -> Path:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "cert.pem").write_text(key_pair.certificate_pem)
    path = tmp_path / "cc.yaml"
    path.write_text(EXAMPLE)
    return path


def run(app: typer.Typer, *args: str) -> Result:
    return CliRunner().invoke(app, ["apply", *args], env={"COLUMNS": "200"})


def rows(database_url: str) -> dict[str, list[dict[str, Any]]]:
    async def read() -> dict[str, list[dict[str, Any]]]:
        database = Database(database_url)
        try:
            return await dump(database)
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_apply_prints_the_plan_and_exits_0(app: typer.Typer, use_database: str, example: Path) -> None:
    """A valid file: a table of what was created, then the summary line."""
    result = run(app, "-f", str(example))

    assert result.exit_code == 0, result.output
    assert "Plan for" in result.stdout
    assert "create" in result.stdout
    assert "00DXX000000CONFAAA/ConformanceCC/+14155550100" in result.stdout
    assert "8 created, 0 updated, 0 removed, 0 unchanged (applied as revision 1)" in result.stdout


def test_applying_again_prints_no_changes(app: typer.Typer, use_database: str, example: Path) -> None:
    """The second apply of one file changes nothing and says so."""
    run(app, "--file", str(example))

    result = run(app, "--file", str(example))

    assert result.exit_code == 0
    assert "No changes." in result.stdout
    assert "0 created, 0 updated, 0 removed, 8 unchanged (nothing to apply)" in result.stdout


def test_dry_run_changes_nothing(app: typer.Typer, use_database: str, example: Path) -> None:
    """--dry-run prints the plan and leaves the database as it was."""
    before = rows(use_database)

    result = run(app, "-f", str(example), "--dry-run")

    assert result.exit_code == 0
    assert "8 created, 0 updated, 0 removed, 0 unchanged (dry run: nothing was changed)" in result.stdout
    assert rows(use_database) == before


def test_problems_go_to_stderr_with_exit_1(app: typer.Typer, use_database: str, example: Path) -> None:
    """Every problem is printed to stderr as FILE:PATH: reason; nothing is written."""
    example.write_text(
        EXAMPLE.replace("fallback_queue: Support", "fallback_queue: Sales").replace("skills: {", "skill: {")
    )
    before = rows(use_database)

    result = run(app, "-f", str(example))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{example}:orgs[0].agents[0].skill: unknown key (allowed: username, user_id, external_id, queues,"
        " skills, capacity, role, password_hash, default_outbound_number, remove)",
        f"{example}:orgs[0].call_centers[0].phone_channels[0].fallback_queue: unknown queue 'Sales'"
        " (org 00DXX000000CONFAAA has: Spanish, Support)",
        f"{example} has 2 problems; nothing was changed.",
    ]
    assert rows(use_database) == before


def test_an_unmigrated_database_asks_for_migrate(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, example: Path
) -> None:
    """Without the schema, apply says to run `callbridge migrate` and exits 1."""
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = run(app, "-f", str(example))
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 1
    assert "run `callbridge migrate` first" in result.stderr
