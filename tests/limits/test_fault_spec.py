"""CALLBRIDGE_FAULTS as written: what each item means, and every bad item named at start-up."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from callbridge.config import Settings
from callbridge.limits.faults import FaultSpecError, parse_faults
from tests.e2e.test_serve_process import CLI


def test_the_documented_example_is_read() -> None:
    """429=0.05,503=0.02,delay=300ms@0.1: two errors and a delay of 0.3 s for 10% of requests."""
    plan = parse_faults("429=0.05,503=0.02,delay=300ms@0.1")
    assert [(rule.kind, rule.probability, rule.delay_seconds) for rule in plan.rules] == [
        ("429", 0.05, 0.0),
        ("503", 0.02, 0.0),
        ("delay", 0.1, 0.3),
    ]


def test_an_empty_value_injects_nothing() -> None:
    """The default (empty) plan is falsy: the app adds no fault layer."""
    assert not parse_faults("")
    assert not parse_faults(" , ")


def test_percentages_seconds_and_seed() -> None:
    """503=2% is 0.02; delay=1.5s without @ applies to every request; seed=42 is kept."""
    plan = parse_faults("503=2%, delay=1.5s, seed=42")
    assert [(rule.kind, rule.probability, rule.delay_seconds) for rule in plan.rules] == [
        ("503", 0.02, 0.0),
        ("delay", 1.0, 1.5),
    ]
    assert plan.seed == 42


def test_selector_limits_an_item_to_matching_requests() -> None:
    """POST /telephony/v1/voiceCalls/{vendorCallKey}/messages:429=0.5 applies to single transcript POSTs only."""
    plan = parse_faults("POST /telephony/v1/voiceCalls/{vendorCallKey}/messages:429=0.5")
    assert plan.for_request("POST", "/telephony/v1/voiceCalls/call-1/messages")[0][0].probability == 0.5
    assert plan.for_request("POST", "/telephony/v1/voiceCalls/call-1/messages/")[0]
    assert plan.for_request("GET", "/telephony/v1/voiceCalls/call-1/messages") == ([], None)
    assert plan.for_request("POST", "/telephony/v1/voiceCalls") == ([], None)


def test_selector_without_method_and_double_star() -> None:
    """/services/data/** matches every Connect API path, whatever the method."""
    plan = parse_faults("/services/data/**:503=1")
    assert plan.for_request("PATCH", "/services/data/v60.0/connect/conversation/k/entries")[0]
    assert plan.for_request("PATCH", "/telephony/v1/voiceCalls/k") == ([], None)


def test_later_item_overrides_an_earlier_one_of_the_same_kind() -> None:
    """429=0.05 then a selected 429=0.5: the selected requests get 0.5, the others 0.05."""
    plan = parse_faults("429=0.05,POST /telephony/v1/voiceCalls/messages:429=0.5")
    assert [r.probability for r in plan.for_request("POST", "/telephony/v1/voiceCalls/messages")[0]] == [0.5]
    assert [r.probability for r in plan.for_request("POST", "/telephony/v1/voiceCalls")[0]] == [0.05]


def test_only_the_telephony_and_connect_apis_get_faults() -> None:
    """An unselected item leaves /healthz, /metrics and the console alone."""
    plan = parse_faults("503=1,delay=1s")
    for path in ("/healthz", "/metrics", "/console/v1/session", "/console/"):
        assert plan.for_request("GET", path) == ([], None)


@pytest.mark.parametrize(
    ("value", "named", "reason"),
    [
        ("429=0.05,503=2", "'503=2'", "between 0 and 1"),
        ("429=often", "'429=often'", "expected a number"),
        ("teapot=0.1", "'teapot=0.1'", "unknown fault 'teapot'"),
        ("302=0.1", "'302=0.1'", "unknown fault '302'"),
        ("delay=fast@0.1", "'delay=fast@0.1'", "duration 'fast'"),
        ("delay=90s", "'delay=90s'", "at most 60 s"),
        ("429", "'429'", "expected KEY=VALUE"),
        ("seed=abc", "'seed=abc'", "seed must be an integer"),
        ("FETCH /telephony/v1/voiceCalls:429=1", "'FETCH /telephony/v1/voiceCalls:429=1'", "unknown method"),
        ("voiceCalls:429=1", "'voiceCalls:429=1'", "a selector is [METHOD ]/path"),
        ("/telephony/**/messages:429=1", "'/telephony/**/messages:429=1'", "** may only end"),
        ("429=0.6,503=0.6", "'503=0.6'", "add up to more than 1"),
    ],
)
def test_a_bad_item_is_named_with_its_reason(value: str, named: str, reason: str) -> None:
    """Each unreadable item fails with a message naming the item and saying what is wrong."""
    with pytest.raises(FaultSpecError) as raised:
        parse_faults(value)
    assert f"CALLBRIDGE_FAULTS item {named}" in str(raised.value)
    assert reason in str(raised.value)


def test_settings_refuse_a_bad_value() -> None:
    """Settings (hence start-up) fail on a bad CALLBRIDGE_FAULTS, naming the item."""
    with pytest.raises(ValidationError, match="CALLBRIDGE_FAULTS item 'delay=soon'"):
        Settings(faults="429=0.1,delay=soon")


def test_serve_refuses_to_start_naming_the_bad_item(tmp_path: Path) -> None:
    """`callbridge serve` with a bad CALLBRIDGE_FAULTS exits 2 at once with one line naming the item."""
    env = {
        **os.environ,
        "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'callbridge.db'}",
        "CALLBRIDGE_FAULTS": "503=0.02,delay=3xs@0.1",
    }
    result = subprocess.run([CLI, "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "CALLBRIDGE_FAULTS item 'delay=3xs@0.1': duration '3xs'" in result.stderr
    assert "Traceback" not in result.stderr
