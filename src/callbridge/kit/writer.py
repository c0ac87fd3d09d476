"""The group-commit writer: one task owns a hot write path and commits many requests per transaction.

Requests ``submit`` a job and await its result, which is set only after the transaction holding the job
committed, so an answer always means "durably stored". While one batch commits, the next one queues; the
writer then takes everything queued (up to a bound) into one transaction. The queue is bounded by weight
(for example utterances): when it is full, ``submit`` refuses at once with 503 and ``Retry-After``, so
overload never turns into unbounded memory.

Isolation inside a batch: the handler plans every job against state it loads for the whole batch, and
reports a job's domain refusal as that job's result; the edge refuses values no backend can store
(``callbridge.kit.bounds``). If the batch still fails in the database (a race with another process, a bug, a
value the edge let through), it is rolled back and retried per tenant: each tenant's jobs in one transaction,
so the jobs of a tenant that sent nothing wrong commit in one extra attempt. A tenant's group that fails again is
halved until the failing job stands alone; it alone gets the error: 400 when its data caused it (a value
too long, out of range), else 503 ``WRITE_FAILED``. Events go to the broker after the commit, in commit order.
"""

from __future__ import annotations

import asyncio
import re
import traceback
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.errors import InvalidRequest, ServiceUnavailable
from callbridge.events.broker import Broker
from callbridge.events.schemas import AnyEvent
from callbridge.kit.db import Database, DatabaseUnavailable, is_unavailable

log = structlog.get_logger()

JobT = TypeVar("JobT")
ResultT = TypeVar("ResultT")
JobT_contra = TypeVar("JobT_contra", contravariant=True)


class WriterOverloaded(ServiceUnavailable):
    code = "OVERLOADED"


class WriteFailed(ServiceUnavailable):
    """A job could not be written even alone: nothing of it is stored, and the client may retry. The cause
    is logged by the writer (and kept as ``__cause__``)."""

    code = "WRITE_FAILED"

    def __init__(self) -> None:
        super().__init__("Storing the request failed, so nothing of it was stored; retry it.")


class UnstorableValue(InvalidRequest):
    """A job failed alone because of its own data (a value the database refuses): retrying cannot help."""

    code = "UNSTORABLE_VALUE"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"A value of the request cannot be stored ({reason}), so nothing of it was stored.",
            errors=[f"body: a value cannot be stored ({reason})"],
        )


@dataclass
class Written(Generic[ResultT]):
    """What a handler wrote: one result per job (in order) and the events to publish after the commit."""

    results: list[ResultT]
    events: list[AnyEvent] = field(default_factory=list)


class BatchHandler(Protocol[JobT_contra, ResultT]):
    async def write(self, session: AsyncSession, jobs: Sequence[JobT_contra]) -> Written[ResultT]:
        """Write every job into ``session`` (the caller commits); never commit here."""
        ...


@dataclass
class _Pending(Generic[JobT, ResultT]):
    job: JobT
    weight: int
    future: asyncio.Future[ResultT]


