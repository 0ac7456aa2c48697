"""The metric registry is the one list: exporter, tallies, snapshot and summary all follow it."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from loadgen.demo_script.models import Slo
from loadgen.metrics.prometheus import LoadgenMetrics
from loadgen.metrics.registry import LATENCIES, TOKEN_KINDS
from loadgen.metrics.snapshot import TurnWindow, WorkloadWindow
from loadgen.metrics.tally import Tally
from loadgen.records import WORKLOADS, RequestRecord

MS = 1_000_000
SLOS = {
    w: Slo(ttft_p95_s=0.6 if w != "summarization" else 4.5, itl_p95_s=0.06, max_gap_p95_s=0.5)
    for w in WORKLOADS
}


def _record() -> RequestRecord:
    record = RequestRecord(
        request_id="r", workload="chat", turn=2, conversation_id="c", status="ok", reason="none",
        intended_ns=0, send_ns=3 * MS, first_token_ns=103 * MS, second_token_ns=123 * MS,
        last_token_ns=163 * MS, gaps=[(20 * MS, 1), (40 * MS, 2)],
        input_tokens=1000, output_tokens=4, cached_tokens=800,
    )  # fmt: skip
    record.measure_stalls()  # as the client does at request end
    return record


def test_every_registry_metric_is_in_the_snapshot_models() -> None:
    fields = set(WorkloadWindow.model_fields)
    assert {f"{m.key}_ms" for m in LATENCIES} <= fields
    assert {f"{kind}_tokens" for kind, _ in TOKEN_KINDS} <= fields
    # Per-turn views carry the latencies that are labelled by turn in Prometheus.
    assert {f"{m.key}_ms" for m in LATENCIES if m.by_turn} <= set(TurnWindow.model_fields)


def test_tally_summary_has_one_entry_per_registry_metric() -> None:
    tally = Tally()
    tally.add_record(_record())
    summary = tally.workloads["chat"].to_dict(seconds=1.0)
    for m in LATENCIES:
        assert summary[f"{m.key}_ms"]["count"] >= 1, m.key
    assert summary["itl_ms"]["count"] == 3  # 1 + 2 tokens: one observation per token
    assert (summary["input_tokens"], summary["output_tokens"], summary["cached_tokens"]) == (
        1000, 4, 800,
    )  # fmt: skip


def _samples(metrics: LoadgenMetrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def test_prometheus_exports_each_latency_with_the_slo_as_a_bucket_edge() -> None:
    metrics = LoadgenMetrics(SLOS)
    metrics.observe(_record())
    samples = _samples(metrics)
    for m in LATENCIES:
        buckets = samples[f"{m.prometheus}_bucket"]
        edges = {float(labels["le"]) for labels, _ in buckets}
        if m.slo_s is not None:
            assert {m.slo_s(s) for s in SLOS.values()} <= edges, m.key
        counts = [
            v for labels, v in samples[f"{m.prometheus}_count"] if labels["workload"] == "chat"
        ]
        assert sum(counts) >= 1, m.key
    ttft = {labels["turn"]: v for labels, v in samples["loadgen_ttft_seconds_count"]
            if labels["workload"] == "chat"}  # fmt: skip
    assert (ttft["1"], ttft["2"]) == (0, 1)
    itl_sum = [
        v for labels, v in samples["loadgen_itl_seconds_sum"] if labels["workload"] == "chat"
    ]
    assert itl_sum == [pytest.approx(0.020 + 2 * 0.020)]  # 40 ms over 2 tokens = 2 x 20 ms
    tokens = {labels["kind"]: v for labels, v in samples["loadgen_tokens_total"]
              if labels["workload"] == "chat"}  # fmt: skip
    assert tokens == {"input": 1000, "output": 4, "cached": 800}


def test_weighted_observe_exports_what_one_observe_per_token_would() -> None:
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from loadgen.metrics.prometheus import observe_weighted

    pairs = [(20 * MS, 1), (60 * MS, 3), (1.5 * MS, 2), (60_000 * MS, 1), (7 * MS, 0)]
    exports = []
    for batched in (False, True):
        registry = CollectorRegistry()
        hist = Histogram("itl", "per token", ["workload"], buckets=(0.002, 0.02, 0.06, 1.0),
                         registry=registry)  # fmt: skip
        child = hist.labels("chat")
        if batched:
            observe_weighted(child, pairs)
        else:
            for value_ns, weight in pairs:
                for _ in range(weight):
                    child.observe(value_ns / 1e9)
        families = text_string_to_metric_families(generate_latest(registry).decode())
        exports.append({(s.name, s.labels.get("le")): s.value for f in families for s in f.samples})
    one_by_one, batched_export = exports
    assert batched_export.keys() == one_by_one.keys()
    for key, value in one_by_one.items():
        assert batched_export[key] == pytest.approx(value, rel=1e-12), key
    assert one_by_one[("itl_bucket", "0.06")] == 6  # the 60 ms ones sit on the edge: le is <=
