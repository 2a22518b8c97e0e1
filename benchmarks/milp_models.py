r"""The planner's time-indexed model as a plain MILP, for PuLP/CBC and HiGHS.

Used by benchmarks/planner_milp_compare.py only: nothing in the product
imports it. Built from ``planner.options.build_options`` so the data are the
ones gridshift plans with; the formulation is planner/model.py's:

    min  sum_{j,o,s} c_jos x_jos + sum_j M_j y_j
    s.t. sum_{o,s} x_jos + y_j = u_j                                  for all j  (1)
         sum_{j,o,s : r(o)=r, s <= t < s+d_jo} g_j x_jos <= K_rt      for (r, t) (2)
         sum_{j in team, o, s} v_jos x_jos <= cap_l                   for limit l (4)
         x_jos in {0..u_j}, y_j in {0..u_j}   (binary when u_j = 1, a gang)

with c_jos planner/model.py's ``unit_scores`` and M_j its ``penalty_of`` (both
integers, score units x SCALE, divided here by SCALE), K_rt
planner.capacity.Capacity.at, capacity rows written where the demand
that could reach (r, t) exceeds K_rt (model.py's rule), limit coefficients
rounded up and caps down as planner/limits.py does. One x column per
(workload, option, start): the purchase-dominance pruning of model.py is
*not* applied (the MILP solvers get every column and presolve as they like).
Workloads without any option get no column and no row, as in model.py.

Objective coefficients are the CP-SAT model's integers divided by SCALE,
i.e. score units (multiples of 0.001). Passing the integers themselves made
HiGHS warn that the problem is badly scaled (costs up to 1e7); measured at
N=200, 20 s, shared CPU: plan 27,892 with integers vs 27,031 in score units,
bound 19,061 either way. So both MILPs get score units.
Stopping rule as CP-SAT's in ``plan``: prove optimality (relative gap 0) or
hit the time limit. No warm start (the MILPs start cold; gridshift's greedy
hint and LP rounding are part of its method and of its time).
"""

from __future__ import annotations

import math
import os
import re
import resource
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from planner.capacity import Resource
from planner.limits import Limit
from planner.model import penalty_of, unit_scores
from planner.objective import SCALE, Weights
from planner.options import WorkloadOptions
from planner.placement import Placement


