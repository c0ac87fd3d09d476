"""The event types a webhook may ask for: the push channel's catalogue, and the call record sent when a call
ends (the whole record, as Amazon Connect's contact-record stream sends it)."""

from __future__ import annotations

from typing import get_args

from callbridge.events.schemas import AnyEvent

CALL_RECORD = "voice_call.record"
CATALOGUE_TYPES: frozenset[str] = frozenset(
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(AnyEvent)
)
EVENT_TYPES: frozenset[str] = CATALOGUE_TYPES | {CALL_RECORD}
TEST_TYPE = "webhook.test"  # sent by `callbridge webhooks test` only
