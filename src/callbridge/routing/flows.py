"""Evaluating a flow's declarative rules (``Flow.definition = {"rules": [...]}``): the first rule whose
``when`` holds names the route. Pure: no database, so ``callbridge flow test`` and the server agree.

Values are compared as text (``true``/``false`` for booleans, integral numbers without ``.0``) because
flow inputs arrive as strings from Amazon Connect while a YAML file may hold ``5`` or ``true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


@dataclass(frozen=True)
class FlowContext:
    """What conditions read: ``input.*`` (flow inputs), ``attribute.*`` (call attributes), ``call.*``."""

    inputs: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    call: Mapping[str, Any] = field(default_factory=dict)  # keys without the "call." prefix

    def lookup(self, key: str) -> Any:
        """The value a condition key names, or ``_MISSING``."""
        for prefix, values in (("input.", self.inputs), ("attribute.", self.attributes), ("call.", self.call)):
            if key.startswith(prefix):
                value = values.get(key[len(prefix) :], _MISSING)
                return _MISSING if value is None else value
        return _MISSING


@dataclass(frozen=True)
class RuleMatch:
    """The rule that decided: its index in ``rules`` and its ``route`` as written."""

    index: int
    route: Mapping[str, Any]
    when: Mapping[str, Any]


@dataclass(frozen=True)
class Evaluation:
    match: RuleMatch | None
    reason: str  # why this rule, or why none

    @property
    def matched(self) -> bool:
        return self.match is not None


def text(value: Any) -> str:
    """The text a value compares as."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def holds(condition: Any, value: Any) -> bool:
    """Whether ``value`` (``_MISSING`` when absent) satisfies ``condition`` as the config schema allows it."""
    if not isinstance(condition, Mapping):
        return value is not _MISSING and text(value) == text(condition)
    return all(_operator(operator, operand, value) for operator, operand in condition.items())


def _operator(operator: str, operand: Any, value: Any) -> bool:
    if operator == "exists":
        return (value is not _MISSING) == bool(operand)
    if operator == "not":
        return not holds(operand, value)
    if value is _MISSING:
        return False
    if operator == "equals":
        return text(value) == text(operand)
    if operator == "in":
        return text(value) in {text(item) for item in operand}
    if operator == "prefix":
        return text(value).startswith(str(operand))
    raise ValueError(f"unknown operator {operator!r}")


def describe_condition(key: str, condition: Any) -> str:
    """``input.language = es``, ``call.from prefix +1415``, ... for explanations."""
    if not isinstance(condition, Mapping):
        return f"{key} = {text(condition)}"
    parts = []
    for operator, operand in condition.items():
        if operator == "not":
            parts.append(f"not ({describe_condition(key, operand)})")
        elif operator == "in":
            parts.append(f"{key} in [{', '.join(text(item) for item in operand)}]")
        elif operator == "exists":
            parts.append(f"{key} {'exists' if operand else 'is absent'}")
        elif operator == "equals":
            parts.append(f"{key} = {text(operand)}")
        else:
            parts.append(f"{key} {operator} {text(operand)}")
    return " and ".join(parts)


def evaluate(definition: Mapping[str, Any], context: FlowContext) -> Evaluation:
    """The first rule whose conditions all hold; no match is a flow failure (the caller falls back)."""
    rules = definition.get("rules")
    if not isinstance(rules, list) or not rules:
        return Evaluation(None, "the flow has no rules")
    for index, rule in enumerate(rules):
        when = rule.get("when") or {}
        if all(holds(condition, context.lookup(key)) for key, condition in when.items()):
            if when:
                reason = f"rule {index + 1} matched: " + "; ".join(describe_condition(k, c) for k, c in when.items())
            else:
                reason = f"rule {index + 1} matched: it has no conditions"
            return Evaluation(RuleMatch(index, rule["route"], when), reason)
    return Evaluation(None, f"no rule matched ({len(rules)} rule{'s' if len(rules) != 1 else ''} tried)")
