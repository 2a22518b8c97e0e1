"""Plan timeline: every assignment on a Gantt by region and accelerator, coloured by
purchase option, with its region's grid intensity behind it; hover tells why."""

from __future__ import annotations

import streamlit as st

from app.dashboard import charts, context, fmt

view = context.current()
st.title("Plan timeline")
if view.stored is None:
    context.no_plan(view)
    st.stop()

plan = view.stored.plan
frame = context.assignments(view.url, view.plan_id)
if frame.empty:
    st.info("This plan has no assignments: nothing was placed. The reasons are listed below.")
else:
    teams = sorted(frame["team"].unique())
    chosen = st.multiselect("Teams", teams, default=teams, key="timeline_teams")
    shown = frame[frame["team"].isin(chosen)]
    intensity, notes = context.behind_plan(view.url, view.plan_id)
    st.caption(f"{len(shown)} assignments, horizon {fmt.when(plan.horizon_start)} to "
               f"{fmt.when(plan.horizon_end)}. Bars: blue on-demand, orange spot. Behind each "
               "row: the hourly grid intensity of its region (gCO2e/kWh). Hover a bar for "
               "the reason.")
    if shown.empty:
        st.info("No team chosen.")
    else:
        st.plotly_chart(charts.gantt(shown, intensity), width="stretch")
    for note in notes:
        st.caption(note)
    with st.expander("Assignments as a table"):
        st.dataframe(shown.drop(columns=["origin"]), hide_index=True, width="stretch")
if plan.unplaced:
    st.subheader("Unplaced")
    for u in plan.unplaced:
        st.markdown(f"- **{u.workload}**: {u.reason}")
