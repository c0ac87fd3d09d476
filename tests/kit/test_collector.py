"""The server's garbage-collector tuning: startup objects frozen, young objects collected less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from callbridge.kit.collector import SERVER_THRESHOLDS, tune_for_server


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tuning_freezes_what_exists_and_raises_the_thresholds(restored_collector: None) -> None:
    long_lived = [{"n": i} for i in range(1000)]
    tune_for_server()
    assert gc.get_threshold() == SERVER_THRESHOLDS
    assert gc.get_freeze_count() >= len(long_lived)
