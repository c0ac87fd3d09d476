"""``callbridge keys new``: a usable key pair, written safely."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from callbridge.auth.certificates import parse_pem
from callbridge.cli import certs, keys, tokens
from callbridge.config import get_settings
from tests.conftest import ORG_ID, seed_call_center

runner = CliRunner()


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    for module in (keys, tokens, certs):
        module.register(app)
    return app


@pytest.fixture
def configured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Settings read from the environment point at this test's database."""
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_writes_private_key_and_certificate(cli: typer.Typer, tmp_path: Path) -> None:
    """keys new writes private.key (mode 0600) and cert.pem into --out."""
    result = runner.invoke(cli, ["keys", "new", "--out", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    private, certificate = tmp_path / "keys" / "private.key", tmp_path / "keys" / "cert.pem"
    assert "BEGIN PRIVATE KEY" in private.read_text()
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert parse_pem(certificate.read_text()).key_bits == 2048


def test_the_private_key_is_kept_out_of_git(cli: typer.Typer, tmp_path: Path) -> None:
    """keys new leaves a .gitignore naming private.key beside it, so `git add keys/` never commits the key."""
    out = tmp_path / "keys"
    assert runner.invoke(cli, ["keys", "new", "--out", str(out)]).exit_code == 0
    ignored = (out / ".gitignore").read_text().splitlines()
    assert "private.key" in ignored and "cert.pem" not in ignored


def test_an_existing_gitignore_is_left_alone(cli: typer.Typer, tmp_path: Path) -> None:
    """A folder that already has its own .gitignore keeps it unchanged."""
    (tmp_path / ".gitignore").write_text("*\n")
    assert runner.invoke(cli, ["keys", "new", "--out", str(tmp_path)]).exit_code == 0
    assert (tmp_path / ".gitignore").read_text() == "*\n"


def test_prints_paths_fingerprint_and_expiry(cli: typer.Typer, tmp_path: Path) -> None:
    """The output names both files, the certificate's SHA-256 fingerprint and its expiry."""
    result = runner.invoke(cli, ["keys", "new", "--out", str(tmp_path), "--days", "30"])
    parsed = parse_pem((tmp_path / "cert.pem").read_text())
    assert parsed.fingerprint_sha256 in result.stdout
    assert str(tmp_path / "private.key") in result.stdout
    assert parsed.not_after is not None and f"{parsed.not_after:%Y-%m-%d}" in result.stdout


def test_options_shape_the_certificate(cli: typer.Typer, tmp_path: Path) -> None:
    """--bits, --days and --cn set the key size, validity and subject."""
    result = runner.invoke(
        cli, ["keys", "new", "--out", str(tmp_path), "--bits", "4096", "--days", "10", "--cn", "acme"]
    )
    assert result.exit_code == 0, result.output
    parsed = parse_pem((tmp_path / "cert.pem").read_text())
    assert parsed.key_bits == 4096
    assert parsed.subject == "CN=acme"
    assert parsed.not_after is not None and parsed.not_before is not None
    assert 9 <= (parsed.not_after - parsed.not_before).days <= 10


def test_weak_key_size_is_a_usage_error(cli: typer.Typer, tmp_path: Path) -> None:
    """--bits 1024 is refused: only 2048 and 4096 are offered."""
    result = runner.invoke(cli, ["keys", "new", "--out", str(tmp_path), "--bits", "1024"])
    assert result.exit_code == 2
    assert not (tmp_path / "private.key").exists()


def test_refuses_to_overwrite_without_force(cli: typer.Typer, tmp_path: Path) -> None:
    """Existing files are kept, and the command fails, unless --force is given."""
    runner.invoke(cli, ["keys", "new", "--out", str(tmp_path)])
    before = (tmp_path / "private.key").read_text()
    result = runner.invoke(cli, ["keys", "new", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "--force" in result.stderr
    assert (tmp_path / "private.key").read_text() == before


def test_force_overwrites(cli: typer.Typer, tmp_path: Path) -> None:
    """With --force a new pair replaces the old one."""
    runner.invoke(cli, ["keys", "new", "--out", str(tmp_path)])
    before = (tmp_path / "private.key").read_text()
    result = runner.invoke(cli, ["keys", "new", "--out", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "private.key").read_text() != before


def test_new_pair_signs_tokens_the_server_accepts(cli: typer.Typer, tmp_path: Path, configured: str) -> None:
    """A token minted with `token` from the new private key verifies against the new certificate."""
    runner.invoke(cli, ["keys", "new", "--out", str(tmp_path)])
    certificate = (tmp_path / "cert.pem").read_text()
    asyncio.run(seed_call_center(configured, ORG_ID, "FreshCC", [certificate]))
    minted = runner.invoke(
        cli, ["token", "--org", ORG_ID, "--call-center", "FreshCC", "--key", str(tmp_path / "private.key")]
    )
    assert minted.exit_code == 0, minted.output
    result = runner.invoke(cli, ["explain-token", minted.stdout.strip()])
    assert result.exit_code == 0, result.output
    assert "ACCEPTED" in result.stdout and "FreshCC" in result.stdout


def test_every_option_has_help(cli: typer.Typer) -> None:
    """keys and keys new, and every option of keys new, are described in --help."""
    group = typer.main.get_command(cli)
    keys_group = group.commands["keys"]  # type: ignore[attr-defined]
    assert keys_group.help
    command = keys_group.commands["new"]
    assert command.help
    for param in command.params:
        assert param.help, param.name
    result = runner.invoke(cli, ["keys", "new", "--help"])
    assert result.exit_code == 0
    assert "--force" in result.stdout and "Overwrite" in result.stdout
