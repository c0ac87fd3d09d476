"""``CALLBRIDGE_FAULTS``: which errors and delays to inject, parsed once at start-up.

A comma-separated list of items (docs/configuration.md "Limits and faults")::

    429=0.05                         answer 5% of requests 429 (any status 400-599 may be named)
    503=2%                           a probability is a fraction or a percentage
    delay=300ms@0.1                  hold 10% of requests 300 ms before handling them (no @: every request)
    seed=42                          draw from a seeded generator: the same requests get the same faults
    POST /telephony/v1/voiceCalls/messages:429=0.5
                                     an item with a selector applies only to the requests it matches: an
                                     optional method, then a path where * or {name} is one segment and a
                                     final ** any number of them

Faults touch only the Telephony API (``/telephony/v1``) and the Connect API (``/services/data``). For a given
request and kind (a status, or delay), the last item that matches wins, so general items go first and
selected ones after them. The error items that win are drawn together: ``429=0.05,503=0.02`` answers 5% of
requests 429, 2% 503 and the rest normally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCOPES = ("/telephony/v1/", "/services/data/")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"})
DELAY = "delay"

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_STATUS = re.compile(r"^[45]\d\d$")


class FaultSpecError(ValueError):
    """A ``CALLBRIDGE_FAULTS`` value that cannot be read; the message names the item."""


@dataclass(frozen=True)
class Selector:
    method: str | None  # None: any method
    path: str  # as written
    regex: re.Pattern[str]

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.regex.match(path) is not None


@dataclass(frozen=True)
class FaultRule:
    item: str  # the item as written, for messages and the metric
    kind: str  # a status code ("429") or "delay"
    probability: float
    selector: Selector | None = None
    delay_seconds: float = 0.0

    @property
    def status(self) -> int:
        return int(self.kind)


@dataclass(frozen=True)
class FaultPlan:
    rules: tuple[FaultRule, ...] = ()
    seed: int | None = None

    def __bool__(self) -> bool:
        return bool(self.rules)

    def for_request(self, method: str, path: str) -> tuple[list[FaultRule], FaultRule | None]:
        """The error rules (in the order they were listed) and the delay rule that apply to a request."""
        if not path.startswith(SCOPES):
            return [], None
        winners: dict[str, FaultRule] = {}
        for rule in self.rules:
            if rule.selector is None or rule.selector.matches(method, path):
                winners.pop(rule.kind, None)  # re-inserted: the order is that of the winning items
                winners[rule.kind] = rule
        delay = winners.pop(DELAY, None)
        return list(winners.values()), delay


def parse_faults(value: str) -> FaultPlan:
    """The plan ``value`` describes; ``FaultSpecError`` naming the first bad item otherwise."""
    rules: list[FaultRule] = []
    seed: int | None = None
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        head, sep, tail = item.rpartition(":")
        selector = _selector(head, item) if sep else None
        key, eq, setting = tail.partition("=")
        key, setting = key.strip().lower(), setting.strip()
        if not eq or not setting:
            raise _bad(item, "expected KEY=VALUE, e.g. 503=0.02 or delay=300ms@0.1")
        if key == "seed":
            if selector is not None:
                raise _bad(item, "seed applies to every fault; it takes no selector")
            if not re.fullmatch(r"-?\d+", setting):
                raise _bad(item, "seed must be an integer")
            seed = int(setting)
        elif key == DELAY:
            duration, at, chance = setting.partition("@")
            seconds = _seconds(duration.strip(), item)
            probability = _probability(chance.strip(), item) if at else 1.0
            rules.append(FaultRule(item, DELAY, probability, selector, seconds))
        elif _STATUS.match(key):
            rules.append(FaultRule(item, key, _probability(setting, item), selector))
        else:
            raise _bad(item, f"unknown fault {key!r}: expected a status 400-599, delay or seed")
    _check_totals(rules)
    return FaultPlan(tuple(rules), seed)


def _bad(item: str, reason: str) -> FaultSpecError:
    return FaultSpecError(f"CALLBRIDGE_FAULTS item {item!r}: {reason}")


def _selector(text: str, item: str) -> Selector:
    method, _, path = text.strip().rpartition(" ")
    method = method.strip().upper()
    if method and method not in METHODS:
        raise _bad(item, f"unknown method {method!r} in the selector")
    if not path.startswith("/"):
        raise _bad(item, "a selector is [METHOD ]/path, e.g. POST /telephony/v1/voiceCalls/messages")
    segments = path.rstrip("/").split("/")[1:]
    parts = []
    for index, segment in enumerate(segments):
        if segment == "**":
            if index != len(segments) - 1:
                raise _bad(item, "** may only end a selector's path")
            parts.append("(?:/[^/]+)*")
        elif segment == "*" or re.fullmatch(r"\{\w+\}", segment):
            parts.append("/[^/]+")
        elif "*" in segment or "{" in segment or "}" in segment:
            raise _bad(item, f"path segment {segment!r}: use * or {{name}} for a whole segment")
        else:
            parts.append("/" + re.escape(segment))
    regex = re.compile("^" + "".join(parts) + "/?$")
    return Selector(None if method in ("", "*") else method, path, regex)


def _seconds(text: str, item: str) -> float:
    match = _DURATION.match(text)
    if match is None:
        raise _bad(item, f"duration {text!r}: expected a number with ms or s, e.g. 300ms or 1.5s")
    number = float(match.group(1))
    seconds = number / 1000 if match.group(2) == "ms" else number
    if seconds > 60:
        raise _bad(item, "a delay may be at most 60 s")
    return seconds


def _probability(text: str, item: str) -> float:
    percent = text.endswith("%")
    try:
        value = float(text.removesuffix("%"))
    except ValueError:
        raise _bad(item, f"probability {text!r}: expected a number from 0 to 1, or a percentage") from None
    if percent:
        value /= 100
    if not 0 <= value <= 1:
        raise _bad(item, f"probability {text!r}: must be between 0 and 1 (0% and 100%)")
    return value


def _check_totals(rules: list[FaultRule]) -> None:
    """The errors listed for the same selector (or for none) may not add up to more than certainty."""
    groups: dict[str | None, dict[str, float]] = {}
    for rule in rules:
        if rule.kind == DELAY:
            continue
        key = None if rule.selector is None else f"{rule.selector.method} {rule.selector.path}"
        group = groups.setdefault(key, {})
        group[rule.kind] = rule.probability
        if sum(group.values()) > 1 + 1e-9:
            raise _bad(rule.item, "the error probabilities for the same requests add up to more than 1")
