"""GET /api/presets and POST /api/presets/{name} (apply one; presenter token required)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from loadgen.api.deps import RuntimeDep, not_in_auto, require_presenter
from loadgen.api.schemas import ConfigResponse, PresetList

router = APIRouter(prefix="/api/presets", tags=["presets"])


@router.get("")
async def list_presets(runtime: RuntimeDep) -> PresetList:
    return PresetList(presets=list(runtime.script.presets), active_preset=runtime.active_preset)


@router.post(
    "/{name}",
    dependencies=[Depends(require_presenter), Depends(not_in_auto)],
    responses={404: {"description": "unknown preset"}},
)
async def apply_preset(name: str, runtime: RuntimeDep) -> ConfigResponse:
    """Apply a preset by id (`kv-cache`) or name (`KV Cache`); the load keeps running."""
    preset = runtime.script.preset(name)
    if preset is None:
        known = ", ".join(p.id for p in runtime.script.presets)
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"name: unknown preset {name!r} (known: {known})"
        )
    runtime.engine.configure(preset.load)
    runtime.active_preset = preset.id
    return ConfigResponse(config=preset.load, active_preset=preset.id)
