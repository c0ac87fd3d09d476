"""Warnings for suspicious but accepted input: what Salesforce takes without a word, Callbridge takes too, and
says so in the call's timeline and in a ``Callbridge-Warning`` response header (one value per warning)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Response

from callbridge.models import VoiceCall
from callbridge.voice_calls.schemas import VoiceCallUpdate

HEADER = "Callbridge-Warning"
# Clocks differ: a time this far ahead of the server's is not a clock's drift.
FUTURE_SLACK = timedelta(minutes=5)
# Durations are whole seconds, rounded by the sender.
DURATION_SLACK_SECONDS = 2

HEADER_OPENAPI = {
    HEADER: {
        "description": "Suspicious but accepted input, one short text per warning (repeated header values); "
        "the same warnings are recorded in the call's timeline.",
        "schema": {"type": "string"},
    }
}


def of_update(call: VoiceCall, body: VoiceCallUpdate, now: datetime) -> list[str]:
    """The warnings of a PATCH, judged on the call as it is after the update."""
    warnings: list[str] = []
    start = call.call_start_date_time or call.created_at
    end = call.call_end_date_time
    if "end_time" in body.model_fields_set and end is not None and start is not None and end < start:
        warnings.append(f"endTime {_iso(end)} is before the call's start {_iso(start)}")
    for name, value in (("startTime", body.start_time), ("endTime", body.end_time)):
        if value is not None and value > now + FUTURE_SLACK:
            warnings.append(f"{name} {_iso(value)} is in the future")
    if start is not None and end is not None and end >= start:
        length = (end - start).total_seconds()
        spent = (call.agent_interaction_duration or 0) + (call.customer_hold_duration or 0)
        touched = {"agent_interaction_duration", "total_hold_duration", "end_time", "start_time"}
        if touched & body.model_fields_set and spent > length + DURATION_SLACK_SECONDS:
            warnings.append(
                f"agentInteractionDuration + totalHoldDuration ({spent} s) is longer than the call ({int(length)} s)"
            )
    return warnings


def add_to(response: Response, warnings: list[str]) -> None:
    for warning in warnings:
        response.headers.append(HEADER, warning)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
