"""Python's garbage collector, tuned for a long-running server.

A full (oldest-generation) collection walks every tracked object, and the server holds many long-lived ones
(mappers, models, the routing directory, token and event caches): measured on the push benchmark, full
collections paused the event loop for 15 to 60 ms, which was the whole tail of commit-to-console latency.
So, once the server has started: what exists then is frozen out of the collector's reach (it is never
garbage), and young objects are collected somewhat less often. Reference counting frees almost everything
anyway; the collector only breaks cycles (SQLAlchemy's sessions and connections make some on every use).
The thresholds are a measured compromise: every 10,000 allocations cost 4-5 ms per young sweep and doubled
omniFlow's p99; CPython's 700 promotes more objects towards the costly full collections.
"""

from __future__ import annotations

import gc

# (gen0 allocations, gen1 per gen0 runs, gen2 per gen1 runs); CPython's defaults are (700, 10, 10).
SERVER_THRESHOLDS = (2_000, 10, 20)


def tune_for_server() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVER_THRESHOLDS)