class BatchWriter(Generic[JobT, ResultT]):
    def __init__(
        self,
        database: Database,
        broker: Broker,
        handler: BatchHandler[JobT, ResultT],
        *,
        max_batch_weight: int,
        max_queued_weight: int,
        name: str,
        tenant: Callable[[JobT], Hashable] | None = None,
    ) -> None:
        """``tenant`` names the tenant of a job (its call center): a failed batch is retried per tenant."""
        self._database = database
        self._tenant = tenant
        self._broker = broker
        self._handler = handler
        self._max_batch = max_batch_weight
        self._max_queued = max_queued_weight
        self._name = name
        self._queue: deque[_Pending[JobT, ResultT]] = deque()
        self._queued_weight = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._writing = 0
        self.batches = 0  # committed transactions, for tests and metrics

    @property
    def queued(self) -> int:
        """Jobs waiting for a batch (not counting the batch being written)."""
        return len(self._queue)

    @property
    def in_flight(self) -> int:
        """Jobs submitted and not answered yet: queued ones and those of the batch being written."""
        return len(self._queue) + self._writing

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"writer:{self._name}")

    async def stop(self) -> None:
        """Refuse new jobs, write every queued one, then end the task."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def submit(self, job: JobT, weight: int = 1) -> ResultT:
        """The job's result once its batch committed; 503 at once when the queue is full or stopping."""
        if self._stopping or self._task is None:
            raise WriterOverloaded("The server is shutting down; retry against another instance or later.")
        weight = max(1, weight)
        if self._queued_weight + weight > self._max_queued and self._queue:
            raise WriterOverloaded(
                f"The {self._name} queue is full ({self._queued_weight} waiting); retry after a second."
            )
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(job, weight, future))
        self._queued_weight += weight
        self._wakeup.set()
        return await future

    def _take(self) -> list[_Pending[JobT, ResultT]]:
        batch = [self._queue.popleft()]
        weight = batch[0].weight
        while self._queue and weight + self._queue[0].weight <= self._max_batch:
            item = self._queue.popleft()
            weight += item.weight
            batch.append(item)
        self._queued_weight -= weight
        return batch

    def _drain(self) -> list[_Pending[JobT, ResultT]]:
        """Every queued job, taken off the queue."""
        queued = list(self._queue)
        self._queue.clear()
        self._queued_weight = 0
        return queued

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = self._take()
            self._writing = len(batch)
            try:
                await self._write(batch)
            except Exception as exc:
                if is_unavailable(exc):
                    # The database is away or hung: retrying each job alone would wait the timeout once per job,
                    # and the jobs queued meanwhile would wait it once more. None of them is stored: all get 503.
                    log.warning(
                        "batch not written: the database is unavailable", writer=self._name, error=describe_error(exc)
                    )
                    for item in [*batch, *self._drain()]:
                        _unavailable(item, exc)
                elif len(batch) > 1:
                    log.warning("batch failed; retrying it per tenant", writer=self._name, error=describe_error(exc))
                    await self._isolate(batch)
                else:  # one job alone failed: it alone gets the error
                    self._log_failure(exc)
                    _fail(batch[0], exc)
            finally:
                self._writing = 0

    async def _isolate(self, batch: list[_Pending[JobT, ResultT]]) -> None:
        """Retry a failed batch: every tenant's jobs in one transaction (a single tenant's are halved at once)."""
        groups: dict[Hashable, list[_Pending[JobT, ResultT]]] = {}
        for item in batch:
            groups.setdefault(self._tenant(item.job) if self._tenant else None, []).append(item)
        if len(groups) == 1:
            await self._halve(batch)
            return
        for group in groups.values():
            await self._retry(group)

    async def _retry(self, items: list[_Pending[JobT, ResultT]]) -> None:
        try:
            await self._write(items)
        except Exception as exc:
            if len(items) == 1:
                self._log_failure(exc)
                _fail(items[0], exc)
            else:
                await self._halve(items)

    async def _halve(self, items: list[_Pending[JobT, ResultT]]) -> None:
        """``items`` failed together: each half in turn (in order), until a failing job stands alone."""
        middle = len(items) // 2
        await self._retry(items[:middle])
        await self._retry(items[middle:])

    def _log_failure(self, exc: BaseException) -> None:
        # Frames without their locals, and a database error without its parameters: both hold the jobs, and
        # a job may hold transcript text that must not outlive a redaction in some log.
        trace = "".join(traceback.format_tb(exc.__traceback__, limit=20))
        log.error("write failed", writer=self._name, error=describe_error(exc), traceback=trace)

    async def _write(self, batch: list[_Pending[JobT, ResultT]]) -> None:
        async with self._database.write_session() as session:
            try:
                written = await self._handler.write(session, [item.job for item in batch])
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            # On SQLite, still holding the write lock: events leave in commit order. On PostgreSQL the broker puts
            # them in id order (callbridge.events.ordered).
            if written.events:
                try:
                    await self._broker.publish(written.events)
                except Exception:  # the data is committed: answer the requests anyway
                    log.exception("publishing after commit failed", writer=self._name)
        self.batches += 1
        for item, result in zip(batch, written.results, strict=True):
            if not item.future.done():
                item.future.set_result(result)


# asyncpg quotes the value it could not encode: "invalid input for query argument $3: 'text' (...)".
_QUOTED_ARGUMENT = re.compile(r"(query argument \$\d+):.*?(\([^()]*\))?$", re.DOTALL)


def describe_error(exc: BaseException) -> str:
    """The error without the statement's parameters (a database error's ``orig`` is the driver's message,
    whose quoted argument is cut out)."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).split("\n", 1)[0]
    return f"{type(exc).__name__}: {_QUOTED_ARGUMENT.sub(_argument, text)[:300]}"


def _argument(match: re.Match[str]) -> str:
    return f"{match.group(1)} {match.group(2) or ''}".rstrip()


def is_data_error(exc: BaseException) -> bool:
    """Whether a write failed because of the data it was given (a value too long, out of range, a constraint),
    which no retry can fix: SQLSTATE classes 22 and 23, and a value the driver or a column type refused."""
    if isinstance(exc, DBAPIError):
        state = str(getattr(exc.orig, "sqlstate", "") or getattr(exc.orig, "pgcode", "") or "")
        return state[:2] in ("22", "23") or type(exc).__name__ in ("DataError", "IntegrityError")
    if isinstance(exc, StatementError):
        exc = exc.orig if exc.orig is not None else exc
    return isinstance(exc, ValueError | OverflowError)


def _unavailable(item: _Pending[JobT, ResultT], exc: BaseException) -> None:
    """Nothing of the batch was committed: 503 with Retry-After, and the client retries."""
    if not item.future.done():
        failure = DatabaseUnavailable(exc.message) if isinstance(exc, DatabaseUnavailable) else DatabaseUnavailable()
        failure.__cause__ = exc
        item.future.set_exception(failure)


def _fail(item: _Pending[JobT, ResultT], exc: BaseException) -> None:
    if not item.future.done():
        failure: Exception = (
            UnstorableValue(describe_error(exc).split(": ", 1)[-1]) if is_data_error(exc) else WriteFailed()
        )
        failure.__cause__ = exc
        item.future.set_exception(failure)
