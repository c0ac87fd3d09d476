"""Typed bodies of the agents' console API (``/console/v1``), a Callbridge addition."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from callbridge.client.schemas import WireModel


class Presence(StrEnum):
    AVAILABLE = "Available"
    BUSY = "Busy"
    OFFLINE = "Offline"


class Agent(WireModel):
    user_id: str
    username: str
    org_id: str
    role: str = Field(description="agent or supervisor")
    presence: Presence
    capacity: int
    capacity_used: int


class Session(WireModel):
    """A signed-in agent: ``token`` is sent as ``Authorization: Bearer`` by the console client."""

    token: str
    expires_at: datetime
    agent: Agent


class Offer(WireModel):
    """Work offered to the agent (an AgentWork ``0Bz…`` in status Assigned) until ``expires_at``."""

    id: str
    voice_call_id: str
    vendor_call_key: str | None = None
    work_item_id: str
    work_item_type: str = Field(description="VoiceCall or ContactRequest")
    queue: str | None = None
    routing_type: str
    skills: dict[str, Any] = Field(default_factory=dict)
    priority: int
    is_transfer: bool = False
    offered_at: datetime
    expires_at: datetime | None = None
    from_phone_number: str | None = None
    to_phone_number: str | None = None
    callback_number: str | None = None
    is_preview_callback: bool | None = None


class OfferAccepted(WireModel):
    work_id: str
    voice_call_id: str


class OfferDeclined(WireModel):
    id: str
    status: str


class Work(WireModel):
    id: str
    user_id: str
    username: str | None = None
    voice_call_id: str
    vendor_call_key: str | None = None
    work_item_id: str
    work_item_type: str
    status: str
    accepted_at: datetime | None = None


class WorkClosed(WireModel):
    id: str
    status: str


class CallState(WireModel):
    """The call's transcript gates after hold/resume/pause-recording/resume-recording."""

    voice_call_id: str
    is_on_hold: bool
    is_recording_paused: bool
    changed: bool
