"""What a client value may be so that every backend stores it alike: one place for the limits the edge checks.

SQLite stores anything (a 60 KB key in a VARCHAR(255), an integer past 64 bits raises in the driver), PostgreSQL
refuses what does not fit its column or contains U+0000. Refusing such values at the edge, with a 400 naming the
field, keeps them out of the shared writers, where one job's failure would cost every other job of its batch.
docs/api.md ("Limits") lists these numbers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# A vendorCallKey, a messageId and every other key a client names: the VARCHAR(255) columns that hold them.
MAX_KEY_LENGTH = 255
# Epoch milliseconds: 0 up to the last millisecond of 9999-12-31 (a BIGINT everywhere, a datetime in Python).
MAX_EPOCH_MS = 253_402_300_799_999
# Bounds of a range query on epoch milliseconds (a Java client's Long.MAX_VALUE means "no bound").
MAX_QUERY_EPOCH = 2**63 - 1
# Nesting of any JSON body, and of the free-form objects inside one (callAttributes, flowInputParameters, details).
MAX_BODY_DEPTH = 64
MAX_FIELD_DEPTH = 32

_CONTAINERS = (dict, list)


def too_deep(raw: bytes | str, data: Any, limit: int = MAX_BODY_DEPTH) -> bool:
    """Whether ``data``, decoded from the JSON text ``raw``, nests objects and arrays more than ``limit`` levels.

    Free for the usual body: one with at most ``limit`` brackets cannot be deeper (two counts, in C). Otherwise
    the decoded values are walked level by level (brackets inside strings make the text alone unreliable).
    """
    brackets = raw.count("{") + raw.count("[") if isinstance(raw, str) else raw.count(b"{") + raw.count(b"[")
    if brackets <= limit:
        return False
    return deeper_than(data, limit)


def deeper_than(data: Any, limit: int) -> bool:
    """Whether ``data`` nests objects and arrays more than ``limit`` levels (``data`` itself is level 1)."""
    level = [data] if isinstance(data, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        deeper: list[Any] = []
        for node in level:
            deeper += [v for v in (node.values() if type(node) is dict else node) if isinstance(v, _CONTAINERS)]
        level = deeper
    return False


def deepest_path(value: Any, limit: int) -> str | None:
    """The path (``a.b[0]``) to the first object or array nested deeper than ``limit`` levels in ``value``
    (``value`` itself is level 1), or None. Iterative, so any depth the decoder gave is walked safely."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, dict):
            children = [(child, f"{path}.{key}" if path else str(key)) for key, child in node.items()]
        elif isinstance(node, list):
            children = [(child, f"{path}[{index}]") for index, child in enumerate(node)]
        else:
            continue
        if depth > limit:
            return path
        stack.extend((child, depth + 1, child_path) for child, child_path in children)
    return None


def too_deep_error(limit: int = MAX_FIELD_DEPTH) -> PydanticCustomError:
    """The validation error of a free-form object field nested deeper than ``limit`` levels."""
    return PydanticCustomError(
        "too_deep", "is nested more than {limit} levels deep; at most {limit} are allowed", {"limit": limit}
    )


def body_depth_problem(data: Any, limit: int = MAX_BODY_DEPTH) -> str:
    """The problem to report for a decoded body found too deep, naming the top of the branch that is."""
    path = deepest_path(data, limit) or "body"
    top = re.match(r"^[^.\[]+(?:\[\d+\])?(?:\.[^.\[]+)?(?:\[\d+\])?(?:\.[^.\[]+)?", path)
    field = top.group(0) if top else "body"
    return f"{field}: is nested more than {limit} levels deep; a body may nest at most {limit} levels"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "contains a NUL character (U+0000), which cannot be stored")
    return value


# For a string field of a body that is not decoded by ``callbridge.kit.bodies`` (which refuses NUL in any body).
NoNul = AfterValidator(_no_nul)


class OutOfRange(ValueError):
    """A well-formed value that no backend can store."""


def storable_datetime(value: datetime) -> datetime:
    """``value`` in UTC; OutOfRange when it falls outside years 1..9999 there (``0001-01-01T00:00:00+01:00``)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise OutOfRange("is outside the storable range (years 1 to 9999 in UTC)") from None


def cut(text: str, limit: int) -> str:
    """``text`` cut to fit a VARCHAR(``limit``) column (an ellipsis says it was)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
