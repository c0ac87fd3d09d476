"""ORM tables, one module per concern, all re-exported here (Alembic reads ``Base.metadata``)."""

from callbridge.kit.db import Base
from callbridge.models.contact_center import (
    Agent,
    CallCenter,
    Certificate,
    ConfigRevision,
    Flow,
    Organization,
    PhoneChannel,
    Queue,
)
from callbridge.models.timeline import TimelineEntry
from callbridge.models.token import SeenTokenId
from callbridge.models.voice_call import Conversation, ConversationParticipant, VoiceCall, VoiceCallRecording

__all__ = [
    "Agent",
    "Base",
    "CallCenter",
    "Certificate",
    "ConfigRevision",
    "Conversation",
    "ConversationParticipant",
    "Flow",
    "Organization",
    "PhoneChannel",
    "Queue",
    "SeenTokenId",
    "TimelineEntry",
    "VoiceCall",
    "VoiceCallRecording",
]
