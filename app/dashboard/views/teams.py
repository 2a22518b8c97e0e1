"""Teams: footprint and cost by team and workload, with CSV files fit for a sustainability
report (units and method in the header)."""

from __future__ import annotations

import streamlit as st

from app.dashboard import charts, context, queries, report

SHOWN = {**report.COLUMNS, "emissions_kg": "location_plus_embodied_kg_co2e"}
NUMBERS = {name: st.column_config.NumberColumn(format="%.1f")
           for name in [*SHOWN.values(), "kg_co2e"]}
NUMBERS["cost_usd"] = st.column_config.NumberColumn(format="$%.0f")

view = context.current()
st.title("Teams")
measured = context.measured(view.url)
if view.stored is None and measured.empty:
    context.no_plan(view)
    st.stop()

if view.stored is None:
    st.info("No plan is stored yet: only measured readings below.")
else:
    frame = context.assignments(view.url, view.plan_id)
    by_team = queries.by(frame, ["team"])
    st.subheader(f"Planned, by team (plan #{view.stored.summary.seq})")
    st.caption("Location-based and market-based kgCO2e are two methods for the same "
               "electricity (GHG Protocol Scope 2), shown side by side and never added; "
               "embodied is reported apart.")
    if by_team.empty:
        st.info("This plan has no assignments.")
    else:
        st.plotly_chart(charts.teams(by_team), width="stretch")
        st.dataframe(by_team.rename(columns=SHOWN), hide_index=True, width="stretch",
                     column_config=NUMBERS)
        stamp = view.stored.plan.horizon_start.strftime("%Y%m%dT%H")
        left, right = st.columns(2)
        left.download_button("Download by team (CSV)", mime="text/csv",
                             data=report.footprint_csv(view.stored, frame, by_workload=False),
                             file_name=f"gridshift-footprint-by-team-{stamp}.csv")
        right.download_button("Download by team and workload (CSV)", mime="text/csv",
                              data=report.footprint_csv(view.stored, frame, by_workload=True),
                              file_name=f"gridshift-footprint-by-workload-{stamp}.csv")
        team = st.selectbox("Workloads of team", list(by_team["team"]), key="team")
        st.dataframe(queries.by(frame[frame["team"] == team], ["workload", "region",
                                                              "accelerator", "purchase"])
                     .rename(columns=SHOWN), hide_index=True, width="stretch",
                     column_config=NUMBERS)

st.subheader("Measured, by team")
if measured.empty:
    st.info("No measured readings in this store. `gridshift measure` (codecarbon) and "
            "`POST /v1/measurements` record them; they are shown here apart from the plan.")
else:
    st.dataframe(measured.groupby(["team", "source"], as_index=False)[["energy_kwh", "kg_co2e"]]
                 .sum(), hide_index=True, width="stretch", column_config=NUMBERS)
    st.download_button("Download measured by team (CSV)", data=report.measured_csv(measured),
                       file_name="gridshift-measured-by-team.csv", mime="text/csv")
