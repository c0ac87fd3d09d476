"""``callbridge token`` mints Lambda-shaped tokens; ``callbridge explain-token`` gives the server's verdict."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import typer
from typer.testing import CliRunner

from callbridge.auth.certificates import KeyPair, new_key_pair
from callbridge.cli import certs, keys, tokens
from callbridge.config import get_settings
from callbridge.models import CallCenter
from tests.conftest import CALL_CENTER, ORG_ID, TokenFactory

runner = CliRunner()


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    for module in (keys, tokens, certs):
        module.register(app)
    return app


@pytest.fixture
def key_file(tmp_path: Path, key_pair: KeyPair) -> Path:
    path = tmp_path / "private.key"
    path.write_text(key_pair.private_key_pem)
    return path


@pytest.fixture
def configured(
    database_url: str, call_centers: dict[str, CallCenter], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Settings read from the environment point at this test's seeded database."""
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def mint(cli: typer.Typer, key_file: Path, *options: str) -> str:
    result = runner.invoke(
        cli, ["token", "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(key_file), *options]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def claims_of(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_token_prints_only_the_token(cli: typer.Typer, key_file: Path) -> None:
    """stdout is the token and a newline, nothing else, so $(callbridge token ...) works."""
    output = mint(cli, key_file)
    assert output.endswith("\n") and output.count("\n") == 1
    assert output.strip().count(".") == 2


def test_token_is_shaped_like_the_lambdas(cli: typer.Typer, key_file: Path) -> None:
    """Header alg RS256 + typ JWT; claims iat, exp, iss, sub and a uuid1 jti, no aud; 5 minutes by default."""
    token = mint(cli, key_file).strip()
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT"}
    claims = claims_of(token)
    assert list(claims) == ["iat", "exp", "iss", "sub", "jti"]
    assert (claims["iss"], claims["sub"]) == (ORG_ID, CALL_CENTER)
    assert uuid.UUID(str(claims["jti"])).version == 1
    assert claims["exp"] == claims["iat"] + 300  # type: ignore[operator]


@pytest.mark.parametrize(("ttl", "seconds"), [("300", 300), ("90s", 90), ("5m", 300), ("4h", 14400), ("1d", 86400)])
def test_ttl_forms(cli: typer.Typer, key_file: Path, ttl: str, seconds: int) -> None:
    """--ttl takes plain seconds or a number with s, m, h or d."""
    claims = claims_of(mint(cli, key_file, "--ttl", ttl).strip())
    assert claims["exp"] == claims["iat"] + seconds  # type: ignore[operator]


@pytest.mark.parametrize("ttl", ["5x", "soon", "--5m", "5 m", ""])
def test_bad_ttl_is_a_usage_error(cli: typer.Typer, key_file: Path, ttl: str) -> None:
    """A --ttl that is not a duration exits 2 and says which forms work."""
    result = runner.invoke(
        cli, ["token", "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(key_file), "--ttl", ttl]
    )
    assert result.exit_code == 2
    assert "--ttl" in result.stderr and "5m" in result.stderr
    assert result.stdout == ""


def test_expired_token_is_past_the_leeway(cli: typer.Typer, key_file: Path) -> None:
    """--expired mints a token whose exp lies beyond the 60 s clock-skew leeway, so the server refuses it at once."""
    before = int(time.time())
    claims = claims_of(mint(cli, key_file, "--expired").strip())
    assert claims["exp"] < before - 60  # type: ignore[operator]
    assert claims["iat"] < claims["exp"]  # type: ignore[operator]


def test_negative_ttl_mints_a_token_that_expired_that_long_ago(cli: typer.Typer, key_file: Path) -> None:
    """--ttl -10m: exp ten minutes ago, iat before it."""
    now = int(time.time())
    claims = claims_of(mint(cli, key_file, "--ttl", "-10m").strip())
    assert now - 601 <= claims["exp"] <= now - 599  # type: ignore[operator]
    assert claims["iat"] < claims["exp"]  # type: ignore[operator]


@pytest.mark.parametrize("ttl", ["1s", "0", "-30s"])
def test_a_token_inside_the_leeway_says_how_long_it_is_accepted(cli: typer.Typer, key_file: Path, ttl: str) -> None:
    """A token that expires (or expired) within the leeway is minted with a note on stderr naming the leeway."""
    result = runner.invoke(
        cli, ["token", "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(key_file), "--ttl", ttl]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().count(".") == 2
    assert "60 s leeway" in result.stderr and "--expired" in result.stderr


def test_an_ordinary_token_has_no_note(cli: typer.Typer, key_file: Path) -> None:
    """Five minutes is well past the leeway: nothing on stderr."""
    result = runner.invoke(cli, ["token", "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(key_file)])
    assert result.exit_code == 0 and result.stderr == ""


def test_no_jti(cli: typer.Typer, key_file: Path) -> None:
    """--no-jti mints a token without jti, like the demo connector."""
    assert "jti" not in claims_of(mint(cli, key_file, "--no-jti").strip())


def test_aud(cli: typer.Typer, key_file: Path) -> None:
    """--aud adds the audience claim, like the Java transcriber."""
    claims = claims_of(mint(cli, key_file, "--aud", "https://scrt.salesforce.com").strip())
    assert claims["aud"] == "https://scrt.salesforce.com"


def test_key_that_is_not_a_private_key_is_a_usage_error(cli: typer.Typer, tmp_path: Path, key_pair: KeyPair) -> None:
    """Pointing --key at a certificate exits 2 and names the file."""
    path = tmp_path / "cert.pem"
    path.write_text(key_pair.certificate_pem)
    result = runner.invoke(cli, ["token", "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(path)])
    assert result.exit_code == 2
    assert "cert.pem" in result.stderr


def test_weak_key_is_a_usage_error(cli: typer.Typer, tmp_path: Path) -> None:
    """A 1024-bit private key is refused before signing."""
    path = tmp_path / "weak.key"
    path.write_text(new_key_pair("weak", bits=1024).private_key_pem)
    result = runner.invoke(cli, ["token", "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(path)])
    assert result.exit_code == 2
    assert "1024-bit" in result.stderr


def test_explain_accepted_token(cli: typer.Typer, configured: str, make_token: TokenFactory) -> None:
    """An acceptable token exits 0, shows its claims and names the call center."""
    result = runner.invoke(cli, ["explain-token", make_token(jti="cli-jti")])
    assert result.exit_code == 0, result.output
    assert "ACCEPTED" in result.stdout and CALL_CENTER in result.stdout
    assert "cli-jti" in result.stdout and "UTC" in result.stdout


def test_explain_names_the_leeway_that_lets_a_token_through(
    cli: typer.Typer, configured: str, make_token: TokenFactory
) -> None:
    """A token that expired 20 s ago is ACCEPTED, and explain-token says it is only the leeway that accepts it."""
    now = int(time.time())
    result = runner.invoke(cli, ["explain-token", make_token(iat=now - 320, exp=now - 20)])
    assert result.exit_code == 0, result.output
    assert "ACCEPTED" in result.stdout and "60 s clock-skew leeway" in result.stdout


def test_explain_expired_token(cli: typer.Typer, configured: str, make_token: TokenFactory) -> None:
    """An expired token exits 1 with REFUSED, the code and the reason."""
    result = runner.invoke(cli, ["explain-token", make_token(iat=1_700_000_000, exp=1_700_000_300)])
    assert result.exit_code == 1, result.output
    assert "REFUSED TOKEN_EXPIRED" in result.stdout and "expired at 2023-11-14" in result.stdout


def test_explain_unknown_call_center(cli: typer.Typer, configured: str, make_token: TokenFactory) -> None:
    """A token for a call center nobody configured exits 1 with UNKNOWN_CALL_CENTER."""
    result = runner.invoke(cli, ["explain-token", make_token(sub="NoSuchCC")])
    assert result.exit_code == 1
    assert "REFUSED UNKNOWN_CALL_CENTER" in result.stdout and "NoSuchCC" in result.stdout


def test_explain_forged_token(
    cli: typer.Typer, configured: str, make_token: TokenFactory, other_key_pair: KeyPair
) -> None:
    """A token signed with another call center's key exits 1 with SIGNATURE_INVALID."""
    result = runner.invoke(cli, ["explain-token", make_token(key_pem=other_key_pair.private_key_pem)])
    assert result.exit_code == 1
    assert "REFUSED SIGNATURE_INVALID" in result.stdout


def test_explain_string_exp(cli: typer.Typer, configured: str, make_token: TokenFactory) -> None:
    """exp given as a string is shown as not a number, and refused as CLAIM_INVALID."""
    result = runner.invoke(cli, ["explain-token", make_token(exp="1717895186")])
    assert result.exit_code == 1
    assert "not a number" in result.stdout and "REFUSED CLAIM_INVALID" in result.stdout


def test_explain_malformed_token(cli: typer.Typer, configured: str) -> None:
    """Something that is not a JWT exits 1 with TOKEN_MALFORMED."""
    result = runner.invoke(cli, ["explain-token", "hello"])
    assert result.exit_code == 1
    assert "REFUSED TOKEN_MALFORMED" in result.stdout


def test_explain_reads_stdin(cli: typer.Typer, configured: str, make_token: TokenFactory) -> None:
    """TOKEN '-' reads the token from standard input (a Bearer prefix is fine)."""
    result = runner.invoke(cli, ["explain-token", "-"], input=f"Bearer {make_token()}\n")
    assert result.exit_code == 0, result.output


def test_explain_does_not_use_up_the_jti(cli: typer.Typer, configured: str, make_token: TokenFactory) -> None:
    """Explaining twice, then a new token with the same jti: all accepted, since explain records nothing."""
    for token in (make_token(jti="k"), make_token(jti="k"), make_token(jti="k", ttl=301)):
        assert runner.invoke(cli, ["explain-token", token]).exit_code == 0


def test_explain_without_a_database_exits_2(
    cli: typer.Typer, tmp_path: Path, make_token: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database file that does not exist is reported (and not created): exit 2."""
    missing = tmp_path / "missing.db"
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", f"sqlite+aiosqlite:///{missing}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["explain-token", make_token()])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "Cannot read the database" in result.stderr
    assert not missing.exists()


def test_every_option_has_help(cli: typer.Typer) -> None:
    """token and explain-token, and each of their parameters, are described in --help."""
    group = typer.main.get_command(cli)
    for name in ("token", "explain-token"):
        command = group.commands[name]  # type: ignore[attr-defined]
        assert command.help, name
        for param in command.params:
            assert param.help, (name, param.name)
