"""Operations endpoints: ``/healthz`` (alive), ``/readyz`` (ready to serve), ``/metrics`` (Prometheus).

None needs a token, and none is part of the API document: restrict them at the reverse proxy
(docs/deployment.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from callbridge.kit.state import app_state
from callbridge.ops import service
from callbridge.ops.metrics import exposition

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness, and the benchmarks' yardstick: no auth, no database."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database and the broker answer; 503 naming what is down otherwise."""
    readiness = await service.readiness(app_state(request))
    return JSONResponse(readiness.body(), status_code=200 if readiness.ready else 503)


@router.get("/metrics")
async def metrics() -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)
