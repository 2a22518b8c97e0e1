"""Plotly figures from the dashboard's tables (queries, grid, load, replan)."""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PURCHASE_COLOURS = {"on-demand": "#2E86AB", "spot": "#F18F01"}
INTENSITY_SCALE = "RdYlGn_r"
INTENSITY_LABEL = "gCO2e/kWh"
HALF_HOUR = pd.Timedelta(minutes=30)


def _wrap(text: str, width: int = 80) -> str:
    return "<br>".join(textwrap.wrap(str(text), width)) or "-"


def _layout(fig: go.Figure, *, height: int, title: str | None = None,
            top: int | None = None) -> go.Figure:
    top = top if top is not None else (40 if title else 10)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": top, "b": 10},
                      title=title, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom",
                                           "x": 0, "xanchor": "left"},
                      hoverlabel={"align": "left"})
    return fig


def gantt(assignments: pd.DataFrame, intensity: pd.DataFrame | None) -> go.Figure:
    """One row per region x accelerator x workload, bars coloured by purchase option,
    each row's region's hourly intensity as a heatmap behind it."""
    frame = assignments.copy()
    frame["lane"] = frame["region"] + " · " + frame["accelerator"] + " · " + frame["workload"]
    frame = frame.sort_values(["region", "accelerator", "start"])
    lanes = list(dict.fromkeys(frame["lane"]))
    fig = go.Figure()
    if intensity is not None and not intensity.empty and intensity["region"].notna().any():
        grid = intensity.pivot_table(index="region", columns="ds", values="g_per_kwh")
        lane_region = frame.drop_duplicates("lane").set_index("lane")["region"]
        rows = [lane for lane in lanes if lane_region[lane] in grid.index]
        z = [grid.loc[lane_region[lane]].tolist() for lane in rows]
        fig.add_trace(go.Heatmap(
            x=[d + HALF_HOUR for d in grid.columns], y=rows, z=z, colorscale=INTENSITY_SCALE,
            opacity=0.45, name="grid intensity", showscale=True,
            colorbar={"title": {"text": INTENSITY_LABEL}, "len": 0.6},
            hovertemplate="%{y}<br>%{x|%m-%d %H}:00Z: %{z:.0f} gCO2e/kWh<extra></extra>"))
    for purchase, colour in PURCHASE_COLOURS.items():
        sub = frame[frame["purchase"] == purchase]
        if sub.empty:
            continue
        custom = list(zip(sub["workload"], sub["team"], sub["gpus"], sub["cost_usd"],
                          sub["emissions_kg"], sub["market_kg"],
                          sub["start"].dt.strftime("%m-%d %H:%MZ"),
                          sub["end"].dt.strftime("%m-%d %H:%MZ"),
                          [_wrap(r) for r in sub["reason"]], strict=True))
        fig.add_trace(go.Bar(
            base=sub["start"], x=(sub["end"] - sub["start"]).dt.total_seconds() * 1000,
            y=sub["lane"], orientation="h", name=purchase, marker_color=colour,
            marker_line={"width": 1, "color": "#333"}, customdata=custom,
            hovertemplate=("<b>%{customdata[0]}</b> (team %{customdata[1]}), "
                           "%{customdata[2]} GPUs<br>%{customdata[6]} to %{customdata[7]}<br>"
                           "$%{customdata[3]:,.0f}; %{customdata[4]:,.1f} kgCO2e location-based"
                           " (market-based %{customdata[5]:,.1f})<br>"
                           "why: %{customdata[8]}<extra>" + purchase + "</extra>")))
    fig.update_xaxes(type="date", title="UTC")
    fig.update_yaxes(categoryorder="array", categoryarray=lanes[::-1], title=None)
    fig.update_layout(barmode="overlay")
    return _layout(fig, height=max(320, 22 * len(lanes) + 120))


def intensity_heatmap(long: pd.DataFrame) -> go.Figure:
    grid = long.pivot_table(index="row", columns="ds", values="g_per_kwh")
    fig = go.Figure(go.Heatmap(
        x=list(grid.columns), y=list(grid.index), z=grid.values, colorscale=INTENSITY_SCALE,
        colorbar={"title": {"text": INTENSITY_LABEL}},
        hovertemplate="%{y}<br>%{x|%Y-%m-%d %H}:00Z<br>%{z:.0f} gCO2e/kWh<extra></extra>"))
    fig.update_xaxes(title="hour (UTC)")
    fig.update_yaxes(categoryorder="array", categoryarray=list(dict.fromkeys(long["row"]))[::-1])
    return _layout(fig, height=max(280, 34 * len(grid.index) + 100))


