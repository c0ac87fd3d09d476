"""Request and response bodies of the console API (JSON)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Presence(StrEnum):
    available = "Available"
    busy = "Busy"
    offline = "Offline"


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    orgId: str | None = Field(default=None, description="Only needed when the username exists in several orgs.")


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
