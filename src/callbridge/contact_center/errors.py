"""What ``callbridge apply`` reports when a file cannot be applied: every problem names the file, the
place inside it and the reason, and all problems of a file are reported together."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from callbridge.errors import Conflict, InvalidRequest, ServiceUnavailable

Loc = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def format_path(loc: Loc) -> str:
    """``("orgs", 0, "flows", 1, "when", "input.x")`` -> ``orgs[0].flows[1].when["input.x"]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f'["{part}"]'
    return text


@dataclass(frozen=True)
class ConfigProblem:
    """One problem: ``file:path: reason`` (``path``: ``line:column`` for YAML syntax, empty for the file)."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        if not self.path:
            return f"{self.file}: {self.reason}"
        return f"{self.file}:{self.path}: {self.reason}"


class ConfigInvalid(InvalidRequest):
    """The file has problems; nothing was changed."""

    code = "CONFIG_INVALID"

    def __init__(self, file: str, problems: Sequence[ConfigProblem]) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{file} has {count} {noun}; nothing was changed.", errors=[str(p) for p in problems])
        self.problems = list(problems)


class ConfigConflict(Conflict):
    """The database changed under the apply (another apply ran at the same time); nothing was changed."""

    code = "CONFIG_CONFLICT"


class DatabaseNotMigrated(ServiceUnavailable):
    """The database has no Callbridge schema yet."""

    code = "DATABASE_NOT_MIGRATED"

    def __init__(self, database_url: str) -> None:
        shown = make_url(database_url).render_as_string(hide_password=True)
        super().__init__(f"the database {shown} has no schema yet: run `callbridge migrate` first")


__all__ = [
    "ConfigConflict",
    "ConfigInvalid",
    "ConfigProblem",
    "DatabaseNotMigrated",
    "Loc",
    "format_path",
]