def forecast_vs_actual(df: pd.DataFrame, *, level: int, zone: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=df["ds"], y=df["hi"], line={"width": 0}, showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=df["ds"], y=df["lo"], line={"width": 0}, fill="tonexty",
                             fillcolor="rgba(46,134,171,0.2)", name=f"{level} % interval"))
    fig.add_trace(go.Scatter(x=df["ds"], y=df["mean"], name="forecast (mean)",
                             line={"color": "#2E86AB"}))
    fig.add_trace(go.Scatter(x=df["ds"], y=df["actual"], name="actual",
                             line={"color": "#222", "width": 2}))
    fig.add_trace(go.Scatter(x=df["ds"], y=df["persistence"], name="persistence (24 h ago)",
                             line={"color": "#999", "dash": "dot"}))
    if "published" in df:
        fig.add_trace(go.Scatter(x=df["ds"], y=df["published"], name="published forecast",
                                 line={"color": "#C73E1D", "dash": "dash"}))
    fig.update_yaxes(title=f"{zone} {INTENSITY_LABEL}")
    fig.update_xaxes(title="UTC")
    return _layout(fig, height=380)


def capacity(series: str, planned: pd.DataFrame, cap: int | None,
             load: pd.DataFrame | None, *, span: tuple | None = None) -> go.Figure:
    """One cluster/accelerator: forecast load with its interval, the plan on top, capacity."""
    fig = go.Figure()
    base = None
    if load is not None and not load.empty:
        fig.add_trace(go.Scatter(x=load["ds"], y=load["hi"], line={"width": 0},
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=load["ds"], y=load["lo"], line={"width": 0}, fill="tonexty",
                                 fillcolor="rgba(120,120,120,0.25)",
                                 name="forecast load interval"))
        fig.add_trace(go.Scatter(x=load["ds"], y=load["mean"], name="forecast load (mean)",
                                 line={"color": "#555"}))
        base = load.set_index("ds")["hi"]
    if not planned.empty:
        bottom = (planned["ds"].map(base).fillna(0.0) if base is not None else 0.0)
        fig.add_trace(go.Bar(x=planned["ds"] + HALF_HOUR, y=planned["gpus"], base=bottom,
                             name="planned GPUs" + (" (on the forecast's upper bound)"
                                                    if base is not None else ""),
                             marker_color="#2E86AB", opacity=0.8, width=3_000_000))
    if cap is not None:
        fig.add_hline(y=cap, line={"color": "#C73E1D", "dash": "dash"},
                      annotation_text=f"capacity {cap} GPUs", annotation_position="top left")
    fig.update_yaxes(title="GPUs", rangemode="tozero")
    fig.update_xaxes(type="date")
    if span is not None:
        fig.update_xaxes(range=list(span))
    _layout(fig, height=260, title=series)
    fig.update_layout(legend={"x": 1, "xanchor": "right"})  # clear of the title on the left
    return fig


REGION_COLOURS = ["#2E86AB", "#A23B72", "#F18F01", "#3B8B5A", "#C73E1D", "#6C5B7B",
                  "#8D99AE", "#E9C46A", "#264653"]


