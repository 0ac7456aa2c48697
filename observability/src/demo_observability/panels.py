"""Small typed helpers over grafana-foundation-sdk: the few panel shapes the dashboards use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dash_b
from grafana_foundation_sdk.builders import prometheus as prom_b
from grafana_foundation_sdk.builders import stat as stat_b
from grafana_foundation_sdk.builders import timeseries as ts_b
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dash

from demo_observability.scope import (
    CLUSTER_ONLY_NOTE,
    LOCAL_ONLY_NOTE,
    cluster_only,
    local_only,
)

DATASOURCE = dash.DataSourceRef(type_val="prometheus", uid="${datasource}")
# The load generator reports demo time (wall x SPEED); Dynamo and Prometheus's rate() use wall
# time. The booth runs SPEED=1, where both agree.
SPEED_NOTE = (
    "On the local stack at SPEED > 1, Dynamo's numbers and per-second rates are in wall time: "
    "latencies are 1/SPEED and rates SPEED times the real-hardware equivalent."
)


@dataclass(frozen=True)
class Q:
    """One PromQL target: the expression and its legend."""

    expr: str
    legend: str = "__auto"


@dataclass(frozen=True)
class Grid:
    """Panel position on Grafana's 24-column grid (one height unit = 30 px)."""

    x: int
    y: int
    w: int
    h: int

    def pos(self) -> dash.GridPos:
        return dash.GridPos(x=self.x, y=self.y, w=self.w, h=self.h)


def _target(q: Q, ref: str, *, instant: bool = False) -> prom_b.Dataquery:
    target = prom_b.Dataquery().expr(q.expr).legend_format(q.legend).ref_id(ref)
    target = target.datasource(DATASOURCE)
    return target.instant() if instant else target.range()


def _description(text: str, queries: list[Q]) -> str:
    """Where the numbers come from, with the scope note the tests insist on."""
    notes = []
    if any(cluster_only(q.expr) for q in queries):
        notes.append(f"{CLUSTER_ONLY_NOTE}: needs dcgm-exporter on the GPU nodes.")
    if any(local_only(q.expr) for q in queries):
        notes.append(f"{LOCAL_ONLY_NOTE}: the local pool supervisor's metrics.")
    return " ".join([text, *notes])


def _thresholds(steps: list[tuple[float | None, str]]) -> dash_b.ThresholdsConfig:
    return (
        dash_b.ThresholdsConfig()
        .mode(dash.ThresholdsMode.ABSOLUTE)
        .steps([dash.Threshold(value=v, color=c) for v, c in steps])
    )


def timeseries(
    title: str,
    description: str,
    queries: list[Q],
    grid: Grid,
    *,
    unit: str,
    thresholds: list[tuple[float | None, str]] | None = None,
    min_value: float | None = 0,
    max_value: float | None = None,
    dashed_regex: str | None = None,
) -> ts_b.Panel:
    """A time series; `thresholds` draw as dashed lines, `dashed_regex` dashes matching series."""
    panel = (
        ts_b.Panel()
        .title(title)
        .description(_description(description, queries))
        .datasource(DATASOURCE)
        .grid_pos(grid.pos())
        .unit(unit)
        .line_width(2)
        .fill_opacity(8)
        .show_points(common.VisibilityMode.NEVER)
        .legend(
            common_b.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(common_b.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
        .targets([_target(q, chr(ord("A") + i)) for i, q in enumerate(queries)])
    )
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    if thresholds:
        panel = panel.thresholds(_thresholds(thresholds)).thresholds_style(
            common_b.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
        )
    if dashed_regex:
        panel = panel.override_by_regexp(
            dashed_regex,
            [
                dash.DynamicConfigValue(
                    id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}
                ),
                dash.DynamicConfigValue(id_val="custom.fillOpacity", value=0),
            ],
        )
    return panel


def stat(
    title: str,
    description: str,
    queries: list[Q],
    grid: Grid,
    *,
    unit: str,
    thresholds: list[tuple[float | None, str]] | None = None,
    text_mode: common.BigValueTextMode = common.BigValueTextMode.VALUE_AND_NAME,
    decimals: int | None = None,
    no_value: str | None = None,
) -> stat_b.Panel:
    """A big number (or name) readable from the booth's aisle."""
    panel = (
        stat_b.Panel()
        .title(title)
        .description(_description(description, queries))
        .datasource(DATASOURCE)
        .grid_pos(grid.pos())
        .unit(unit)
        .text_mode(text_mode)
        .color_mode(common.BigValueColorMode.VALUE)
        .graph_mode(common.BigValueGraphMode.NONE)
        .justify_mode(common.BigValueJustifyMode.CENTER)
        .reduce_options(common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .text(common_b.VizTextDisplayOptions().title_size(20).value_size(48))
        .targets([_target(q, chr(ord("A") + i), instant=True) for i, q in enumerate(queries)])
    )
    if thresholds:
        panel = panel.thresholds(_thresholds(thresholds))
    if decimals is not None:
        panel = panel.decimals(decimals)
    if no_value is not None:
        panel = panel.no_value(no_value)
    return panel


def as_json(model: object) -> dict[str, Any]:
    """A built SDK model as plain JSON data (the SDK's to_json() is one level deep)."""
    data: dict[str, Any] = json.loads(json.dumps(model, cls=JSONEncoder))
    return data


def annotation(name: str, expr: str, color: str, title: str, tags: list[str]) -> dict[str, Any]:
    """A Prometheus annotation (events as series > 0), as Grafana stores it."""
    query = (
        dash_b.AnnotationQuery()
        .name(name)
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color(color)
        .expr(expr)
        .build()
    )
    out = as_json(query)
    # Prometheus-annotation fields the SDK's generic AnnotationQuery does not model.
    out.update({"step": "15s", "titleFormat": title, "tagKeys": ",".join(tags)})
    return out


def datasource_variable() -> dash_b.DatasourceVariable:
    return dash_b.DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def assemble(
    title: str,
    uid: str,
    description: str,
    tags: list[str],
    *,
    refresh: str,
    window: str,
    panels: list[Any],
    annotations: list[dict[str, Any]],
) -> dict[str, Any]:
    """A dashboard's JSON: its panels numbered in order, the datasource variable, annotations."""
    board = (
        dash_b.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(tags)
        .refresh(refresh)
        .time(window, "now")
        .timezone("browser")
        .tooltip(dash.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
    )
    for panel_id, panel in enumerate(panels, start=1):
        board = board.with_panel(panel.id(panel_id))
    out = as_json(board.build())
    out["annotations"] = {"list": annotations}
    return out
