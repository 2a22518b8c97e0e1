"""``gridshift replay``: what gridshift would have done with past jobs on the real grid.

Modules, in the order data flows:

- ``jobs``: a job table (CSV / Parquet) or a workloads YAML -> ``TrainingWorkload`` values;
- ``convert``: real cluster traces (Alibaba GPU v2023 ``openb`` pod list) -> a job table;
- ``grid``: hourly carbon traces per grid zone (via ``carbon.sources.trace``) on one
  replay timeline, with the published day-ahead forecast where a file has one;
- ``forecasters``: what the planner is shown at each re-plan (oracle, persistence, the
  project's model ``carbon.forecast.forecast_series``, a provider's published file);
- ``options``: the planner's options (``planner.options``) of each job shape, built once;
- ``simulate``: the rolling simulation (re-plans, commits, spot interruptions) and the
  strategies ``run_now``, ``carbon_greedy``, ``gridshift``, ``gridshift-oracle``;
- ``report``: accounting with the *actual* intensity, JSON and a rich table.

Nothing here plans by itself: decisions come from ``planner/`` (options, objective
weights, the capacity-aware greedy and ``planner.solve.plan``).
"""
