"""Token ids (``jti``) already presented, kept until the token expires so replay memory survives restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from callbridge.kit.db import Base, UTCDateTime


class SeenTokenId(Base):
    __tablename__ = "seen_token_ids"

    call_center_id: Mapped[str] = mapped_column(String(18), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), comment="which token carried it first")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
