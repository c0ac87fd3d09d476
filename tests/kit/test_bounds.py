"""The edge's limits: JSON nesting measured exactly (brackets inside strings cannot hide or fake depth), dates
outside the storable range refused."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from callbridge.kit.bounds import OutOfRange, deeper_than, deepest_path, storable_datetime, too_deep


def nested(depth: int, **members: Any) -> dict[str, Any]:
    """An object ``depth`` levels deep; every level also holds ``members``."""
    value: dict[str, Any] = {"leaf": 1, **members}
    for _ in range(depth - 1):
        value = {**members, "a": value}
    return value


def check(data: Any, limit: int = 64) -> bool:
    return too_deep(json.dumps(data).encode(), data, limit)


@pytest.mark.parametrize(("depth", "expected"), [(64, False), (65, True), (900, True)])
def test_depth_is_exact_at_the_limit(depth: int, expected: bool) -> None:
    """64 levels pass, 65 do not."""
    assert check(nested(depth)) is expected


def test_brackets_in_strings_cannot_hide_depth() -> None:
    """Keys and values holding "}" then "{" at every level (which cancel out in the text) do not hide 900 levels."""
    assert check(nested(900, **{"}": "}", "z": "{"})) is True


def test_brackets_in_strings_do_not_count_as_depth() -> None:
    """A shallow body whose text holds 500 "[" in a string is not too deep."""
    assert check({"content": "[" * 500 + "{" * 500}) is False


def test_arrays_count_as_levels() -> None:
    """Arrays nest like objects: 40 arrays inside 30 objects is 70 levels."""
    value: Any = [1]
    for _ in range(39):
        value = [value]
    assert deeper_than(nested(30, items=value), 64) is True


def test_deepest_path_names_the_branch() -> None:
    """The path to the first level past the limit starts with the field that holds it."""
    path = deepest_path({"ok": {"x": 1}, "callAttributes": nested(10)}, 5)
    assert path is not None and path.startswith("callAttributes.a.a")


def test_a_json_string_field_is_measured_after_decoding() -> None:
    """too_deep takes the text as str too (a callAttributes string)."""
    text = json.dumps(nested(33))
    assert too_deep(text, json.loads(text), 32) is True


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_dates_outside_years_1_to_9999_in_utc_are_out_of_range(value: datetime) -> None:
    """A date that converts to year 0 or 10000 in UTC is OutOfRange (a ValueError)."""
    with pytest.raises(OutOfRange):
        storable_datetime(value)
