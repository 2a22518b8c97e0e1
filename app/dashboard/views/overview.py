"""Overview: what the plan emits and costs in a period, what it saves against running now,
planned against measured, and the data it rests on."""

from __future__ import annotations

from datetime import UTC, timedelta

import streamlit as st

from app.dashboard import charts, context, fmt, queries

view = context.current()
st.title("Overview")
measured = context.measured(view.url)
if view.stored is None and measured.empty:
    context.no_plan(view)
    st.stop()

# ---- the period ---------------------------------------------------------------------------
first, last = queries.window(view.stored, measured)
last = max(last, first + timedelta(hours=1))
lo, hi = first.astimezone(UTC).replace(tzinfo=None), last.astimezone(UTC).replace(tzinfo=None)
period = st.slider("Period (UTC)", min_value=lo, max_value=hi, value=(lo, hi),
                   step=timedelta(hours=1), format="YYYY-MM-DD HH:mm", key="period",
                   help="Planned work counts when it starts in the period; measured readings "
                        "when they overlap it.")
since, until = (t.replace(tzinfo=UTC) for t in period)

# ---- planned ------------------------------------------------------------------------------
if view.stored is None:
    st.info("No plan is stored yet, only measured readings (below). Plans appear here once "
            "`gridshift plan ... --store URL` or `POST /v1/plans` stores one.")
else:
    plan = view.stored.plan
    frame = context.assignments(view.url, view.plan_id)
    t = queries.totals(frame, since, until)
    st.subheader(f"Planned: plan #{view.stored.summary.seq}")
    st.caption(f"Horizon {fmt.when(plan.horizon_start)} to {fmt.when(plan.horizon_end)}, "
               f"objective {plan.objective}, solver {plan.solver.status} "
               f"(gap {100 * plan.solver.gap:.2f} %), made {fmt.when(plan.created_at)}. "
               f"{int(t['assignments'])} of {len(frame)} assignments start in the period.")
    cols = st.columns(5)
    cols[0].metric("Energy", fmt.kwh(t["energy_kwh"]), help="Facility energy: GPUs, host share "
                   "and PUE (carbon/energy.py).")
    cols[1].metric("Location-based CO2e", fmt.kg(t["location_kg"]),
                   help="Operational, GHG Protocol Scope 2 location-based: kWh x hourly grid "
                        "average of the region's zone.")
    cols[2].metric("Market-based CO2e", fmt.kg(t["market_kg"]),
                   help="Operational, Scope 2 market-based: contracted clean energy and "
                        "residual mix the fleet declares. Shown beside, never added.")
    cols[3].metric("Embodied CO2e", fmt.kg(t["embodied_kg"]),
                   help="Manufacturing share per GPU-hour, reported apart.")
    cols[4].metric("Cost", fmt.usd(t["cost_usd"]), help="At the plan's offer prices.")
    same = abs(t["market_kg"] - t["location_kg"]) < 1e-6
    st.caption(f"Location-based + embodied (Software Carbon Intensity total): "
               f"{fmt.kg(t['location_kg'] + t['embodied_kg'])}. Location- and market-based "
               "figures are two methods for the same electricity and are never summed."
               + (" No region of this plan declares market instruments, so the market-based "
                  "figure equals the location-based one." if same else ""))

    st.subheader("Saved against running now")
    saving = queries.saving_vs_run_now(view.stored)
    table = queries.baselines(view.stored)
    if plan.unplaced:
        st.warning(f"{len(plan.unplaced)} workload(s) could not be placed; the plan's totals "
                   "leave them out, so no saving against run-now is claimed.")
    elif saving is None:
        st.info("This plan was stored without baselines, so there is nothing to compare with.")
    else:
        cols = st.columns(3)
        cols[0].metric("Cost vs run-now", fmt.usd(saving["cost_usd"]),
                       delta=fmt.pct(saving["cost_usd"] + saving["run_now_cost_usd"],
                                     saving["run_now_cost_usd"]), delta_color="inverse")
        cols[1].metric("CO2e vs run-now", fmt.kg(saving["emissions_kg"]),
                       delta=fmt.pct(saving["emissions_kg"] + saving["run_now_emissions_kg"],
                                     saving["run_now_emissions_kg"]), delta_color="inverse",
                       help="Location-based + embodied, whole horizon.")
        cols[2].metric("Energy vs run-now", fmt.kwh(saving["energy_kwh"]),
                       delta=fmt.pct(saving["energy_kwh"] + saving["run_now_energy_kwh"],
                                     saving["run_now_energy_kwh"]), delta_color="inverse")
        st.caption("Whole horizon, same inputs. run_now starts every job at once in its home "
                   "region on its preferred accelerator; cost_greedy and carbon_greedy place "
                   "each job alone on its cheapest or cleanest option (and may overbook).")
    if len(table) > 1:
        st.plotly_chart(charts.versus(table), width="stretch")

# ---- planned vs measured ------------------------------------------------------------------
st.subheader("Planned and measured")
fp = context.footprint(view.url, view.plan_id, since, until)
left, right = st.columns(2)
with left:
    st.markdown("**Planned** (estimate, location-based + embodied)")
    if view.stored is None:
        st.caption("No plan stored.")
    else:
        st.metric("Planned energy", fmt.kwh(t["energy_kwh"]))
        st.metric("Planned CO2e", fmt.kg(t["emissions_kg"]))
with right:
    st.markdown("**Measured** (readings as recorded, e.g. codecarbon)")
    m = fp["measured"]
    if not m["readings"]:
        st.info("No measured readings in this period. Record runs with `gridshift measure "
                "--region R -- python train.py` (codecarbon) or `gridshift ingest-codecarbon`, "
                "and store them with `POST /v1/measurements`.")
    else:
        st.metric("Measured energy", fmt.kwh(m["total"]["energy_kwh"]))
        st.metric("Measured CO2e", fmt.kg(m["total"]["kg_co2e"]))
        in_period = measured[(measured["ended_at"] > since) & (measured["started_at"] < until)]
        st.caption(f"{m['readings']} reading(s) from "
                   f"{', '.join(sorted(in_period['source'].unique()))}.")
st.caption(fp["note"].capitalize() + ".")

# ---- data sources -------------------------------------------------------------------------
if view.stored is not None:
    st.subheader("Data sources and freshness")
    prov = queries.provenance(view.stored)
    now = context.now()
    prov["age"] = [fmt.age(f, now) for f in prov["fetched_at"]]
    st.caption("What the plan rests on, as recorded when it was made. Embedded defaults and "
               "bundled catalogs have no fetch time: their source text names the data and year.")
    st.dataframe(prov, hide_index=True, width="stretch",
                 column_config={"source": st.column_config.TextColumn(width="large")})
