"""The Streamlit dashboard: ``gridshift dashboard [--db URL]``.

    streamlit_app.py   the entry script: page setup, the sidebar (which store, which plan),
                       st.navigation over the six pages
    views/*.py         one file per page; each reads like a description of the UI
    context.py         which store to show ($GRIDSHIFT_DASHBOARD_DB, $GRIDSHIFT_DB, or the demo)
                       and the cached loaders the pages call (st.cache_resource / st.cache_data)
    demo_store.py      the zero-configuration demo: `gridshift demo`'s inputs, planned and stored
    queries.py         a stored plan -> tables (assignments, totals for a period, baselines,
                       provenance, teams); no Streamlit
    replan.py          the inputs of a stored plan, re-solves and the Pareto front (planner/)
    grid.py            grid intensity behind a plan, and forecast against actual (carbon/)
    load.py            planned GPUs against capacity, forecast background load (forecasting/)
    report.py          the CSV export for sustainability reports (units and method in the header)
    charts.py          plotly figures from those tables
    fmt.py             number formats shared by pages and tests

Planned and measured figures are never summed; location-based and market-based kgCO2e
are shown side by side and never added.
"""
