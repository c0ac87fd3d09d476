"""The wire contract of every event Callbridge publishes (one discriminated union on ``type``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class EventBase(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: int = Field(description="Monotonic event id: the timeline entry it comes from; resume after it.")
    voice_call_id: str | None = Field(alias="voiceCallId")
    call_center_id: str = Field(alias="callCenterId")
    occurred_at: datetime = Field(alias="occurredAt")


class TimelineRecorded(EventBase):
    """Something happened to a call: the timeline entry, as stored."""

    type: Literal["timeline.recorded"] = "timeline.recorded"
    version: Literal[1] = 1
    kind: str
    actor: str
    outcome: str
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


Event = Annotated[TimelineRecorded, Field(discriminator="type")]
