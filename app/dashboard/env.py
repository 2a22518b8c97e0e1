"""Environment variables `gridshift dashboard` passes to the Streamlit script (no imports,
so the CLI can read them without loading Streamlit)."""

DB = "GRIDSHIFT_DASHBOARD_DB"  # the store URL given with --db
CARBON_TRACES = "GRIDSHIFT_DASHBOARD_CARBON_TRACES"  # ZONE=PATH items, os.pathsep-separated
LOAD_HISTORY = "GRIDSHIFT_DASHBOARD_LOAD_HISTORY"  # usage history file for the Capacity page
SOLVE_S = "GRIDSHIFT_DASHBOARD_SOLVE_S"  # time limit of each re-solve and Pareto point, s
