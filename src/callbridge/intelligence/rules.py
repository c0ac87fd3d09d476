"""The intelligence rules that need no storage: complete validation (every bad path at once), seconds-vs-ms
normalisation, sorting by startTime, the natural key that makes resends idempotent, and span overlap."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from callbridge.errors import InvalidRequest
from callbridge.intelligence.schemas import (
    SENTIMENT_TYPES,
    Participant,
    PostCallEvent,
    RealtimeEvent,
    SignalType,
    signal_type,
)
from callbridge.kit.bodies import describe
from callbridge.transcripts.rules import normalise_epoch

ModelT = TypeVar("ModelT", bound=BaseModel)

SENTIMENT_MIN, SENTIMENT_MAX = -1000.0, 1000.0


def as_number(value: Any) -> float | None:
    """A finite number from a JSON number or a numeric string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and "_" not in value:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _cross_field_problems(event: Any, path: str, allowed: tuple[SignalType, ...]) -> list[str]:
    """What pydantic cannot see field by field: sentiment types need a participant and a value in range."""
    if not isinstance(event, dict):
        return []
    kind = signal_type(event.get("type"), allowed)
    if kind not in SENTIMENT_TYPES:
        return []
    problems = []
    if event.get("participant") is None:
        problems.append(f"{path}.participant: is required for {kind}")
    value = event.get("value")
    if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
        number = as_number(value)
        if number is None or not SENTIMENT_MIN <= number <= SENTIMENT_MAX:
            problems.append(f"{path}.value: must be a number from -1000 to 1000 for {kind}, not {value!r}")
    return problems


def _natural(path: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.split(":", 1)[0])]


def validate(model: type[ModelT], data: Any, allowed: tuple[SignalType, ...]) -> ModelT:
    """The body as ``model``, or 400 listing every problem (field types and cross-field rules), in path order."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidRequest.for_fields([f"body: must be an object, not {type(data).__name__}"])
    problems: list[str] = []
    events = data.get("events")
    for index, event in enumerate(events if isinstance(events, list) else []):
        problems += _cross_field_problems(event, f"events[{index}]", allowed)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems += describe(exc.errors())
    if problems:
        raise InvalidRequest.for_fields(sorted(problems, key=_natural))
    return parsed


@dataclass(frozen=True)
class Signal:
    """One event after normalisation; ``index`` is its position in the request."""

    index: int
    type: SignalType
    value: str
    number: float | None  # the value as a number, for sentiment types
    participant: Participant | None
    start_ms: int
    end_ms: int | None
    score: float | None = None
    details: dict[str, Any] | None = None

    @property
    def span(self) -> tuple[int, int]:
        """[start, end] in ms, whichever way round they were sent; an instant for real-time events."""
        end = self.start_ms if self.end_ms is None else self.end_ms
        return min(self.start_ms, end), max(self.start_ms, end)

    @property
    def natural_key(self) -> str:
        """Two events with the same type, participant, times and value are the same event (a resent batch)."""
        parts = [self.type.value, self.participant.value if self.participant else None, self.start_ms, self.end_ms]
        canonical = json.dumps([*parts, self.value.strip()], separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Prepared:
    signals: list[Signal]  # in startTime order
    notes: list[str]
    sorted_on_arrival: bool
    seconds: int  # how many times were read as seconds


def _number(kind: SignalType, value: str) -> float | None:
    return as_number(value) if kind in SENTIMENT_TYPES else None


def prepare(events: Sequence[RealtimeEvent | PostCallEvent]) -> Prepared:
    """Normalise times (a value below 10^11 is seconds) and sort by startTime (stable), noting both."""
    signals: list[Signal] = []
    in_seconds: list[str] = []
    reversed_spans: list[str] = []
    for index, event in enumerate(events):
        start = normalise_epoch("startTime", event.start_time)
        if start.note:
            in_seconds.append(f"events[{index}].startTime")
        end_ms = None
        if isinstance(event, PostCallEvent):
            end = normalise_epoch("endTime", event.end_time)
            if end.note:
                in_seconds.append(f"events[{index}].endTime")
            end_ms = end.value
            if end_ms < start.value:
                reversed_spans.append(f"events[{index}]")
        signals.append(
            Signal(
                index=index,
                type=event.type,
                value=event.value,
                number=_number(event.type, event.value),
                participant=event.participant,
                start_ms=start.value,
                end_ms=end_ms,
                score=event.score if isinstance(event, RealtimeEvent) else None,
                details=event.details if isinstance(event, RealtimeEvent) else None,
            )
        )
    notes = []
    if in_seconds:
        notes.append(f"{_listing(in_seconds)} below 10^11, read as seconds")
    ordered = sorted(signals, key=lambda signal: signal.start_ms)
    sorted_on_arrival = ordered != signals
    if sorted_on_arrival:
        notes.append("the events were not sorted by startTime; they were sorted on arrival")
    if reversed_spans:
        notes.append(f"endTime before startTime in {_listing(reversed_spans)}: the span was read the other way round")
    return Prepared(ordered, notes, sorted_on_arrival, len(in_seconds))


def _listing(paths: list[str], most: int = 5) -> str:
    shown = ", ".join(paths[:most])
    return shown if len(paths) <= most else f"{shown} and {len(paths) - most} more"


def overlaps(span: tuple[int, int], entry_start: int, entry_duration: int) -> bool:
    """Closed intervals: an entry touching the event's span at one end overlaps it."""
    entry_end = entry_start + entry_duration
    low, high = min(entry_start, entry_end), max(entry_start, entry_end)
    return low <= span[1] and high >= span[0]