def serving(replicas: pd.DataFrame, demand: pd.DataFrame) -> go.Figure:
    """Per service: planned replicas by region (stacked bars) and demand (requests/s)."""
    workloads = sorted(replicas["workload"].unique())
    fig = make_subplots(rows=len(workloads), cols=1, shared_xaxes=True,
                        subplot_titles=workloads, vertical_spacing=0.08,
                        specs=[[{"secondary_y": True}] for _ in workloads])
    regions = sorted(replicas["region"].unique())
    colour = {r: REGION_COLOURS[i % len(REGION_COLOURS)] for i, r in enumerate(regions)}
    shown: set[str] = set()
    for row, workload in enumerate(workloads, 1):
        mine = replicas[replicas["workload"] == workload]
        for region, sub in mine.groupby("region"):
            fig.add_trace(go.Bar(x=sub["ds"] + HALF_HOUR, y=sub["replicas"], name=region,
                                 marker_color=colour[region], legendgroup=region,
                                 showlegend=region not in shown,
                                 hovertemplate=f"{region}: %{{y}} replicas<extra></extra>"),
                          row=row, col=1)
            shown.add(region)
        want = demand[demand["workload"] == workload]
        if not want.empty:
            fig.add_trace(go.Scatter(x=want["ds"] + HALF_HOUR, y=want["demand_rps"],
                                     name="demand (requests/s)", legendgroup="demand",
                                     showlegend=row == 1, line={"color": "#222", "shape": "hvh"},
                                     hovertemplate="%{y:,.1f} requests/s<extra></extra>"),
                          row=row, col=1, secondary_y=True)
        fig.update_yaxes(title_text="planned replicas", rangemode="tozero", row=row, col=1,
                         secondary_y=False)
        fig.update_yaxes(title_text="requests/s", rangemode="tozero", row=row, col=1,
                         secondary_y=True, showgrid=False)
    fig.update_layout(barmode="stack", bargap=0.1)
    _layout(fig, height=90 + 230 * len(workloads), top=80)
    fig.update_layout(legend={"y": 1.0 + 60 / (90 + 230 * len(workloads))})
    return fig


def tradeoffs(front: pd.DataFrame, points: pd.DataFrame) -> go.Figure:
    """The Pareto front (cost vs kgCO2e) with the stored plan, baselines and re-solve."""
    fig = go.Figure()
    if not front.empty:
        fig.add_trace(go.Scatter(
            x=front["emissions_kg"], y=front["cost_usd"], mode="lines+markers",
            name="Pareto front (min cost under a kgCO2e cap)", line={"color": "#2E86AB"},
            customdata=front[["gap_pct", "status"]],
            hovertemplate=("%{x:,.1f} kgCO2e, $%{y:,.0f}<br>solver %{customdata[1]}, "
                           "gap %{customdata[0]:.2f} %<extra></extra>")))
    symbols = {"stored plan": "star", "re-solved": "diamond"}
    for row in points.itertuples(index=False):
        fig.add_trace(go.Scatter(
            x=[row.emissions_kg], y=[row.cost_usd], mode="markers+text", text=[row.name],
            textposition="top center", name=row.name,
            marker={"size": 14 if row.name in symbols else 10,
                    "symbol": symbols.get(row.name, "circle")},
            hovertemplate=f"{row.name}<br>%{{x:,.1f}} kgCO2e, $%{{y:,.0f}}<extra></extra>"))
    fig.update_xaxes(title="kgCO2e (location-based + embodied)")
    fig.update_yaxes(title="USD")
    return _layout(fig, height=440)


def teams(by_team: pd.DataFrame) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("kgCO2e by team", "USD by team"))
    fig.add_trace(go.Bar(x=by_team["team"], y=by_team["location_kg"], name="location-based",
                         marker_color="#2E86AB"), row=1, col=1)
    fig.add_trace(go.Bar(x=by_team["team"], y=by_team["market_kg"], name="market-based",
                         marker_color="#A23B72"), row=1, col=1)
    fig.add_trace(go.Bar(x=by_team["team"], y=by_team["embodied_kg"], name="embodied",
                         marker_color="#999"), row=1, col=1)
    fig.add_trace(go.Bar(x=by_team["team"], y=by_team["cost_usd"], name="USD",
                         marker_color="#F18F01", showlegend=False), row=1, col=2)
    fig.update_layout(barmode="group")
    _layout(fig, height=380, top=70)
    fig.update_layout(legend={"y": 1.12})
    return fig


def versus(baselines: pd.DataFrame) -> go.Figure:
    """The plan against its baselines: USD and kgCO2e side by side."""
    fig = make_subplots(rows=1, cols=2,
                        subplot_titles=("USD", "kgCO2e (location-based + embodied)"))
    colours = ["#2E86AB" if s == "gridshift" else "#BBB" for s in baselines["strategy"]]
    fig.add_trace(go.Bar(x=baselines["strategy"], y=baselines["cost_usd"], marker_color=colours,
                         showlegend=False), row=1, col=1)
    fig.add_trace(go.Bar(x=baselines["strategy"], y=baselines["emissions_kg"],
                         marker_color=colours, showlegend=False), row=1, col=2)
    return _layout(fig, height=320, top=40)
