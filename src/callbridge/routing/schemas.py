"""Request and response bodies of the routing endpoints, with the field names real clients send."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from callbridge.voice_calls.schemas import JsonObject, OptionalIsoDateTime, PhoneNumber, RestoresPlus, Trimmed


class OmniFlowRequest(RestoresPlus):
    """Body of ``PATCH /voiceCalls/{id}/omniFlow``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    PHONE_FIELDS: ClassVar[tuple[str, ...]] = ("dialedNumber",)

    dialed_number: PhoneNumber | None = Field(
        default=None, alias="dialedNumber", max_length=64, description="Finds the phone channel whose flow applies."
    )
    flow_dev_name: Trimmed | None = Field(
        default=None,
        validation_alias=AliasChoices("flowDevName", "flowName"),
        serialization_alias="flowDevName",
        max_length=255,
        description="The flow's API name (the demo connector's flowName is the same field).",
    )
    fallback_queue: Trimmed | None = Field(
        default=None, alias="fallbackQueue", max_length=1024, description="Queue API name, 00G id or external id."
    )
    flow_input_parameters: JsonObject = Field(
        default=None,
        alias="flowInputParameters",
        description="Flow inputs (input.* in rules): an object, or a JSON object serialised as a string.",
    )
    transfer_target: Trimmed | None = Field(
        default=None, alias="transferTarget", max_length=1024, description="Given to the flow as input.transferTarget."
    )


class OmniFlowResult(BaseModel):
    """``agent`` and ``queue`` are the external ids of the target (its Salesforce id when it has none); a key
    that does not apply is left out, never null."""

    model_config = ConfigDict(json_schema_extra={"example": {"queue": "arn:aws:connect:…:queue/q-support"}})

    agent: str | None = None
    queue: str | None = None

    def body(self) -> dict[str, str]:
        return {key: value for key, value in (("agent", self.agent), ("queue", self.queue)) if value is not None}


class RouteRequest(BaseModel):
    """Body of ``PATCH /voiceCalls/route/{id}`` and ``POST /voiceCalls/{id}/routeVoiceCall``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    routing_target: Trimmed = Field(
        alias="routingTarget",
        min_length=1,
        max_length=1024,
        description="An agent (005 user id, username or external id), a queue (00G id, API name or external id) "
        "or a flow (300 id or API name).",
    )
    fallback_queue: Trimmed | None = Field(default=None, alias="fallbackQueue", max_length=1024)
    flow_input_parameters: JsonObject = Field(default=None, alias="flowInputParameters")


class CallbackRequest(RestoresPlus):
    """Body of ``POST /voiceCalls/{id}/requestCallback`` (JSON only)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    PHONE_FIELDS: ClassVar[tuple[str, ...]] = ("callbackNumber",)

    callback_number: PhoneNumber = Field(alias="callbackNumber", min_length=1, max_length=255)
    is_preview_callback: bool = Field(default=False, alias="isPreviewCallback")
    scheduled_routing_date_time: OptionalIsoDateTime = Field(
        default=None, alias="scheduledRoutingDateTime", description="When to route it (ISO-8601 UTC); now if absent."
    )


class NoBody(BaseModel):
    """No body: an empty one, ``null`` or an object (whose fields are ignored)."""

    model_config = ConfigDict(extra="ignore")


class RoutingStatus(BaseModel):
    status: str = "Success"


class CallbackCreated(BaseModel):
    recordId: str = Field(description="The ContactRequest id (0SR…).")


class PendingRoutingOut(BaseModel):
    id: str
    workItemId: str
    workItemType: str
    routingType: str
    queueId: str | None
    queueName: str | None
    skills: dict[str, Any]
    preferredUserId: str | None
    isPreferredUserRequired: bool
    priority: int
    pushTimeout: int
    capacityWeight: int
    isTransfer: bool
    isReadyForRouting: bool
    readyAt: datetime
    offeredTo: str | None
    offerId: str | None
    passedOver: list[str]
    decision: dict[str, Any]
    createdAt: datetime


class AgentWorkOut(BaseModel):
    id: str
    userId: str
    username: str | None
    workItemId: str
    workItemType: str
    status: str
    offeredAt: datetime
    expiresAt: datetime | None
    acceptedAt: datetime | None
    endedAt: datetime | None
    endReason: str | None


class ContactRequestOut(BaseModel):
    id: str
    callbackNumber: str
    isPreviewCallback: bool
    scheduledRoutingDateTime: datetime | None
    status: str
    createdAt: datetime


class CallRouting(BaseModel):
    """A Callbridge addition: a call's routing as it stands, for integrators and supervisors."""

    voiceCallId: str
    ownerId: str | None = Field(description="The agent holding the call's open work, else the queue waited in.")
    agent: str | None
    pendingServiceRoutings: list[PendingRoutingOut]
    agentWork: list[AgentWorkOut]
    contactRequests: list[ContactRequestOut]
