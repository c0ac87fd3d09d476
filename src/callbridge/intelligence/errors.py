"""Errors of the conversation intelligence endpoints."""

from __future__ import annotations

from callbridge.errors import Conflict, NotFound


class VendorCallKeyRequired(NotFound):
    code = "VENDOR_CALL_KEY_REQUIRED"

    def __init__(self, given: str) -> None:
        super().__init__(
            f"'{given}' is a VoiceCall id; conversation events are addressed by the vendorCallKey of the "
            "conversation's first VoiceCall.",
            errors=["vendorCallKey: must be the telephony vendor's call key, not a Salesforce VoiceCall id (0LQ...)"],
        )


class ConversationNotClosed(Conflict):
    code = "CONVERSATION_NOT_CLOSED"

    def __init__(self, vendor_call_key: str) -> None:
        super().__init__(
            f"The conversation of '{vendor_call_key}' is still open: post-call events are stored only after it "
            "closed (an update without isActiveCall closes it).",
            errors=["vendorCallKey: the conversation has not closed yet"],
        )
