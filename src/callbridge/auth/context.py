"""What an accepted token grants: the call center a request acts for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CallCenterContext:
    org_id: str  # 18-character form
    call_center_id: str
    call_center_api_name: str
    jti: str | None
    expires_at: datetime
