"""Running the registered checks against one server, in order, each isolated: whatever a check raises
becomes its result, and a failed gate check skips the rest."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Sequence

from callbridge.check import auth, events, limits, outbound, quirks, routing, transcripts, voice_calls
from callbridge.check.context import CheckConfig, CheckContext
from callbridge.check.registry import (
    REGISTRY,
    Check,
    CheckFailed,
    CheckResult,
    CheckSkipped,
    Status,
    describe_error,
)
from callbridge.client import ApiError, TransportError, UnexpectedResponse

# Run order: reachability and the token first, then the lifecycles; within a module, as written.
MODULES = (auth, voice_calls, transcripts, routing, events, quirks, outbound, limits)


def all_checks() -> list[Check]:
    """Every registered check, in run order."""
    order = [module.__name__ for module in MODULES]
    return sorted(REGISTRY, key=lambda item: order.index(item.function.__module__))


def select(checks: Sequence[Check], only: Sequence[str] = ()) -> list[Check]:
    """The checks whose name matches one of the ``only`` globs (all when none); gates always run."""
    if not only:
        return list(checks)
    return [c for c in checks if c.gate or any(fnmatch.fnmatchcase(c.name, pattern) for pattern in only)]


async def run_one(ctx: CheckContext, item: Check) -> CheckResult:
    started = time.perf_counter()
    status, reason = Status.PASS, None
    try:
        reason = await item.function(ctx)
    except CheckFailed as failure:
        status, reason = Status.FAIL, str(failure)
    except CheckSkipped as skipped:
        status, reason = Status.SKIP, str(skipped)
    except ApiError as error:
        status, reason = Status.FAIL, f"{error.method} {_path(error.url)} answered {describe_error(error)}"
    except UnexpectedResponse as error:
        status, reason = Status.FAIL, str(error)
    except TransportError as error:
        status, reason = Status.FAIL, f"no answer: {error}"
    except Exception as error:  # a check must never end the run: report it like any failure
        status, reason = Status.FAIL, f"the check crashed: {type(error).__name__}: {error}"
    return CheckResult(item.name, item.expectation, status, reason, time.perf_counter() - started)


async def run_checks(
    config: CheckConfig,
    *,
    only: Sequence[str] = (),
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run the selected checks against ``config.base_url``; one result per check, in order."""
    ctx = CheckContext(config)
    results: list[CheckResult] = []
    blocked: str | None = None
    try:
        for item in select(all_checks(), only):
            if blocked is not None:
                result = CheckResult(item.name, item.expectation, Status.SKIP, blocked, 0.0)
            else:
                result = await run_one(ctx, item)
                if item.gate and result.status is Status.FAIL:
                    blocked = f"not run: {item.name} failed"
            results.append(result)
            if on_result is not None:
                on_result(result)
        if blocked is None:
            await ctx.close_calls()
    finally:
        await ctx.aclose()
    return results


def _path(url: str) -> str:
    marker = url.find("/telephony/v1")
    if marker < 0:
        marker = url.find("/console/v1")
    return url[marker:] if marker >= 0 else url
