"""GET /api/history (the charts' last five minutes, for a page that loads or reloads) and
GET /api/kv-cache (the router's prefill-side KV cache hit rate, as the screens show it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from loadgen.api.screen_history import HistoryView, KvReading, ScreenHistory

router = APIRouter(prefix="/api", tags=["history"])


def get_history(request: Request) -> ScreenHistory:
    history: ScreenHistory = request.app.state.screen_history
    return history


HistoryDep = Annotated[ScreenHistory, Depends(get_history)]


@router.get("/history")
async def history(
    screens: HistoryDep,
    after: Annotated[
        float | None,
        Query(ge=0, allow_inf_nan=False, description="only points after this epoch second"),
    ] = None,
) -> HistoryView:
    """One point a second over the last five minutes (oldest first), and the KV reading now."""
    return screens.view(after)


@router.get("/kv-cache")
async def kv_cache(screens: HistoryDep) -> KvReading:
    """`live` with the ratio, `no_data` (no prompts in the last minute) or `unavailable`
    (Prometheus down, silent or not configured): never an old number shown as current."""
    return screens.kv()
