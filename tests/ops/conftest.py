"""Helpers for the operations tests: a scrape of /metrics read as samples, and logging restored after tests
that configure it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator

import httpx2
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx2.AsyncClient) -> Samples:
    """Every sample ``GET /metrics`` answers, parsed as Prometheus parses it."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist yet (counters start at 0)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait up to 5 s for ``condition`` (e.g. the event subscriber caught up)."""
    for _ in range(500):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo ``callbridge.ops.logs.configure``: structlog's defaults, the root and uvicorn loggers as they were."""
    root = logging.getLogger()
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
    saved = (
        root.handlers[:],
        root.level,
        {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names},
    )
    try:
        yield
    finally:
        structlog.reset_defaults()
        root.handlers = saved[0]
        root.setLevel(saved[1])
        for name, (handlers, propagate) in saved[2].items():
            logging.getLogger(name).handlers = handlers
            logging.getLogger(name).propagate = propagate
