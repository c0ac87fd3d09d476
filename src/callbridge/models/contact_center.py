"""The contact-centre configuration tables, written only by ``callbridge apply``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callbridge.kit.db import Base, UTCDateTime


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="org id as configured (JWT iss)")
    id15: Mapped[str] = mapped_column(
        String(15), unique=True, comment="the 15-character form: what a 15- or 18-character iss is matched on"
    )


class CallCenter(Base):
    __tablename__ = "call_centers"
    __table_args__ = (UniqueConstraint("org_id", "api_name"),)

    id: Mapped[str] = mapped_column(String(18), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    api_name: Mapped[str] = mapped_column(String(80), comment="JWT sub and callCenterApiName")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    organization: Mapped[Organization] = relationship(lazy="raise")


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("call_center_id", "fingerprint_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"), index=True)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), comment="certificate or public_key")
    pem: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(1024), comment="file path as written in the config, or inline")
    subject: Mapped[str | None] = mapped_column(String(1024))
    key_bits: Mapped[int]
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    call_center: Mapped[CallCenter] = relationship(lazy="raise")


class PhoneChannel(Base):
    __tablename__ = "phone_channels"
    __table_args__ = (UniqueConstraint("call_center_id", "dialed_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_center_id: Mapped[str] = mapped_column(ForeignKey("call_centers.id", ondelete="CASCADE"), index=True)
    dialed_number: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str | None] = mapped_column(String(255), comment="flow api_name")
    fallback_queue: Mapped[str | None] = mapped_column(String(255), comment="queue api_name")
    voicemail_greeting_url: Mapped[str | None] = mapped_column(String(2048))
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    call_center: Mapped[CallCenter] = relationship(lazy="raise")


class Queue(Base):
    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("org_id", "api_name"),)

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="00G id")
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    api_name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(1024))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    organization: Mapped[Organization] = relationship(lazy="raise")


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("org_id", "username"),)

    user_id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="005 user id")
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(1024))
    queues: Mapped[list[Any]] = mapped_column(default=list, comment="queue api_names")
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict, comment="skill name -> level")
    capacity: Mapped[int] = mapped_column(default=100)
    role: Mapped[str] = mapped_column(
        String(16), default="agent", server_default="agent", comment="agent or supervisor"
    )
    password_hash: Mapped[str | None] = mapped_column(String(255), comment="scrypt$n$r$p$salt$hash")
    default_outbound_number: Mapped[str | None] = mapped_column(String(16), comment="E.164 caller id")
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    organization: Mapped[Organization] = relationship(lazy="raise")


class Flow(Base):
    __tablename__ = "flows"
    __table_args__ = (UniqueConstraint("org_id", "api_name"),)

    id: Mapped[str] = mapped_column(String(18), primary_key=True, comment="300 id")
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    api_name: Mapped[str] = mapped_column(String(255))
    definition: Mapped[dict[str, Any]] = mapped_column(comment="the flow as written in the config")
    # Many-to-one, for the unit of work's insert order; never loaded implicitly.
    organization: Mapped[Organization] = relationship(lazy="raise")


class ConfigRevision(Base):
    """One row per ``apply`` that changed something: what was applied, when, and what changed."""

    __tablename__ = "config_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    changes: Mapped[list[Any]] = mapped_column(default=list)
