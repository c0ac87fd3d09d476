"""The picklist values of VoiceCall, matched without regard to case as real clients spell them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar


class CallType(StrEnum):
    inbound = "Inbound"
    outbound = "Outbound"
    transfer = "Transfer"
    callback = "Callback"
    consult = "Consult"


class CallDisposition(StrEnum):
    new = "new"
    in_progress = "in-progress"
    completed = "completed"


CALL_SUBTYPES = {"pstn": "PSTN", "webrtc": "WebRTC"}
CALL_ORIGINS = {"preview": "Preview", "progressive": "Progressive", "voicemail": "Voicemail"}

# Create takes Inbound and Transfer only; Outbound is refused as documented.
CREATE_INITIATION_METHODS = {"inbound": CallType.inbound, "transfer": CallType.transfer}

# Update also takes the Amazon Connect contact-record values CTR sync sends (API is rewritten to INBOUND
# by the client, but older versions sent it as is; WEBRTC_API is an inbound WebRTC call).
UPDATE_INITIATION_METHODS = {
    "inbound": CallType.inbound,
    "api": CallType.inbound,
    "webrtc_api": CallType.inbound,
    "outbound": CallType.outbound,
    "transfer": CallType.transfer,
    "callback": CallType.callback,
}


PicklistValue = TypeVar("PicklistValue", bound=str)


def pick(
    value: str | None, choices: Mapping[str, PicklistValue], field: str, problems: list[str]
) -> PicklistValue | None:
    """``value`` spelled as the picklist spells it, or None with a problem recorded."""
    if value is None:
        return None
    match = choices.get(value.strip().lower())
    if match is None:
        allowed = ", ".join(sorted(set(choices.values())))
        problems.append(f"{field}: '{value}' is not one of {allowed}")
    return match
