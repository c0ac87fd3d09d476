"""Errors of the transcript endpoints."""

from __future__ import annotations

from collections.abc import Sequence

from callbridge.config import LimitsProfile
from callbridge.errors import InvalidRequest, NotFound


class VendorCallKeyRequired(NotFound):
    code = "VENDOR_CALL_KEY_REQUIRED"

    def __init__(self, given: str) -> None:
        super().__init__(
            f"'{given}' is a VoiceCall id; transcripts are addressed by the vendorCallKey of the conversation's "
            "first VoiceCall.",
            errors=["vendorCallKey: must be the telephony vendor's call key, not a Salesforce VoiceCall id (0LQ...)"],
        )


class BulkLimitExceeded(InvalidRequest):
    code = "BULK_LIMIT_EXCEEDED"

    def __init__(self, problems: Sequence[str], *, profile: LimitsProfile = LimitsProfile.off) -> None:
        which = (
            "the salesforce limits profile's 5 entries of 5 messages"
            if profile is LimitsProfile.salesforce
            else "CALLBRIDGE_TRANSCRIPT_BULK_MAX_ENTRIES / _MAX_MESSAGES"
        )
        super().__init__(f"The request exceeds the bulk transcript limits ({which}).", errors=problems)


class ConversationNotFound(NotFound):
    code = "CONVERSATION_NOT_FOUND"

    def __init__(self, identifier: str) -> None:
        super().__init__(f"No conversation '{identifier}' in this call center.")


class InvalidCursor(InvalidRequest):
    code = "INVALID_CURSOR"

    def __init__(self, cursor: str) -> None:
        super().__init__(
            f"'{cursor}' is not a cursor this server gave out.",
            errors=["after: must be the `next` value of a previous page"],
        )
