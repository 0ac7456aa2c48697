"""The session accounting the fault tests rely on (demo_testing.accounting), on hand-made
summaries: it must catch what it claims to, every chat turn included."""

from __future__ import annotations

from typing import Any

from demo_testing.accounting import unaccounted


def _counts(ok: int, errors: int = 0, stopped: int = 0) -> dict[str, Any]:
    return {"ok": ok, "errors": errors, "stopped": stopped}


def _workload(ok: int, errors: int = 0, arrivals: int | None = None) -> dict[str, Any]:
    dispatched = ok + errors if arrivals is None else arrivals
    reasons = {"timeout": errors} if errors else {}
    return {**_counts(ok, errors), "arrivals": dispatched, "dispatched": dispatched,
            "dropped": 0, "reasons": reasons}  # fmt: skip


def _summary() -> dict[str, Any]:
    # 5 conversations: 4 turn-1 successes (1 error), 3 asked turn 2, 2 turn 3, 2 turn 4,
    # 3 requests of turns 5+; 15 chat requests in all, 1 failed.
    turns = {"1": _counts(4, 1), "2": _counts(3), "3": _counts(2), "4": _counts(2),
             "5+": _counts(3)}  # fmt: skip
    chat = _workload(14, 1, arrivals=5)
    return {"workloads": {"chat": chat, "summarization": _workload(3), "reasoning": _workload(2)},
            "chat_turns": turns}  # fmt: skip


def test_a_consistent_summary_adds_up() -> None:
    assert unaccounted(_summary()) == []


def test_a_chat_request_missing_from_its_turn_is_caught() -> None:
    summary = _summary()
    summary["chat_turns"]["5+"]["ok"] = 2  # the workload still counts it
    assert unaccounted(summary) == ["chat: the turns' outcomes 14 != the workload's 15 "
                                    "(ok+errors+stopped)"]  # fmt: skip


def test_a_turn_asked_more_often_than_the_turn_before_succeeded_is_caught() -> None:
    summary = _summary()
    summary["chat_turns"]["2"] = _counts(3, 2)  # 5 asked after 4 successes of turn 1
    summary["chat_turns"]["5+"] = _counts(1)  # keep the workload total equal
    summary["workloads"]["chat"] |= {"ok": 12, "errors": 3, "reasons": {"timeout": 3}}
    assert unaccounted(summary) == ["chat: turn 2 has 5 outcomes after 4 successes of turn 1"]


def test_turns_five_and_on_need_a_successful_fourth_turn() -> None:
    summary = _summary()
    summary["chat_turns"]["4"] = _counts(0, 2)
    summary["workloads"]["chat"] |= {"ok": 12, "errors": 3, "reasons": {"timeout": 3}}
    assert unaccounted(summary) == ["chat: turn 5+ has 3 outcomes after 0 successes of turn 4"]
