"""Python's garbage collector, tuned for a long-running server.

A full (oldest-generation) collection walks every tracked object, and the server holds many long-lived ones
(mappers, models, the routing directory, token and event caches): measured on the push benchmark, full
collections paused the event loop for 15 to 60 ms, which was the whole tail of commit-to-console latency.
So, once the server has started: what exists then is frozen out of the collector's reach (it is never
garbage), and young objects are collected less often, in larger and still short sweeps. Reference counting
frees almost everything anyway; the collector only breaks cycles.
"""

from __future__ import annotations

import gc

# (gen0 allocations, gen1 per gen0 runs, gen2 per gen1 runs); CPython's defaults are (700, 10, 10).
SERVER_THRESHOLDS = (10_000, 20, 50)


def tune_for_server() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVER_THRESHOLDS)
