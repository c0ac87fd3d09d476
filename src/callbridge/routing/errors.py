"""Errors of the routing endpoints."""

from __future__ import annotations

from collections.abc import Sequence

from callbridge.errors import Conflict, InvalidRequest


class RoutingFailed(InvalidRequest):
    """Nothing routed the call: ``errors`` lists what was tried and why each failed."""

    code = "ROUTING_FAILED"

    def __init__(self, tried: Sequence[str], what: str = "call") -> None:
        tried = list(tried) or [
            "nothing to try: give dialedNumber (with a phone channel), flowDevName or fallbackQueue"
        ]
        super().__init__(f"The {what} could not be routed: every route tried failed.", errors=tried)


class NothingToReroute(Conflict):
    code = "NOTHING_TO_REROUTE"

    def __init__(self, call_id: str) -> None:
        super().__init__(
            f"Call {call_id} has neither accepted work nor a pending routing to route again; route it first.",
            errors=["voiceCallId: no AgentWork and no PendingServiceRouting"],
        )


class CallEnded(Conflict):
    """An ended call that is not a voicemail: nobody is left on the line to offer to an agent."""

    code = "CALL_ENDED"

    def __init__(self, call_id: str, request: str) -> None:
        super().__init__(
            f"Call {call_id} has ended: {request} would offer a dead call to an agent (only voicemails are "
            "routed after their end).",
            errors=["voiceCallId: the call has ended (endTime set or isActiveCall false) and is not a voicemail"],
        )


class ConcurrentRouting(Exception):
    """Another transaction created the work item's PSR at the same moment: the unit of work is retried."""
