"""Nothing silently lost: the arithmetic every finished session summary must satisfy.

Per workload, once a session has stopped (nothing in flight, nothing queued):
  arrivals   == dispatched + dropped        (an arrival is sent, or dropped with a reason)
  dispatched == first requests' outcomes    (ok + errors + stopped; for chat, turn 1's)
  reasons    == errors + dropped            (every error and drop carries a reason)
and no reason is blank or "none". Chat, every turn: each chat request is counted in exactly one
turn (the turns' outcomes sum to the workload's), and a turn is only asked after a successful
one (a failed turn ends its conversation): outcomes of turn n+1 <= successes of turn n.
Stopped means cut by the presenter's stop: not an error.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

WORKLOADS = ("chat", "summarization", "reasoning")
TURNS = ("1", "2", "3", "4", "5+")  # the summary's chat turn labels ("5+": turns 5, 6, ...)


def _outcomes(counts: Mapping[str, Any]) -> int:
    return int(counts["ok"]) + int(counts["errors"]) + int(counts.get("stopped", 0))


def unaccounted(summary: Mapping[str, Any]) -> list[str]:
    """What does not add up in a session summary (empty when everything does)."""
    problems: list[str] = []
    for workload in WORKLOADS:
        w = summary["workloads"][workload]
        arrivals, dispatched, dropped = w["arrivals"], w["dispatched"], w["dropped"]
        if arrivals != dispatched + dropped:
            problems.append(f"{workload}: arrivals {arrivals} != dispatched {dispatched} "
                            f"+ dropped {dropped}")  # fmt: skip
        if workload == "chat":
            first = summary.get("chat_turns", {}).get("1")
            started = _outcomes(first) if first else 0
        else:
            started = _outcomes(w)
        if dispatched != started:
            problems.append(f"{workload}: dispatched {dispatched} != first-request outcomes "
                            f"{started} (ok+errors+stopped)")  # fmt: skip
        reasons = w["reasons"]
        if sum(reasons.values()) != w["errors"] + dropped:
            problems.append(f"{workload}: reasons {reasons} do not sum to errors {w['errors']} "
                            f"+ dropped {dropped}")  # fmt: skip
        blank = [r for r in reasons if r in ("", "none")]
        if blank:
            problems.append(f"{workload}: errors or drops without a reason: {blank}")
    return problems + _chat_turns(summary)


def _chat_turns(summary: Mapping[str, Any]) -> list[str]:
    """Every chat turn reconciled with the workload and with the turn before it."""
    turns = summary.get("chat_turns", {})
    problems = [f"chat: unknown turn label {label!r}" for label in turns if label not in TURNS]
    chat = summary["workloads"]["chat"]
    counted = sum(_outcomes(t) for t in turns.values())
    if counted != _outcomes(chat):
        problems.append(f"chat: the turns' outcomes {counted} != the workload's "
                        f"{_outcomes(chat)} (ok+errors+stopped)")  # fmt: skip
    for before, after in itertools.pairwise(TURNS):
        asked = _outcomes(turns[after]) if after in turns else 0
        succeeded = int(turns[before]["ok"]) if before in turns else 0
        # "5+" holds turns 5, 6, ...: more than turn 4's successes, but none without one.
        bound = succeeded if after != "5+" else (asked if succeeded else 0)
        if asked > bound:
            problems.append(f"chat: turn {after} has {asked} outcomes after {succeeded} "
                            f"successes of turn {before}")  # fmt: skip
    return problems


def totals(summary: Mapping[str, Any]) -> dict[str, int]:
    """Arrivals and outcomes summed over the workloads (for reports)."""
    keys = ("arrivals", "dispatched", "ok", "errors", "dropped", "stopped")
    return {k: sum(int(summary["workloads"][w].get(k, 0)) for w in WORKLOADS) for k in keys}


def error_reasons(summary: Mapping[str, Any]) -> dict[str, int]:
    """Error and drop reasons summed over the workloads."""
    out: dict[str, int] = {}
    for workload in WORKLOADS:
        for reason, n in summary["workloads"][workload]["reasons"].items():
            out[reason] = out.get(reason, 0) + int(n)
    return out
