"""Errors of the newest telephony endpoints and of the console's voicemail-drop picker."""

from __future__ import annotations

from callbridge.errors import CallbridgeError, InvalidRequest, NotFound, TooManyRequests


class VoicemailDropNotFound(NotFound):
    """No drop was picked for the call: the Lambda reads this 404 as "no drop"."""

    code = "VOICEMAIL_DROP_NOT_FOUND"

    def __init__(self, call_id: str) -> None:
        super().__init__(f"No voicemail drop was picked for the call '{call_id}'.")


class DefaultOutboundNumberNotFound(NotFound):
    code = "DEFAULT_OUTBOUND_NUMBER_NOT_FOUND"

    def __init__(self, external_rep_id: str) -> None:
        super().__init__(
            f"Neither an agent with external id '{external_rep_id}' nor the call center has a default_outbound_number."
        )


class VoicemailGreetingNotFound(NotFound):
    code = "VOICEMAIL_GREETING_NOT_FOUND"

    def __init__(self, number: str) -> None:
        super().__init__(f"No phone channel of this call center with number '{number}' has a voicemail_greeting_url.")


class NumberPoolNotConfigured(CallbridgeError):
    """403 ``PERM_MISSING``, the body Salesforce's Lambda tests model for an org without the number pool."""

    status_code = 403
    code = "PERM_MISSING"

    def __init__(self, call_center: str) -> None:
        super().__init__(
            f"The call center '{call_center}' has no routable_numbers: the number pool is not set up for it.",
            errors=["routable_numbers: not configured for this call center (docs/configuration.md)"],
        )


class NumberPoolExhausted(TooManyRequests):
    def __init__(self, retry_after: int, size: int) -> None:
        super().__init__(
            f"Every one of the {size} routable numbers is reserved; one is free again in {retry_after} s.",
            retry_after=retry_after,
        )


class UnknownVoicemailDrop(InvalidRequest):
    code = "UNKNOWN_VOICEMAIL_DROP"

    def __init__(self, name: str, call_center: str, names: list[str]) -> None:
        listed = ", ".join(names) if names else "none"
        super().__init__(
            f"No voicemail drop '{name}' in the call center {call_center}.",
            errors=[f"name: no voicemail drop {name!r} in {call_center} (drops: {listed})"],
        )
