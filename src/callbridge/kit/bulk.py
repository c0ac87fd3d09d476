"""Many rows in one statement: the INSERTs of the group-commit writers (transcripts, VoiceCall creates)."""

from __future__ import annotations

from typing import Any
from typing import cast as typed

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.kit.db import lock_timeline
from callbridge.models import TimelineEntry

TIMELINE = typed(Table, TimelineEntry.__table__)


class BulkInsert:
    """An INSERT of whole rows run through the driver's executemany.

    SQLAlchemy compiles the statement once per dialect and gives each column's bind processor; applying them
    here skips Core's per-row parameter machinery, which costs more than SQLite's own work on the hot path.
    """

    def __init__(self, table: Table) -> None:
        self._table = table
        self._compiled: dict[str, tuple[str, list[tuple[str, Any]]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, list[tuple[str, Any]]]:
        """The SQL and, in parameter order, each column's name and bind processor (None when it has none)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            generated = self._table.autoincrement_column
            columns = [c for c in self._table.columns if c is not generated]
            statement = insert(self._table).values({c.name: bindparam(c.name) for c in columns})
            compiled = statement.compile(dialect=dialect)
            assert compiled.positiontup is not None, "a positional paramstyle (qmark, numeric_dollar)"
            by_name = {c.name: c for c in columns}
            order = [
                (name, by_name[name].type.dialect_impl(dialect).bind_processor(dialect))
                for name in compiled.positiontup
            ]
            found = self._compiled[dialect.name] = (compiled.string, order)
        return found

    async def __call__(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        connection = await session.connection()
        sql, order = self._for(connection.dialect)
        columns: list[list[Any]] = []
        for name, process in order:
            values = [row[name] for row in rows]
            if process is not None:
                # Rows of a batch share values (its time, its actor): each distinct object is processed once.
                seen: dict[int, Any] = {}
                values = [
                    None if v is None else seen[id(v)] if id(v) in seen else seen.setdefault(id(v), process(v))
                    for v in values
                ]
            columns.append(values)
        await connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))


_insert_timeline = BulkInsert(TIMELINE)


async def insert_timeline(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert timeline entries; their ids, in the order of ``rows``."""
    if not rows:
        return []
    if (await session.connection()).dialect.name != "sqlite":
        await lock_timeline(session)  # the batch's last statements: its ids follow commit order
        statement = insert(TIMELINE).returning(TIMELINE.c.id, sort_by_parameter_order=True)
        return list((await (await session.connection()).execute(statement, rows)).scalars().all())
    # SQLite does not promise the order of RETURNING rows, so SQLAlchemy would insert row by row. The writer
    # holds SQLite's write lock, and a rowid key takes max + 1, so one executemany gives the next ids in order.
    last = (await (await session.connection()).execute(select(func.max(TIMELINE.c.id)))).scalar() or 0
    await _insert_timeline(session, rows)
    query = select(TIMELINE.c.id).where(TIMELINE.c.id > last).order_by(TIMELINE.c.id)
    ids = list((await (await session.connection()).execute(query)).scalars().all())
    if len(ids) != len(rows):
        raise RuntimeError(f"timeline ids after {last}: expected {len(rows)}, found {len(ids)}")
    return ids
