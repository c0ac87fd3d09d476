"""`callbridge simulate` against a real `callbridge serve` set up as `make run` does: its JSON summary must say
what the server stored (read from the server's database), not only agree with itself."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from callbridge.simulator.scenarios import parse_mix, plan_calls
from callbridge.simulator.site import load_site
from tests.e2e.test_serve_process import CLI, free_port, run, wait_until_listening

SEED, CALLS = 20, 6
# Equal weights: with this seed the six calls are one of each lifecycle (checked by the first test).
MIX = "inbound=1,transfer=1,consult=1,voicemail=1,missed=1,callback=1"


@dataclass(frozen=True)
class Simulated:
    summary: dict[str, Any]
    database: Path
    config: Path

    def query(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.database)) as connection:
            return connection.execute(sql, parameters).fetchall()

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.summary["perCall"]
        return calls


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulated]:
    """`migrate`, `demo`, `serve` in a fresh directory, then one short seeded simulation with --json."""
    directory = tmp_path_factory.mktemp("simulate")
    database = directory / "callbridge.db"
    env = {**os.environ, "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{database}", "COLUMNS": "200"}
    port = free_port()
    run(["migrate"], env)
    run(["demo", "--dir", str(directory / "demo"), "--base-url", f"http://127.0.0.1:{port}"], env)
    log = (directory / "server.log").open("wb")
    server = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(port, server)
        # The demo's files are found by default under ./var/demo: run from a directory laid out that way.
        (directory / "var").mkdir()
        (directory / "demo").rename(directory / "var" / "demo")
        base_url = f"http://127.0.0.1:{port}"
        options = ["--calls", str(CALLS), "--duration", "6s", "--seed", str(SEED), "--mix", MIX, "--pace", "4"]
        result = subprocess.run(
            [CLI, "simulate", "--base-url", base_url, *options, "--json"],
            env=env,
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=150,
        )
        assert result.returncode == 0, result.stderr
        yield Simulated(json.loads(result.stdout), database, directory / "var" / "demo" / "contact-center.yaml")
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def test_the_run_plays_the_calls_the_seed_plans(simulated: Simulated) -> None:
    """The calls played are the planner's for that seed, in order, each started and none failed."""
    planned = plan_calls(SEED, CALLS, load_site(simulated.config), parse_mix(MIX))
    assert [call["lifecycle"] for call in simulated.calls()] == [plan.lifecycle.value for plan in planned]
    assert len({plan.lifecycle for plan in planned}) == 6
    assert all(call["outcome"] not in (None, "failed", "interrupted") for call in simulated.calls())
    assert simulated.summary["agents"]["signedIn"] == 8


def test_every_leg_the_summary_names_is_stored(simulated: Simulated) -> None:
    """The VoiceCalls on the server are exactly the legs of the summary, transfer and consult legs included."""
    stored = {row[0] for row in simulated.query("SELECT id FROM voice_calls")}
    legs = {leg for call in simulated.calls() for leg in call["voiceCallIds"]}
    assert stored == legs
    assert simulated.summary["legs"] == len(legs) == CALLS + 2  # the transfer's and the consult's second legs


def test_transcripts_accepted_per_conversation_match_the_stored_entries(simulated: Simulated) -> None:
    """Per call, the utterances the summary says were accepted (and replaced by a final) are the entries stored
    in that call's conversation."""
    for call in simulated.calls():
        rows = simulated.query(
            "SELECT e.version FROM conversation_entries e JOIN conversations c ON c.id = e.conversation_id "
            "WHERE c.conversation_identifier = ?",
            call["vendorCallKey"],
        )
        assert call["utterances"]["accepted"] == len(rows), call
        assert call["utterances"]["replaced"] == sum(1 for (version,) in rows if version > 1), call
    assert simulated.summary["utterances"]["failed"] == 0


def test_drops_by_reason_match_the_timeline(simulated: Simulated) -> None:
    """Utterances dropped, by reason, are the server's transcript.dropped records; the plan makes at least an
    after-end drop (a late segment) and a hold or paused-recording drop."""
    rows = simulated.query(
        "SELECT json_extract(data, '$.dropReason'), count(*) FROM timeline_entries "
        "WHERE kind = 'transcript.dropped' GROUP BY 1"
    )
    assert simulated.summary["utterances"]["dropped"] == dict(rows)
    assert "after_end" in dict(rows) and {"on_hold", "recording_paused"} & set(dict(rows))


def test_routing_outcomes_match_agent_work_and_cleared_routings(simulated: Simulated) -> None:
    """Accepted routings are the AgentWork the server opened; abandoned ones the routings clearRouting removed;
    waiting ones the pending routings left."""
    outcomes = simulated.summary["routing"]["outcomes"]
    (accepted,) = simulated.query("SELECT count(*) FROM agent_works WHERE accepted_at IS NOT NULL")[0]
    (cleared,) = simulated.query(
        "SELECT count(*) FROM timeline_entries WHERE kind = 'routing.cleared' AND outcome = 'cleared'"
    )[0]
    (pending,) = simulated.query("SELECT count(*) FROM pending_service_routings")[0]
    assert (outcomes["accepted"], outcomes["abandoned"], outcomes["waiting"]) == (accepted, cleared, pending)
    assert outcomes["accepted"] >= 4 and simulated.summary["routing"]["offer"]["count"] == outcomes["accepted"]


def test_call_outcomes_match_the_stored_calls(simulated: Simulated) -> None:
    """What the summary says became of each call is what the server recorded on it."""
    for call in simulated.calls():
        legs = [
            simulated.query(
                "SELECT call_accept_date_time, disconnect_reason, call_origin, is_active_call FROM voice_calls "
                "WHERE id = ?",
                leg,
            )[0]
            for leg in call["voiceCallIds"]
        ]
        assert all(not active for *_, active in legs), call  # every leg ended
        accepted, reason, origin, _ = legs[-1]
        match call["outcome"]:
            case "completed" | "transferred" | "consulted":
                assert accepted is not None and reason == "CUSTOMER_DISCONNECT", call
            case "abandoned":
                assert reason == "CUSTOMER_DISCONNECT", call
            case "voicemail":
                assert origin == "Voicemail", call
            case "callback":
                requests = "SELECT count(*) FROM contact_requests WHERE voice_call_id = ?"
                assert reason == "CALLBACK" and simulated.query(requests, call["voiceCallIds"][0]) == [(1,)], call
            case other:
                raise AssertionError(f"unexpected outcome {other}")


def test_signals_match_the_stored_events(simulated: Simulated) -> None:
    """Each real-time signal sent is one intelligence.signal on the timeline; post-call events are stored."""
    (signals,) = simulated.query("SELECT count(*) FROM timeline_entries WHERE kind = 'intelligence.signal'")[0]
    (post_call,) = simulated.query("SELECT count(*) FROM conversation_events WHERE source = 'post_call'")[0]
    assert (simulated.summary["realtimeEvents"], simulated.summary["postCallEvents"]) == (signals, post_call)
    assert post_call > 0


def test_agents_consoles_received_the_transcripts_live(simulated: Simulated) -> None:
    """The agents' push streams delivered utterances while their calls went on, and no request failed, save an
    accept that crossed the missed caller's hang-up (409 OFFER_EXPIRED), which a real agent can meet too."""
    assert simulated.summary["push"]["count"] > 0
    assert all((e["status"], e["code"]) == ("409", "OFFER_EXPIRED") for e in simulated.summary["httpErrors"])
