"""GET /api/status: state, config, live aggregates, follow-up source."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from fastapi import APIRouter

from loadgen.api.deps import RuntimeDep
from loadgen.api.schemas import FollowupView, StatusResponse

router = APIRouter(prefix="/api", tags=["status"])


@router.get("/status")
async def get_status(runtime: RuntimeDep) -> StatusResponse:
    engine = runtime.engine
    summary = engine.last_summary or {}
    return StatusResponse(
        state=engine.state,
        endpoint=runtime.settings.endpoint_url,
        model=runtime.settings.model,
        config=engine.config,
        overflow=engine.settings.overflow,
        active_preset=runtime.active_preset,
        slos=dict(runtime.script.slos),
        live=engine.snapshot(),
        followup=FollowupView.model_validate(asdict(runtime.questions.status())),
        conversations=len(runtime.conversations),
        last_summary_file=summary.get("file"),
        generated_at=datetime.now(UTC),
    )
