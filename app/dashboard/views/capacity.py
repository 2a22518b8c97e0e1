"""Capacity and demand: per cluster and accelerator, the forecast background load with its
interval, the plan's GPUs on top, and the capacity line; then serving demand and replicas."""

from __future__ import annotations

import os

import streamlit as st

from app.dashboard import charts, context, load

view = context.current()
st.title("Capacity and demand")
if view.stored is None:
    context.no_plan(view)
    st.stop()

plan = view.stored.plan
frame = context.assignments(view.url, view.plan_id)
fleet = context.inputs(view.url, view.plan_id).fleet
planned = load.planned_gpus(frame, start=plan.horizon_start, hours=plan.horizon_hours)
caps = load.capacity(fleet) if fleet is not None else {}

# ---- background load forecast -------------------------------------------------------------
history = load.history_path()
forecast = None
if history is None:
    st.info("No usage history, so no forecast of the clusters' own load: start the dashboard "
            "with `gridshift dashboard --load-history usage.csv` (columns unique_id "
            "'<cluster>/<accelerator>', ds, y = GPUs busy with work gridshift does not plan), "
            "the file `gridshift plan --load-history` takes. Below: the plan against capacity.")
else:
    try:
        forecast = context.load_forecast(history, os.path.getmtime(history), view.url,
                                         view.plan_id)
    except (OSError, ValueError) as exc:
        st.warning(f"The load history {history} cannot be forecast: "
                   f"{str(exc).splitlines()[0]}")
    else:
        st.caption(f"Forecast of {history} with an {load.LEVEL} % interval (forecasting.forecast);"
                   " the plan's GPUs are drawn on the interval's upper bound, the share the "
                   "planner keeps clear of.")
if fleet is None:
    st.caption("The plan's fleet file is not readable here, so capacity lines are missing.")

series = sorted(set(planned["series"]) | set(caps)
                | (set(forecast["series"]) if forecast is not None else set()))
clusters = sorted({s.split("/")[0] for s in series})
span = (plan.horizon_start, plan.horizon_end)
if not clusters:
    st.info("Nothing planned and no capacity known for this plan.")
busy = set(planned["series"]) | (set(forecast["series"]) if forecast is not None else set())
for cluster in clusters:
    with st.expander(f"Cluster {cluster}", expanded=True):
        ours = [s for s in series if s.split("/")[0] == cluster]
        for s in [s for s in ours if s in busy]:
            mine = planned[planned["series"] == s]
            fc = forecast[forecast["series"] == s] if forecast is not None else None
            st.plotly_chart(charts.capacity(s, mine, caps.get(s), fc, span=span),
                            width="stretch", key=f"cap-{s}")
        idle = [f"{s.split('/')[1]} ({caps[s]} GPUs)" for s in ours if s not in busy]
        if idle:
            st.caption("Nothing planned and no load forecast on: " + ", ".join(idle) + ".")

# ---- serving ------------------------------------------------------------------------------
st.subheader("Serving demand and replicas")
replicas = load.serving(frame, start=plan.horizon_start, hours=plan.horizon_hours)
if replicas.empty:
    st.info("No serving workloads in this plan: the planner places training and batch jobs "
            "so far. Planned replicas per hour show here when a plan has assignments of kind "
            "'serving'.")
else:
    problem = context.inputs(view.url, view.plan_id).problem
    demand = load.serving_demand(problem, start=plan.horizon_start, hours=plan.horizon_hours)
    st.caption("Planned replicas per hour by region (bars) against each service's demand "
               "(line, requests/s, from the plan's inputs"
               + ("" if problem is not None else ": not readable here, so not drawn") + ").")
    st.plotly_chart(charts.serving(replicas, demand), width="stretch")
