"""The WAL checkpointer: after enough commits, or once a second while commits happen, on a worker thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from callbridge.kit.sqlite import CHECKPOINT_PAGES, CHECKPOINT_SECONDS, Checkpointer


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counted(Checkpointer):
    """The real checkpointer, counting the checkpoints it ran."""

    runs = 0

    def _checkpoint(self) -> None:
        super()._checkpoint()
        self.runs += 1


def database(tmp_path: Path) -> str:
    path = tmp_path / "wal.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.close()
    return str(path)


async def settle(checkpointer: Checkpointer) -> None:
    running = checkpointer._running
    if running is not None:
        await running


async def test_a_commit_a_second_after_the_last_checkpoint_starts_one(tmp_path: Path) -> None:
    ticker = Ticker()
    checkpointer = Counted(database(tmp_path), ticker)
    for _ in range(5):  # commits within the second: no checkpoint yet
        ticker.now += 0.1
        checkpointer.committed()
    await settle(checkpointer)
    assert checkpointer.runs == 0
    ticker.now += CHECKPOINT_SECONDS
    checkpointer.committed()
    await settle(checkpointer)
    assert checkpointer.runs == 1
    checkpointer.committed()  # the clock starts again from that checkpoint
    await settle(checkpointer)
    assert checkpointer.runs == 1


async def test_enough_commits_start_one_within_the_second(tmp_path: Path) -> None:
    checkpointer = Counted(database(tmp_path), Ticker())
    for _ in range(CHECKPOINT_PAGES - 1):
        checkpointer.committed()
    await settle(checkpointer)
    assert checkpointer.runs == 0
    checkpointer.committed()
    await settle(checkpointer)
    assert checkpointer.runs == 1
