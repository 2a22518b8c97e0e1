"""The planning problem: workloads, fleet, CP-SAT model, check, baselines, explain.

planner/ does no I/O: it takes values (fleet, workloads, intensity series, a
price catalog) and returns a new :class:`planner.domain.Plan`.
"""
