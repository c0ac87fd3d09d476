"""The timeline kinds of conversation intelligence. They are recorded with ``UnitOfWork.record_event``: their
``data`` is the typed event's payload, so the unit of work publishes the typed event after the commit and a
console resuming after an id replays the same event from storage (``callbridge.events.catalogue``)."""

from __future__ import annotations

SIGNAL = "intelligence.signal"
POST_CALL = "intelligence.post_call"
SENTIMENT_UPDATED = "voice_call.sentiment_updated"
