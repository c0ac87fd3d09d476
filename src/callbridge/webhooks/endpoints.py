"""``GET /console/v1/webhooks``: the org's webhook subscriptions with their delivery status and lag, for the
supervisor view (supervisors only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from callbridge.console.dependencies import current_agent
from callbridge.console.errors import NotSupervisor
from callbridge.console.sessions import SignedIn
from callbridge.errors import ErrorBody, error_responses
from callbridge.kit.state import app_state
from callbridge.webhooks import store

router = APIRouter(prefix="/console/v1", tags=["Console"])


class WebhookStatus(BaseModel):
    """A subscription's delivery figures (``callbridge webhooks list`` shows the same)."""

    id: int
    orgId: str
    url: str
    events: list[str]
    callCenters: list[str] = Field(description="Call-center API names it is limited to (empty: all).")
    status: str = Field(description="active, or disabled (e.g. after a 410 Gone).")
    statusReason: str | None
    cursor: int = Field(description="The last event id settled (delivered, dead-lettered or not wanted).")
    delivered: int
    failed: int = Field(description="Failed attempts.")
    deadLettered: int = Field(description="Events given up on after the retry window.")
    retrying: int = Field(description="Events being retried now (0 or 1: delivery is sequential).")
    lag: int = Field(description="Events of its call centers after the cursor.")
    oldestUndeliveredAgeSeconds: float
    nextAttemptAt: datetime | None


@router.get(
    "/webhooks",
    summary="The org's webhook subscriptions with delivery status and lag (supervisors)",
    response_model=list[WebhookStatus],
    responses={**error_responses(401), 403: {"model": ErrorBody, "description": "NOT_SUPERVISOR"}},
)
async def list_webhooks(request: Request, signed: SignedIn = Depends(current_agent)) -> list[WebhookStatus]:
    if not signed.is_supervisor:
        raise NotSupervisor()
    state = app_state(request)
    async with state.database.read_session() as session:
        found = await store.statuses(session, state.clock.now(), org_id=signed.agent.org_id)
    return [WebhookStatus.model_validate(status.as_json()) for status in found]
