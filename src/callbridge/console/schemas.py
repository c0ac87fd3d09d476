"""Request and response bodies of the console API (JSON)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callbridge.kit.bounds import NoNul
from callbridge.routing.schemas import PendingRoutingOut


class Presence(StrEnum):
    available = "Available"
    busy = "Busy"
    offline = "Offline"


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, NoNul] = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    orgId: Annotated[str, NoNul] | None = Field(
        default=None, description="Only needed when the username exists in several orgs."
    )


class AgentOut(BaseModel):
    userId: str
    username: str
    orgId: str
    role: str = Field(description="agent or supervisor")
    presence: Presence
    capacity: int
    capacityUsed: int


class SessionCreated(BaseModel):
    token: str = Field(description="Send as Authorization: Bearer <token> (or keep the callbridge_session cookie).")
    expiresAt: datetime
    agent: AgentOut


class PresenceUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Presence


class Offer(BaseModel):
    id: str = Field(description="The offer's id: the AgentWork (0Bz…) in status Assigned.")
    voiceCallId: str
    vendorCallKey: str | None
    workItemId: str
    workItemType: str = Field(description="VoiceCall or ContactRequest")
    queue: str | None
    routingType: str
    skills: dict[str, Any]
    priority: int
    isTransfer: bool
    offeredAt: datetime
    expiresAt: datetime | None = Field(description="null: the offer does not expire")
    fromPhoneNumber: str | None
    toPhoneNumber: str | None
    callbackNumber: str | None = None
    isPreviewCallback: bool | None = None


class OfferAccepted(BaseModel):
    workId: str
    voiceCallId: str


class OfferDeclined(BaseModel):
    id: str
    status: str


class Work(BaseModel):
    id: str
    userId: str
    username: str | None
    voiceCallId: str
    vendorCallKey: str | None
    workItemId: str
    workItemType: str
    status: str
    acceptedAt: datetime | None


class WorkClosed(BaseModel):
    id: str
    status: str


class CallState(BaseModel):
    voiceCallId: str
    isOnHold: bool
    isRecordingPaused: bool
    changed: bool = Field(description="false when the call was already in that state")


class AgentLoad(BaseModel):
    """An agent as a supervisor sees them: presence, and the capacity their offers and work hold."""

    userId: str
    username: str
    role: str
    presence: Presence
    capacity: int
    capacityUsed: int
    offers: int = Field(description="Standing offers (AgentWork Assigned).")
    openWork: int = Field(description="Accepted work not yet closed (AgentWork Opened).")
    statusChangedAt: datetime | None = Field(description="When the presence last changed; null: never signed in.")


class LiveCallStatus(StrEnum):
    unrouted = "unrouted"
    waiting = "waiting"
    offered = "offered"
    connected = "connected"


class LiveCall(BaseModel):
    """An active call of the org (isActiveCall, no end time) and where it stands in routing."""

    voiceCallId: str
    vendorCallKey: str
    conversationId: str
    callCenterApiName: str | None
    callType: str
    fromPhoneNumber: str | None
    toPhoneNumber: str | None
    queueName: str | None
    agent: str | None = Field(description="The username of the agent holding its open work.")
    status: LiveCallStatus = Field(
        description="unrouted (no routing yet), waiting (for an agent), offered (to one agent now), connected."
    )
    isOnHold: bool
    isRecordingPaused: bool
    startedAt: datetime = Field(description="callStartDateTime, else when the record was created.")
    psrId: str | None
    workId: str | None


class PendingRouting(PendingRoutingOut):
    """A pending routing with what a supervisor needs to judge it: the call, and whether it is stale."""

    vendorCallKey: str | None
    fromPhoneNumber: str | None
    callEnded: bool = Field(description="The call is no longer active (isActiveCall false or an end time).")
    stale: bool = Field(
        description="A missed or abandoned call's routing that still waits for an agent (the call ended; not a "
        "voicemail or callback, which wait on purpose): clear it with POST /console/v1/pending/{id}/clear."
    )


class PendingCleared(BaseModel):
    id: str = Field(description="The PendingServiceRouting that was removed (its standing offer withdrawn).")
    workItemId: str
    voiceCallId: str
    status: Literal["Cleared"] = "Cleared"


class WaitingCallback(BaseModel):
    """A callback (ContactRequest) that nothing could route: it waits for a supervisor to act on it."""

    id: str = Field(description="The ContactRequest id (0SR…).")
    voiceCallId: str
    vendorCallKey: str | None
    queueName: str | None = Field(description="The original call's queue, when it had one.")
    callbackNumber: str
    isPreviewCallback: bool
    scheduledRoutingDateTime: datetime | None
    status: str
    createdAt: datetime
