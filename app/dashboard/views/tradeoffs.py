"""Trade-offs: the cost-vs-emissions Pareto front of the plan's inputs, and what a carbon
price and more (or less) deadline slack would change, re-solved and cached per setting."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.dashboard import charts, context, fmt, queries, replan

view = context.current()
st.title("Trade-offs")
if view.stored is None:
    context.no_plan(view)
    st.stop()

plan = view.stored.plan
points = queries.baselines(view.stored)[["strategy", "cost_usd", "emissions_kg"]].rename(
    columns={"strategy": "name"})
points["name"] = points["name"].replace({"gridshift": "stored plan"})
inputs = context.inputs(view.url, view.plan_id)
if inputs.problem is None:
    st.warning(f"This plan cannot be re-solved here: {inputs.reason}.")
    st.caption("Shown instead: the stored plan and the baselines it was compared with.")
    st.plotly_chart(charts.tradeoffs(pd.DataFrame(), points), width="stretch")
    st.stop()
for note in inputs.notes:
    st.caption(note)

# ---- controls -----------------------------------------------------------------------------
left, mid, right = st.columns([2, 2, 1])
price = left.slider("Carbon price (USD per tonne CO2e)", min_value=0, max_value=1000, step=10,
                    value=int(round(plan.carbon_price_usd_per_t / 10) * 10), key="price",
                    help="The balanced objective minimises cost + price x kgCO2e. The plan "
                         f"was made at {plan.carbon_price_usd_per_t:,.0f} USD/t.")
slack = mid.select_slider("Deadline slack (hours added to every deadline)",
                          options=[-4, -2, 0, 2, 4, 8, 12, 24], value=0, key="slack",
                          help="More slack lets work wait for cleaner or cheaper hours; "
                               "negative tightens every deadline.")
n_points = right.select_slider("Front points", options=[3, 4, 5], value=4, key="points")

# ---- the re-solve -------------------------------------------------------------------------
as_stored = (slack == 0 and str(plan.objective) == "balanced"
             and abs(price - plan.carbon_price_usd_per_t) < 1e-9)
if as_stored:  # the plan's own setting: the stored plan is the answer, not a second solve
    resolved = view.stored.plan_json
    st.subheader(f"The stored plan's setting: {price} USD/t, slack {slack:+d} h")
    st.caption("Move the carbon price or the deadline slack to re-solve the same inputs.")
else:
    resolved = context.resolve(view.url, view.plan_id, "balanced", float(price), int(slack))
    st.subheader(f"Re-solved at {price} USD/t, slack {slack:+d} h")
change = replan.changes(view.stored.plan_json, resolved)
totals = resolved["totals"]
cols = st.columns(4)
cols[0].metric("Cost", fmt.usd(totals["cost_usd"]), delta_color="inverse",
               delta=None if as_stored else fmt.usd(change["cost_usd"]),
               help="Against the stored plan.")
cols[1].metric("CO2e (location-based + embodied)", fmt.kg(totals["emissions_kg"]),
               delta=None if as_stored else fmt.kg(change["emissions_kg"]),
               delta_color="inverse")
cols[2].metric("Workloads moved", str(len(change["moved"])),
               help="Region, accelerator, purchase option or start differs from the stored plan.")
cols[3].metric("Unplaced", str(len(change["unplaced"])))
solver = resolved["solver"]
how = f"Stored plan: {plan.objective}" if as_stored else "Re-solve: balanced"
st.caption(f"{how} objective, solver {solver['status']} in {solver['wall_s']:.1f} s (plan time limit "
           f"{solver['time_limit_s']:.0f} s, gap {100 * (solver['gap'] or 0):.2f} %)."
           + ("" if as_stored else " Same inputs as the stored plan, whose solver had its own "
              "time limit: part of a difference can be what a time limit leaves unproven."))
if change["unplaced"]:
    st.warning("Unplaced at this setting: " + ", ".join(change["unplaced"]))
if change["moved"]:
    with st.expander(f"{len(change['moved'])} workload(s) moved"):
        st.write(", ".join(change["moved"]))

# ---- the front ----------------------------------------------------------------------------
rows = context.front(view.url, view.plan_id, int(n_points), int(slack))
front = pd.DataFrame(rows)
front["gap_pct"] = 100 * front["gap"].fillna(0.0)
stored_point = [view.stored.plan_json["totals"]] if slack == 0 else []
front["dominated"] = replan.dominated(rows, stored_point)
front["over_cap"] = front["emissions_kg"] > front["emissions_cap_kg"].fillna(float("inf")) + 0.01
if not as_stored:
    points = pd.concat([points, pd.DataFrame([{"name": "re-solved",
                                               "cost_usd": totals["cost_usd"],
                                               "emissions_kg": totals["emissions_kg"]}])],
                       ignore_index=True)
st.subheader("Cost against emissions")
st.plotly_chart(charts.tradeoffs(front, points), width="stretch")
st.caption(f"Pareto front at slack {slack:+d} h: the cheapest plan under caps on kgCO2e between "
           "the cleanest and the cheapest plan (epsilon-constraint, planner.pareto), "
           f"{replan.time_limit_s():g} s per point; a point with a gap is the best found "
           "in that time. Baselines and the stored plan are at the plan's own deadlines.")
if front["dominated"].any():
    st.caption(f"{int(front['dominated'].sum())} point(s) are beaten on both cost and emissions "
               "by another known plan: the solver's time limit ended before it found better.")
if front["over_cap"].any():
    st.warning(f"{int(front['over_cap'].sum())} point(s) emit more than the kgCO2e cap they were "
               "solved under: the planner did not hold the cap there. Please report it with "
               "this plan's id.")
st.dataframe(front[["emissions_cap_kg", "cost_usd", "emissions_kg", "unplaced", "status",
                    "gap_pct", "dominated", "over_cap"]], hide_index=True, width="stretch",
             column_config={"emissions_cap_kg": st.column_config.NumberColumn(format="%.1f"),
                            "cost_usd": st.column_config.NumberColumn(format="$%.0f"),
                            "emissions_kg": st.column_config.NumberColumn(format="%.1f"),
                            "gap_pct": st.column_config.NumberColumn("gap %", format="%.2f")})
