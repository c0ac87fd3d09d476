"""Applying a config file: validate everything, plan against the database, then write the whole plan in
one transaction (a file with any problem changes nothing; applying the same file again writes nothing).
The server reads these tables per request, so a commit takes effect without a restart."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.contact_center import repository
from callbridge.contact_center.checks import check_file
from callbridge.contact_center.errors import ConfigConflict, ConfigInvalid, ConfigProblem, DatabaseNotMigrated
from callbridge.contact_center.loader import load_config
from callbridge.contact_center.plan import Action, Change, Kind, build_plan
from callbridge.kit.clock import Clock, SystemClock
from callbridge.kit.db import Database

# Children before parents when deleting, parents before children when writing.
_REMOVE_STAGES: tuple[tuple[Kind, ...], ...] = (
    (Kind.phone_channel, Kind.certificate),
    (Kind.call_center,),
    (Kind.agent, Kind.flow, Kind.queue, Kind.webhook),
    (Kind.org,),
)
_WRITE_STAGES: tuple[tuple[Kind, ...], ...] = (
    (Kind.org,),
    (Kind.call_center,),
    (Kind.certificate, Kind.phone_channel, Kind.queue, Kind.agent, Kind.flow, Kind.webhook),
)


@dataclass(frozen=True)
class ApplyResult:
    """What an apply did (or, for a dry run, would do)."""

    file: str
    changes: tuple[Change, ...]  # every object of the file, and what a removal takes with it
    warnings: tuple[ConfigProblem, ...]
    dry_run: bool
    revision_id: int | None  # the ConfigRevision written; None when nothing was written

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)

    @property
    def changed(self) -> bool:
        return any(change.action is not Action.unchanged for change in self.changes)

    def summary(self) -> str:
        """``3 created, 1 updated, 0 removed, 12 unchanged``."""
        counts = Counter(change.action for change in self.changes)
        return ", ".join(
            f"{counts[action]} {word}"
            for action, word in (
                (Action.create, "created"),
                (Action.update, "updated"),
                (Action.remove, "removed"),
                (Action.unchanged, "unchanged"),
            )
        )


async def apply_file(
    database: Database, path: Path, *, dry_run: bool = False, clock: Clock | None = None
) -> ApplyResult:
    """Validate ``path`` and apply it in one transaction (nothing is written on a dry run or without changes).

    Raises ``ConfigInvalid`` listing every problem (nothing changed), ``DatabaseNotMigrated``, or
    ``ConfigConflict`` when the database changed under the apply (nothing changed either).
    """
    config = await asyncio.to_thread(load_config, path)
    check_file(config)
    if config.spec is None:
        raise ConfigInvalid(config.file, config.problems)
    now = (clock or SystemClock()).now()
    sessions = database.read_session() if dry_run else database.write_session()
    async with sessions as session:
        if not await repository.has_schema(session):
            raise DatabaseNotMigrated(database.url)
        plan = build_plan(config, await repository.load_snapshot(session), now)
        if config.problems:
            raise ConfigInvalid(config.file, config.problems)
        result = ApplyResult(config.file, tuple(plan.changes), tuple(plan.warnings), dry_run, None)
        if dry_run or not result.changed:
            return result
        changed = [change for change in plan.changes if change.action is not Action.unchanged]
        try:
            await _write(session, changed)
            revision = repository.add_revision(
                session,
                source=config.source,
                sha256=config.sha256,
                changes=[change.as_record() for change in changed],
                applied_at=now,
            )
            await session.flush()
            await session.commit()
        except IntegrityError as exc:
            await session.rollback()
            raise ConfigConflict(
                f"the database changed while {config.file} was applied; nothing was changed ({exc.orig})"
            ) from exc
    return ApplyResult(config.file, tuple(plan.changes), tuple(plan.warnings), False, revision.id)


async def _write(session: AsyncSession, changes: list[Change]) -> None:
    for stage in _REMOVE_STAGES:
        for change in changes:
            if change.action is Action.remove and change.kind in stage and change.row is not None:
                await session.delete(change.row)
        await session.flush()
    for stage in _WRITE_STAGES:
        for change in changes:
            if change.kind not in stage or change.row is None:
                continue
            if change.action is Action.create:
                session.add(change.row)
            elif change.action is Action.update:
                for key, value in change.values.items():
                    setattr(change.row, key, value)
        await session.flush()
