"""Errors of the VoiceCall endpoints."""

from __future__ import annotations

from callbridge.errors import InvalidRequest, NotFound


class VoiceCallNotFound(NotFound):
    code = "VOICE_CALL_NOT_FOUND"

    def __init__(self, call_id: str) -> None:
        super().__init__(f"No VoiceCall '{call_id}' in this call center.")


class CallCenterMismatch(InvalidRequest):
    code = "CALL_CENTER_MISMATCH"

    def __init__(self, given: str, expected: str) -> None:
        super().__init__(
            f"callCenterApiName '{given}' is not the call center of the token ('{expected}').",
            errors=[f"callCenterApiName: must be '{expected}', the call center named by the token's sub"],
        )


class ParentVoiceCallNotFound(InvalidRequest):
    code = "PARENT_VOICE_CALL_NOT_FOUND"

    def __init__(self, field: str, parent: str) -> None:
        super().__init__(
            f"The parent call '{parent}' does not exist in this call center.",
            errors=[f"{field}: no VoiceCall with id or vendorCallKey '{parent}' in this call center"],
        )
