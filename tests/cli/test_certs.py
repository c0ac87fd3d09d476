"""``callbridge certs``: every trusted certificate with its fingerprint, expiry and status."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from callbridge.auth.certificates import KeyPair, new_key_pair, parse_pem
from callbridge.cli import certs, keys, tokens
from callbridge.config import get_settings
from callbridge.models import CallCenter
from tests.conftest import CALL_CENTER, ORG_ID, seed_call_center

runner = CliRunner()
OTHER_ORG = "00DXX000000ZZZZAAA"


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


def row_of(output: str, call_center: str) -> str:
    return next(line for line in output.splitlines() if call_center in line)


def test_lists_fingerprint_and_active_status(
    cli: typer.Typer, configured: str, call_centers: dict[str, CallCenter], key_pair: KeyPair
) -> None:
    """Each call center's certificate is listed with its full SHA-256 fingerprint, as active."""
    result = runner.invoke(cli, ["certs"])
    assert result.exit_code == 0, result.output
    row = row_of(result.stdout, CALL_CENTER)
    assert parse_pem(key_pair.certificate_pem).fingerprint_sha256 in row
    assert ORG_ID in row and "active" in row and "CN=conformance" in row


def test_expired_certificate_is_flagged(cli: typer.Typer, configured: str) -> None:
    """A certificate past its notAfter shows EXPIRED."""
    old = new_key_pair("old", days=1, now=datetime.now(UTC) - timedelta(days=30))
    asyncio.run(seed_call_center(configured, ORG_ID, "ExpiredCC", [old.certificate_pem]))
    assert "EXPIRED" in row_of(runner.invoke(cli, ["certs"]).stdout, "ExpiredCC")


def test_certificate_expiring_within_30_days_is_flagged(cli: typer.Typer, configured: str) -> None:
    """A certificate with 10 days left shows expires soon and its days left."""
    soon = new_key_pair("soon", days=10)
    asyncio.run(seed_call_center(configured, ORG_ID, "SoonCC", [soon.certificate_pem]))
    row = row_of(runner.invoke(cli, ["certs"]).stdout, "SoonCC")
    assert "expires soon" in row and " 9 " in row


def test_weak_certificate_is_flagged(cli: typer.Typer, configured: str) -> None:
    """A 1024-bit certificate shows too weak (tokens it signs are refused)."""
    weak = new_key_pair("weak", bits=1024)
    asyncio.run(seed_call_center(configured, ORG_ID, "WeakCC", [weak.certificate_pem]))
    row = row_of(runner.invoke(cli, ["certs"]).stdout, "WeakCC")
    assert "too weak" in row and "1024 bits" in row


def test_org_filter(cli: typer.Typer, configured: str, call_centers: dict[str, CallCenter]) -> None:
    """--org (15 or 18 characters) lists only that org's certificates."""
    other = new_key_pair("elsewhere")
    asyncio.run(seed_call_center(configured, OTHER_ORG, "ElsewhereCC", [other.certificate_pem]))
    result = runner.invoke(cli, ["certs", "--org", OTHER_ORG[:15]])
    assert result.exit_code == 0, result.output
    assert "ElsewhereCC" in result.stdout and CALL_CENTER not in result.stdout


def test_no_certificates(cli: typer.Typer, configured: str) -> None:
    """An empty configuration says so instead of printing an empty table."""
    result = runner.invoke(cli, ["certs"])
    assert result.exit_code == 0
    assert "No certificates are configured" in result.stdout


def test_every_option_has_help(cli: typer.Typer) -> None:
    """certs and its --org option are described in --help."""
    command = typer.main.get_command(cli).commands["certs"]  # type: ignore[attr-defined]
    assert command.help
    for param in command.params:
        assert param.help, param.name
