"""ORM tables, one module per concern, all re-exported here (Alembic reads ``Base.metadata``)."""

from callbridge.kit.db import Base
from callbridge.models.agent_session import AgentSession, SignInAttempt
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
from callbridge.models.intelligence import ConversationEvent, ConversationEventEntry
from callbridge.models.outbound import RoutableNumberLease, VoiceCallContext, VoicemailDropPick
from callbridge.models.rate_limit import RateLimitCounter
from callbridge.models.routing import AgentState, AgentWork, ContactRequest, PendingServiceRouting
from callbridge.models.timeline import TimelineEntry
from callbridge.models.token import SeenTokenId
from callbridge.models.transcript import ConversationEntry, ConversationUpload
from callbridge.models.voice_call import Conversation, ConversationParticipant, VoiceCall, VoiceCallRecording
from callbridge.models.webhook import WebhookAttempt, WebhookSubscription

__all__ = [
    "Agent",
    "AgentSession",
    "AgentState",
    "AgentWork",
    "Base",
    "CallCenter",
    "Certificate",
    "ConfigRevision",
    "ContactRequest",
    "Conversation",
    "ConversationEntry",
    "ConversationEvent",
    "ConversationEventEntry",
    "ConversationParticipant",
    "ConversationUpload",
    "Flow",
    "Organization",
    "PendingServiceRouting",
    "PhoneChannel",
    "Queue",
    "RateLimitCounter",
    "RoutableNumberLease",
    "SeenTokenId",
    "SignInAttempt",
    "TimelineEntry",
    "VoiceCall",
    "VoiceCallContext",
    "VoiceCallRecording",
    "VoicemailDropPick",
    "WebhookAttempt",
    "WebhookSubscription",
]