class BuildTimeout(Exception):
    """Model building went past its time budget."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MilpData:
    """Columns (x then y) and rows of the MILP as flat arrays; CSC matrix."""

    workload_options: tuple[WorkloadOptions, ...]
    col_j: np.ndarray  # workload of each x column
    col_o: np.ndarray  # option index within the workload
    col_s: np.ndarray  # start slot
    n_x: int
    cost: np.ndarray  # score units (CP-SAT's integers / SCALE), x columns then y columns
    upper: np.ndarray
    y_j: np.ndarray  # workload of each y column
    row_lower: np.ndarray
    row_upper: np.ndarray
    n_workload_rows: int
    n_capacity_rows: int
    n_limit_rows: int
    a_start: np.ndarray  # CSC, len n_cols + 1
    a_index: np.ndarray
    a_value: np.ndarray
    build_s: float

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    @property
    def nnz(self) -> int:
        return len(self.a_index)


def capacity_at(capacity, resource: Resource, t: int) -> int:
    """K_rt: planner.capacity.Capacity.at, or a plain {resource: GPUs} table."""
    at = getattr(capacity, "at", None)
    return at(resource, t) if at is not None else capacity.get(resource, 0)


def milp_data(workload_options: tuple[WorkloadOptions, ...], capacity,
              weights: Weights, limits: tuple[Limit, ...] = ()) -> MilpData:
    t0 = time.perf_counter()
    placeable = [j for j, wo in enumerate(workload_options) if wo.options]
    row_of_j = {j: i for i, j in enumerate(placeable)}
    n_w = len(placeable)
    n_slots = max((o.last_start + o.slots for wo in workload_options for o in wo.options),
                  default=0)
    resources = sorted({o.resource for wo in workload_options for o in wo.options})
    r_index = {r: i for i, r in enumerate(resources)}

    # reach: GPUs that could land on (r, t) if every column took its upper bound
    diff = np.zeros((len(resources), n_slots + 1), dtype=np.int64)
    for wo in workload_options:
        ub = wo.units * wo.gpus_per_unit
        for o in wo.options:
            ri = r_index[o.resource]
            starts = np.arange(o.first_start, o.last_start + 1)
            np.add.at(diff[ri], starts, ub)
            np.add.at(diff[ri], starts + o.slots, -ub)
    reach = np.cumsum(diff, axis=1)[:, :n_slots]
    caps = np.asarray([[capacity_at(capacity, r, t) for t in range(n_slots)]
                       for r in resources], dtype=np.int64).reshape(len(resources), n_slots)
    binding = reach > caps
    cap_row = np.full(binding.shape, -1, dtype=np.int64)
    cap_row[binding] = n_w + np.arange(int(binding.sum()))
    n_cap = int(binding.sum())
    limit_rows = [n_w + n_cap + k for k in range(len(limits))]

    col_j, col_o, col_s, cost, upper = [], [], [], [], []
    rows, cols, vals = [], [], []
    n_x = 0
    penalties: dict[int, int] = {}
    for j, wo in enumerate(workload_options):
        if not wo.options:
            continue
        scores = [unit_scores(o, weights) for o in wo.options]
        penalties[j] = penalty_of(scores)
        mine = [(k, lim) for k, lim in enumerate(limits) if lim.applies(wo.workload)]
        for oi, o in enumerate(wo.options):
            n = o.last_start - o.first_start + 1
            ids = n_x + np.arange(n)
            starts = np.arange(o.first_start, o.last_start + 1)
            col_j.append(np.full(n, j))
            col_o.append(np.full(n, oi))
            col_s.append(starts)
            cost.append(scores[oi] / SCALE)
            upper.append(np.full(n, float(wo.units)))
            rows.append(np.full(n, row_of_j[j]))
            cols.append(ids)
            vals.append(np.ones(n))
            covered = cap_row[r_index[o.resource]][starts[:, None] + np.arange(o.slots)]
            hit = covered >= 0
            rows.append(covered[hit])
            cols.append(np.broadcast_to(ids[:, None], covered.shape)[hit])
            vals.append(np.full(int(hit.sum()), float(wo.gpus_per_unit)))
            for k, lim in mine:
                rows.append(np.full(n, limit_rows[k]))
                cols.append(ids)
                vals.append(lim.unit_coefficients(o).astype(float))
            n_x += n
    y_j = np.asarray(placeable, dtype=np.int64)
    y_ids = n_x + np.arange(n_w)
    rows.append(np.arange(n_w))
    cols.append(y_ids)
    vals.append(np.ones(n_w))
    cost.append(np.asarray([penalties[j] / SCALE for j in placeable]))
    upper.append(np.asarray([float(workload_options[j].units) for j in placeable]))

    r = np.concatenate(rows).astype(np.int32)
    c = np.concatenate(cols).astype(np.int64)
    v = np.concatenate(vals)
    order = np.lexsort((r, c))
    r, c, v = r[order], c[order], v[order]
    n_cols = n_x + n_w
    a_start = np.searchsorted(c, np.arange(n_cols + 1)).astype(np.int32)
    units = np.asarray([float(workload_options[j].units) for j in placeable])
    row_lower = np.concatenate([units, np.full(n_cap + len(limits), -np.inf)])
    row_upper = np.concatenate([units, caps[binding].astype(float),
                                np.asarray([float(lim.int_cap()) for lim in limits])])
    empty = np.zeros(0, dtype=np.int64)
    return MilpData(
        workload_options=workload_options,
        col_j=np.concatenate(col_j) if col_j else empty,
        col_o=np.concatenate(col_o) if col_o else empty,
        col_s=np.concatenate(col_s) if col_s else empty,
        n_x=n_x, cost=np.concatenate(cost), upper=np.concatenate(upper), y_j=y_j,
        row_lower=row_lower, row_upper=row_upper, n_workload_rows=n_w,
        n_capacity_rows=n_cap, n_limit_rows=len(limits),
        a_start=a_start, a_index=r, a_value=v, build_s=time.perf_counter() - t0)


# -- results ----------------------------------------------------------

@dataclass(slots=True, kw_only=True)
class MilpResult:
    solver: str
    status: str
    build_s: float = math.nan  # solver-specific model build (the shared arrays: MilpData.build_s)
    solve_s: float = math.nan  # the solver's run, wall
    objective: float = math.nan  # verified, score units (objective_of); nan: no plan
    solver_objective: float = math.nan  # as the solver reported it, score units
    bound: float = math.nan
    gap: float = math.nan
    placements: list[Placement] = field(default_factory=list, repr=False)
    notes: list[str] = field(default_factory=list)
    peak_rss_mib: float = math.nan
    cpu_s: float = math.nan  # CPU seconds of this process and its children (CBC) over the run
    after_s: float = 0.0  # gridshift only: explanations, plan assembly, checker
    total_s: float = math.nan  # the whole run, wall

    @property
    def found(self) -> bool:
        return not math.isnan(self.objective)


def placements_of(data: MilpData, values: np.ndarray) -> tuple[list[Placement], float]:
    """x column values -> placements, and the largest distance to an integer seen."""
    x = np.asarray(values[:data.n_x], dtype=float)
    rounded = np.rint(x)
    worst = float(np.max(np.abs(x - rounded))) if len(x) else 0.0
    out = []
    for k in np.flatnonzero(rounded > 0).tolist():
        wo = data.workload_options[int(data.col_j[k])]
        out.append(Placement(option=wo.options[int(data.col_o[k])], start=int(data.col_s[k]),
                             units=int(rounded[k])))
    return out, worst


def _quiet_highs(highspy):
    """A HiGHS instance without the banner its construction prints on fd 1."""
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


# -- HiGHS -----------------------------------------------------------------------------

def solve_highs(data: MilpData, *, time_limit_s: float, threads: int,
                log_file: str | None = None) -> MilpResult:
    import highspy

    out = MilpResult(solver="HiGHS", status="not run")
    t0 = time.perf_counter()
    try:
        highspy.Highs.resetGlobalScheduler(True)  # planner/lp.py may have started it
        h = _quiet_highs(highspy)
        h.setOptionValue("output_flag", log_file is not None)
        if log_file:
            h.setOptionValue("log_to_console", False)
            h.setOptionValue("log_file", log_file)
        h.setOptionValue("threads", int(threads))
        h.setOptionValue("time_limit", float(time_limit_s))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("random_seed", 0)
        lp = highspy.HighsLp()
        lp.num_col_ = data.n_cols
        lp.num_row_ = data.n_rows
        lp.col_cost_ = data.cost
        lp.col_lower_ = np.zeros(data.n_cols)
        lp.col_upper_ = data.upper
        lp.row_lower_ = np.where(np.isinf(data.row_lower), -highspy.kHighsInf, data.row_lower)
        lp.row_upper_ = data.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = data.n_cols
        lp.a_matrix_.num_row_ = data.n_rows
        lp.a_matrix_.start_ = data.a_start
        lp.a_matrix_.index_ = data.a_index
        lp.a_matrix_.value_ = data.a_value
        lp.integrality_ = [highspy.HighsVarType.kInteger] * data.n_cols
        h.passModel(lp)
        del lp
        out.build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        h.run()
        out.solve_s = time.perf_counter() - t1
        info = h.getInfo()
        out.status = h.modelStatusToString(h.getModelStatus())
        if info.primal_solution_status == 2:  # kSolutionStatusFeasible
            out.solver_objective = info.objective_function_value
            out.placements, worst = placements_of(data, np.asarray(h.getSolution().col_value))
            out.notes.append(f"max integrality violation {worst:.1e}")
        out.bound = info.mip_dual_bound
        out.gap = info.mip_gap
        out.notes.append(f"{info.mip_node_count} nodes")
    except MemoryError:
        out.status = "out of memory"
        out.notes.append(f"after {time.perf_counter() - t0:.1f} s")
    return out


# -- PuLP / CBC ------------------------------------------------------------------------

_LOG_FIELDS = {
    "result": re.compile(r"^Result - (.*)$", re.MULTILINE),
    "objective": re.compile(r"^Objective value:\s+(\S+)", re.MULTILINE),
    "bound": re.compile(r"^Lower bound:\s+(\S+)", re.MULTILINE),
    "gap": re.compile(r"^Gap:\s+(\S+)", re.MULTILINE),
    "nodes": re.compile(r"^Enumerated nodes:\s+(\S+)", re.MULTILINE),
    "wall": re.compile(r"^Total time \(CPU seconds\):\s+\S+\s+\(Wallclock seconds\):\s+(\S+)",
                       re.MULTILINE),
}


def _vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cbc_children() -> list[int]:
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == me and name.startswith("cbc"):
            found.append(int(entry))
    return found


def solve_pulp_cbc(data: MilpData, *, time_limit_s: float, threads: int,
                   build_limit_s: float, kill_after_s: float, memory_limit_gib: float = 12.0,
                   log_file: str | None = None) -> MilpResult:
    """PuLP model objects, then PuLP's bundled CBC (a subprocess reading an MPS file).
    Building stops when it passes ``build_limit_s``; the CBC process is killed by its
    pid when it runs past ``kill_after_s`` (it does not honour its limit then), and its
    address space is capped at ``memory_limit_gib`` (the machine is shared: CBC fails
    alone instead of waking the OOM killer)."""
    import pulp

    out = MilpResult(solver="PuLP/CBC", status="not run")
    t0 = time.perf_counter()
    deadline = t0 + build_limit_s
    try:
        prob = pulp.LpProblem("gridshift", pulp.LpMinimize)
        variables = []
        for k in range(data.n_cols):
            if k % 20_000 == 0 and time.perf_counter() > deadline:
                raise BuildTimeout(f"{k:,} of {data.n_cols:,} variables")
            ub = float(data.upper[k])
            variables.append(pulp.LpVariable(
                f"v{k}", lowBound=0, upBound=ub, cat=pulp.LpBinary if ub == 1 else pulp.LpInteger))
        prob.setObjective(pulp.LpAffineExpression(zip(variables, data.cost.tolist())))
        # rows from the CSC arrays
        col_of = np.repeat(np.arange(data.n_cols), np.diff(data.a_start))
        order = np.argsort(data.a_index, kind="stable")
        row_sorted, col_sorted = data.a_index[order], col_of[order]
        val_sorted = data.a_value[order].tolist()
        row_start = np.searchsorted(row_sorted, np.arange(data.n_rows + 1)).tolist()
        col_sorted = col_sorted.tolist()
        for i in range(data.n_rows):
            if i % 2_000 == 0 and time.perf_counter() > deadline:
                raise BuildTimeout(f"all variables, {i:,} of {data.n_rows:,} rows")
            a, b = row_start[i], row_start[i + 1]
            expr = pulp.LpAffineExpression(
                (variables[c], v) for c, v in zip(col_sorted[a:b], val_sorted[a:b]))
            if i < data.n_workload_rows:
                prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}",
                                                     float(data.row_upper[i])))
            else:
                prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}",
                                                     float(data.row_upper[i])))
        del col_of, order, row_sorted, col_sorted, val_sorted
        out.build_s = time.perf_counter() - t0
    except BuildTimeout as e:
        out.status = f"build not finished within {build_limit_s:.0f} s"
        out.build_s = time.perf_counter() - t0
        out.notes.append(f"built {e}")
        return out
    except MemoryError:
        out.status = "out of memory while building"
        out.build_s = time.perf_counter() - t0
        return out

    killed, done = threading.Event(), threading.Event()
    limited: set[int] = set()
    cbc_peak_kib = [0]  # VmHWM of the CBC process, polled (its ru_maxrss counts the fork)

    def watchdog(deadline: float) -> None:
        """Caps each CBC child's address space; kills it by pid past the deadline."""
        while not done.wait(0.2):
            for pid in _cbc_children():
                try:
                    if pid not in limited:
                        resource.prlimit(pid, resource.RLIMIT_AS, (memory_limit, memory_limit))
                        limited.add(pid)
                    cbc_peak_kib[0] = max(cbc_peak_kib[0], _vm_hwm_kib(pid))
                    if time.perf_counter() > deadline:
                        os.kill(pid, signal.SIGKILL)
                        killed.set()
                except (ProcessLookupError, PermissionError):
                    pass

    memory_limit = int(memory_limit_gib * 2**30)
    with tempfile.TemporaryDirectory(prefix="gridshift-cbc-") as tmp:
        log = os.path.join(tmp, "cbc.log")
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=float(time_limit_s), threads=int(threads),
                                   logPath=log, timeMode="elapsed")
        solver.tmpDir = tmp  # PuLP leaves its MPS file behind when CBC fails; keep it in here
        t1 = time.perf_counter()
        guard = threading.Thread(target=watchdog, args=(t1 + kill_after_s,), daemon=True)
        guard.start()
        try:
            prob.solve(solver)
            out.solve_s = time.perf_counter() - t1
        except (pulp.PulpSolverError, MemoryError) as e:
            out.solve_s = time.perf_counter() - t1
            text = Path(log).read_text() if os.path.exists(log) else ""
            if killed.is_set():
                out.status = f"killed after {kill_after_s:.0f} s (time limit not honoured)"
            elif "memory" in text.lower() or "bad_alloc" in text:
                out.status = f"out of memory (CBC capped at {memory_limit_gib:g} GiB)"
            else:
                out.status = f"failed: {str(e).splitlines()[0][:80]}"
            if text.strip():
                out.notes.append("CBC log tail: " + " | ".join(text.strip().splitlines()[-3:]))
            return out
        finally:
            done.set()
            guard.join()
            out.notes.append(f"CBC process peak RSS >= {cbc_peak_kib[0] / 1024:.0f} MiB "
                             "(polled every 0.2 s)")
        text = Path(log).read_text() if os.path.exists(log) else ""
    if log_file:
        Path(log_file).write_text(text)
    found = {k: (m.group(1).strip() if (m := rx.search(text)) else None)
             for k, rx in _LOG_FIELDS.items()}
    out.status = found["result"] or pulp.LpStatus.get(prob.status, str(prob.status))
    if "Pre-processing says infeasible" in text:
        out.status = "declared infeasible by CBC preprocessing (wrongly)"
    if found["wall"]:
        cbc_wall = float(found["wall"])
        out.notes.append(f"CBC's own wall {cbc_wall:.1f} s; PuLP MPS write + read "
                         f"{out.solve_s - cbc_wall:.1f} s")
    if "threads" not in text.lower():
        out.notes.append("CBC log does not mention threads")
    if found["nodes"]:
        out.notes.append(f"{found['nodes']} nodes")
    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        values = np.asarray([v.varValue or 0.0 for v in variables])
        out.placements, worst = placements_of(data, values)
        out.notes.append(f"max integrality violation {worst:.1e}")
        if found["objective"]:
            out.solver_objective = float(found["objective"])
    if found["bound"]:
        out.bound = float(found["bound"])
    elif out.status.startswith("Optimal") and found["objective"]:
        out.bound = float(found["objective"])
    if found["gap"]:
        out.gap = float(found["gap"])
    return out
