"""Routing state: pending routings (PSRs), agent work (offers and accepted work), agents' presence and
capacity, and callback requests. All of it lives here, in the database, so that several server processes
route as one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from callbridge.kit.db import Base, UTCDateTime


class PendingServiceRouting(Base):
    """Salesforce's PendingServiceRouting: one work item waiting for an agent (at most one per work item).

    ``offered_to`` / ``offer_id`` are set while one agent is being offered the work; the conditional update
    that sets them (``WHERE offered_to IS NULL``) is what keeps two agents from being offered it at once.
    """

    __tablename__ = "pending_service_routings"
    __table_args__ = (
        # Dispatch reads an org's ready, un-offered routings by priority then age; offered ones are skipped in it.
        Index(
            "ix_pending_service_routings_dispatch",
            "org_id",
            "is_ready_for_routing",
            "offer_id",
            "priority",
            "created_at",
            "id",
        ),
        Index("ix_pending_service_routings_queue_id", "queue_id"),  # a queue's backlog
    )

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="0JR id")
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"), index=True)
    work_item_id: Mapped[str] = mapped_column(String(18), unique=True, comment="the VoiceCall or ContactRequest")
    work_item_type: Mapped[str] = mapped_column(String(32), comment="VoiceCall or ContactRequest")
    voice_call_id: Mapped[str] = mapped_column(String(18), index=True, comment="the call whose timeline tells")
    conversation_id: Mapped[str] = mapped_column(String(18))
    routing_type: Mapped[str] = mapped_column(String(16), comment="QueueBased or SkillsBased")
    queue_id: Mapped[str | None] = mapped_column(String(18), comment="GroupId: the queue of a queue-based routing")
    queue_name: Mapped[str | None] = mapped_column(String(255))
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict, comment="skill -> minimum level")
    preferred_user_id: Mapped[str | None] = mapped_column(String(18))
    is_preferred_user_required: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[int] = mapped_column(comment="lower is routed first; ties go to the oldest")
    push_timeout: Mapped[int] = mapped_column(comment="seconds an offer stands; 0: no expiry")
    capacity_weight: Mapped[int] = mapped_column(default=100)
    is_transfer: Mapped[bool] = mapped_column(default=False)
    is_ready_for_routing: Mapped[bool] = mapped_column(default=True)
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="CustomRequestedDateTime for callbacks")
    offered_to: Mapped[str | None] = mapped_column(String(18), comment="the agent being offered it now")
    offer_id: Mapped[str | None] = mapped_column(String(18), comment="the AgentWork of the standing offer")
    declined_by: Mapped[list[Any]] = mapped_column(default=list, comment="agents passed over in this round")
    decision: Mapped[dict[str, Any]] = mapped_column(default=dict, comment="how the routing was decided")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentWork(Base):
    """Salesforce's AgentWork: an offer (``Assigned``) that becomes accepted work (``Opened``), or ends as
    ``Declined``, ``DeclinedOnPushTimeout`` or ``Canceled``; accepted work ends ``Closed`` or ``Transferred``.
    Capacity is held from the offer until the work ends."""

    __tablename__ = "agent_works"
    __table_args__ = (
        Index("ix_agent_works_user_id_status", "user_id", "status"),
        Index("ix_agent_works_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="0Bz id; an offer's id too")
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(18))
    psr_id: Mapped[str] = mapped_column(String(18), comment="the PendingServiceRouting it came from")
    work_item_id: Mapped[str] = mapped_column(String(18), index=True)
    work_item_type: Mapped[str] = mapped_column(String(32))
    voice_call_id: Mapped[str] = mapped_column(String(18), index=True)
    conversation_id: Mapped[str] = mapped_column(String(18))
    status: Mapped[str] = mapped_column(String(32))
    capacity_weight: Mapped[int]
    routing: Mapped[dict[str, Any]] = mapped_column(default=dict, comment="the PSR's routing, to reroute with")
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), comment="null: the offer does not expire")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(255))


class AgentState(Base):
    """An agent's presence and the capacity their offers and work hold (no row: Offline, nothing held)."""

    __tablename__ = "agent_states"

    user_id: Mapped[str] = mapped_column(ForeignKey("agents.user_id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(18), index=True)
    status: Mapped[str] = mapped_column(String(16), comment="Available, Busy or Offline")
    capacity_used: Mapped[int] = mapped_column(default=0)
    idle_since: Mapped[datetime] = mapped_column(UTCDateTime(), comment="last offer, end of work, or sign-in")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactRequest(Base):
    """A callback the customer asked for (``requestCallback``), routed like a call."""

    __tablename__ = "contact_requests"

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="0SR id")
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"), index=True)
    voice_call_id: Mapped[str] = mapped_column(String(18), index=True, comment="the call it was asked from")
    callback_number: Mapped[str] = mapped_column(String(255))
    is_preview_callback: Mapped[bool] = mapped_column(default=False)
    scheduled_routing_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(32), default="New")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
