"""Nothing silently lost: the arithmetic every finished session summary must satisfy.

Per workload, once a session has stopped (nothing in flight, nothing queued):
  arrivals   == dispatched + dropped        (an arrival is sent, or dropped with a reason)
  dispatched == first requests' outcomes    (ok + errors + stopped; for chat, turn 1's)
  reasons    == errors + dropped            (every error and drop carries a reason)
and no reason is blank or "none". Stopped means cut by the presenter's stop: not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WORKLOADS = ("chat", "summarization", "reasoning")


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
