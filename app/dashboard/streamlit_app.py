"""gridshift dashboard: the entry script (`gridshift dashboard` runs it with streamlit)."""

from __future__ import annotations

import streamlit as st

from app.dashboard import context, demo_store, fmt
from app.store import StoreError

st.set_page_config(page_title="gridshift", page_icon=":material/bolt:", layout="wide")

pages = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/timeline.py", title="Plan timeline", icon=":material/view_timeline:"),
    st.Page("views/carbon.py", title="Carbon", icon=":material/co2:"),
    st.Page("views/capacity.py", title="Capacity and demand", icon=":material/memory:"),
    st.Page("views/tradeoffs.py", title="Trade-offs", icon=":material/balance:"),
    st.Page("views/teams.py", title="Teams", icon=":material/groups:"),
]
page = st.navigation(pages)

with st.sidebar:
    try:
        source = context.source()
        summaries = context.plan_summaries(source.url)
    except StoreError as exc:
        st.error(str(exc).splitlines()[0])
        st.stop()
    st.caption(f"Store: {'demo' if source.demo else context.masked(source.url)}  \n"
               f"chosen by {source.origin}")
    if source.warning:
        st.caption(f"({source.warning})")
    if summaries:
        labels = {s.id: f"#{s.seq} · {fmt.when(s.created_at)} · {s.objective} · "
                        f"{s.solver_status}" for s in summaries}
        st.selectbox("Plan", options=list(labels), format_func=labels.get, key=context.PLAN_KEY,
                     help="Stored plans, newest first. Every page shows the one chosen here.")
        chosen = context.current().stored
        if chosen is not None and not source.demo and demo_store.is_demo(chosen.plan.provenance):
            st.caption("This plan is the demo's (bundled fleet and workloads).")
    else:
        st.caption("No plans stored yet.")

page.run()
