"""`callbridge check`: passes against Callbridge, and fails with the right reasons against a server that
gets things wrong."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from typer.testing import CliRunner

from callbridge.auth.certificates import KeyPair
from callbridge.check import CheckConfig, Status, all_checks
from callbridge.check.context import CheckContext
from callbridge.check.registry import Check
from callbridge.check.runner import run_one, select
from callbridge.cli import check as check_command
from callbridge.kit import ids
from tests.cli.conftest import typer_app
from tests.client.live import AGENTS, CALL_CENTER, CLI, DIALED_NUMBER, ORG_ID, PASSWORD, LiveServer

runner = CliRunner()


def run_check(url: str, key_path: Path, *options: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """`callbridge check URL ... --json` as a process: exit status and the JSON report."""
    args = [CLI, "check", url, "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(key_path), "--json"]
    result = subprocess.run([*args, *options], capture_output=True, text=True, timeout=180, env=env)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["name"]: result for result in report["results"]}


def test_every_check_passes_against_callbridge(server: LiveServer) -> None:
    """With a queue, a dialed number and an agent, every check runs and passes; exit status 0."""
    env = {**server.env, "CALLBRIDGE_CHECK_AGENT_PASSWORD": PASSWORD}
    agent = next(iter(AGENTS))
    options = ["--queue", "Support", "--dialed-number", DIALED_NUMBER, "--agent", agent]
    status, report = run_check(server.url, server.key_path, *options, env=env)
    failures = {r["name"]: r["reason"] for r in report["results"] if r["status"] != "pass"}
    # The live server runs without CALLBRIDGE_LIMITS: the limit check (tests/limits) is skipped.
    assert failures == {
        "limits.create_rate_limited": "needs the server's limit: give --limit-calls-per-second "
        "(CALLBRIDGE_LIMITS=salesforce)"
    }
    assert status == 0
    assert [r["name"] for r in report["results"]] == [c.name for c in all_checks()]
    assert report["passed"] == len(all_checks()) - 1


def test_checks_needing_options_are_skipped_without_them(server: LiveServer) -> None:
    """Without --queue, --dialed-number and --agent those checks are skipped with the option to give;
    nothing fails, and the table says so."""
    app = typer_app(check_command)
    args = ["check", server.url, "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(server.key_path)]
    result = runner.invoke(app, [*args, "--only", "routing.*", "--only", "transcript.on_hold_dropped"])
    assert result.exit_code == 0, result.output
    assert "SKIP" in result.output and "give --queue" in result.output and "give --agent" in result.output
    assert "0 failed" in result.output


def test_an_agent_without_a_password_is_skipped_naming_the_password(server: LiveServer) -> None:
    """--agent without --agent-password (or its variable) skips the agent's checks saying the password is missing."""
    app = typer_app(check_command)
    args = ["check", server.url, "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(server.key_path)]
    agent = next(iter(AGENTS))
    result = runner.invoke(
        app,
        [*args, "--agent", agent, "--only", "transcript.on_hold_dropped", "--json"],
        env={"CALLBRIDGE_CHECK_AGENT_PASSWORD": None},
    )
    (skipped,) = [r for r in json.loads(result.output)["results"] if r["name"] == "transcript.on_hold_dropped"]
    assert skipped["status"] == "skip"
    assert (
        skipped["reason"] == f"needs {agent}'s password: give --agent-password or set CALLBRIDGE_CHECK_AGENT_PASSWORD"
    )


def test_refused_token_fails_the_gate_and_skips_the_rest(server: LiveServer, other_key: Path) -> None:
    """A key the call center does not trust fails auth.lambda_token with the server's code; the rest is
    skipped rather than failed one by one."""
    status, report = run_check(server.url, other_key)
    results = by_name(report)
    assert status == 1
    assert results["auth.lambda_token"]["status"] == "fail"
    assert "SIGNATURE_INVALID" in results["auth.lambda_token"]["reason"]
    assert "--key" in results["auth.lambda_token"]["reason"]
    later = [r for r in report["results"] if r["name"] not in ("server.reachable", "auth.lambda_token")]
    assert {r["status"] for r in later} == {"skip"}


def broken_app() -> FastAPI:
    """Says yes to everything: 200 without any token, and a new voiceCallId for every create."""
    app = FastAPI()

    @app.post("/telephony/v1/voiceCalls")
    async def create() -> dict[str, Any]:
        return {"voiceCallId": ids.new_id(ids.VOICE_CALL), "errors": []}

    @app.api_route("/{path:path}", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    async def anything(path: str) -> dict[str, Any]:
        return {}

    return app


def test_broken_server_fails_with_the_right_reasons(serve_app: Callable[[FastAPI], str], server: LiveServer) -> None:
    """Against a server that answers 200 without auth and ignores idempotency, those checks fail saying
    so, the create check still passes, and the exit status is 1."""
    status, report = run_check(serve_app(broken_app()), server.key_path)
    results = by_name(report)
    assert status == 1
    assert results["server.reachable"]["status"] == "pass"
    assert results["voice_call.create"]["status"] == "pass"
    assert results["auth.token_missing"]["status"] == "fail"
    assert results["auth.token_missing"]["reason"].startswith("expected 401 TOKEN_MISSING, got 200")
    assert results["auth.signature_invalid"]["reason"].startswith("expected 401 SIGNATURE_INVALID, got 200")
    assert results["voice_call.create_idempotent"]["status"] == "fail"
    assert "the re-create made a second call" in results["voice_call.create_idempotent"]["reason"]
    assert results["voice_call.unknown_404"]["reason"].startswith("expected 404 VOICE_CALL_NOT_FOUND, got 200")
    assert report["failed"] == sum(1 for r in report["results"] if r["status"] == "fail") > 0


def test_unreachable_server_fails_the_first_gate(server: LiveServer) -> None:
    """Nothing listening: server.reachable fails with 'no answer', everything else is skipped."""
    status, report = run_check("http://127.0.0.1:9", server.key_path)
    results = by_name(report)
    assert status == 1
    assert results["server.reachable"]["reason"].startswith("no answer")
    assert {r["status"] for r in report["results"][1:]} == {"skip"}


async def test_a_crashing_check_is_reported_not_raised(key_pair: KeyPair) -> None:
    """An exception inside a check becomes a failed result naming it; the run goes on."""

    async def crashes(ctx: CheckContext) -> str | None:
        raise RuntimeError("boom")

    config = CheckConfig("http://127.0.0.1:9", ORG_ID, CALL_CENTER, key_pair.private_key_pem.encode())
    ctx = CheckContext(config)
    try:
        result = await run_one(ctx, Check("demo.crash", "never crashes", crashes))
    finally:
        await ctx.aclose()
    assert (result.status, result.reason) == (Status.FAIL, "the check crashed: RuntimeError: boom")


def test_only_selects_by_glob_and_keeps_the_gates() -> None:
    """--only 'auth.*' keeps the auth checks and the reachability gate."""
    names = [c.name for c in select(all_checks(), ["auth.*"])]
    assert names[0] == "server.reachable"
    assert all(name.startswith("auth.") for name in names[1:])


def test_every_check_has_a_unique_name_and_an_expectation() -> None:
    """Names are unique and each check states what it expects."""
    checks = all_checks()
    assert len({c.name for c in checks}) == len(checks) >= 30
    assert all(c.expectation for c in checks)


def test_a_key_that_is_not_usable_is_a_usage_error(tmp_path: Path) -> None:
    """--key pointing at something that is not an RSA private key stops before any request (exit 2)."""
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    args = ["check", "http://127.0.0.1:9", "--org", ORG_ID, "--call-center", CALL_CENTER, "--key", str(bad)]
    result = runner.invoke(typer_app(check_command), args)
    assert result.exit_code == 2
    assert "--key" in result.output
