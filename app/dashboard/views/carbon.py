"""Carbon: the grid intensity behind the plan (region x hour), and how a day-ahead
forecast of intensity compares with what the grid actually did, with its interval."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time

import streamlit as st

from app.dashboard import charts, context, grid
from app.errors import InputError

view = context.current()
st.title("Carbon")
if view.stored is None:
    context.no_plan(view)
    st.stop()

# ---- behind the plan ----------------------------------------------------------------------
st.subheader("Grid intensity behind the plan")
intensity, notes = context.behind_plan(view.url, view.plan_id)
if intensity.empty:
    st.info("This plan names no grid zones in its provenance and its fleet file is not "
            "readable here, so the intensity it used cannot be shown.")
else:
    st.caption("Hourly grid-average intensity (gCO2e/kWh, location-based) of each region's "
               "grid zone over the plan's horizon: what the planner weighed each hour by.")
    st.plotly_chart(charts.intensity_heatmap(intensity), width="stretch")
    zones = (intensity.groupby(["zone", "source", "as_planned"], as_index=False)["g_per_kwh"]
             .agg(["mean", "min", "max"]).round(0))
    zones = zones.rename(columns={"mean": "mean g/kWh", "min": "min g/kWh", "max": "max g/kWh",
                                  "as_planned": "same source as the plan"})
    st.dataframe(zones, hide_index=True, width="stretch",
                 column_config={"source": st.column_config.TextColumn(width="large")})
for note in notes:
    st.caption(note)

# ---- forecast against actual --------------------------------------------------------------
st.subheader("Forecast against actual")
try:
    traces = grid.traces_from_env()
except InputError as exc:
    st.warning(f"The carbon traces given to the dashboard cannot be used: {exc}")
    traces = ()
if not traces:
    kinds = sorted({s.rsplit("[", 1)[-1].split(",")[0].rstrip("]")
                    for s in intensity["source"].unique()}) if not intensity.empty else []
    st.info("No actual intensity to compare a forecast with"
            + (f": this plan's intensity is of kind {', '.join(kinds)}" if kinds else "")
            + ". Actuals come from hourly traces: start the dashboard with `gridshift dashboard "
              "--carbon-trace ZONE=PATH` (an Electricity Maps hourly export, or a "
              "forecast-vs-actual file such as DACF's, which adds the published forecast).")
    st.stop()

zone = st.selectbox("Zone", [t.zone for t in traces], key="fva_zone")
paths = tuple(str(p) for t in traces if t.zone == zone for p in t.paths)
actual = context.actuals(zone, paths)
hours = st.select_slider("Hours ahead", options=[24, 48, 72], value=48, key="fva_hours")
first, last = actual.first_origin, actual.last_origin(hours)
if last < first:
    st.info(f"The {zone} trace is too short: it needs {grid.HISTORY_DAYS} days of history and "
            f"{hours} h to compare with.")
    st.stop()
day = st.date_input("Forecast made at 00:00 UTC on", value=last.date(), min_value=first.date(),
                    max_value=last.date(), key="fva_day")
origin = max(first, min(last, datetime.combine(day, time(), tzinfo=UTC)))
frame, scores = context.forecast_vs_actual(zone, paths, origin, hours)
st.plotly_chart(charts.forecast_vs_actual(frame, level=scores["level"], zone=zone),
                width="stretch")
cols = st.columns(4)
cols[0].metric("Forecast error (MAPE)", f"{scores['mape_forecast']:.1f} %",
               help=f"Model chosen by backtest: {scores['model']}.")
cols[1].metric("Persistence error (MAPE)", f"{scores['mape_persistence']:.1f} %",
               help="Same hour yesterday.")
cols[2].metric("Published forecast (MAPE)", "n/a" if math.isnan(scores["mape_published"])
               else f"{scores['mape_published']:.1f} %",
               help="The trace's own forecast column, when it has one.")
cols[3].metric(f"Inside the {scores['level']} % interval", f"{scores['coverage']:.0f} %")
st.caption(f"Forecast made at {origin:%Y-%m-%d %H:%MZ} from the {grid.HISTORY_DAYS} days "
           f"before it only ({actual.actual.source}); forecasting.forecast with daily and "
           "weekly seasons, as carbon.forecast uses it.")
for repair in scores["repairs"]:
    st.caption(f"history repaired: {repair}")
