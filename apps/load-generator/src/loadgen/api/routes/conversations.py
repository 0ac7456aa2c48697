"""GET /api/conversations and /api/conversations/{id}: recent chat conversations."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from loadgen.api.deps import RuntimeDep
from loadgen.workloads.conversations import Conversation, ConversationSummary

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


@router.get("")
async def list_conversations(runtime: RuntimeDep) -> list[ConversationSummary]:
    """Newest first (the store keeps a bounded number)."""
    return runtime.conversations.summaries()


@router.get("/{conversation_id}", responses={404: {"description": "unknown or evicted"}})
async def get_conversation(conversation_id: str, runtime: RuntimeDep) -> Conversation:
    conversation = runtime.conversations.get(conversation_id)
    if conversation is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"conversation_id: no conversation {conversation_id!r} (unknown or evicted)",
        )
    return conversation
