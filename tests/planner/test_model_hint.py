"""The model's hint: a valid plan must be a feasible hint, or CP-SAT drops all of it."""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from planner import model as model_module
from planner.capacity import capacity_table
from planner.domain import Objective, SolverStatus
from planner.model import objective_of, solve_model
from planner.objective import weights
from planner.options import build_options
from planner.placement import Placement
from tests.planner.factory import job, problem


def test_a_hint_with_one_start_in_two_parts_is_a_feasible_hint(monkeypatch):
    # a plan may place 2 + 2 units of one workload at one (option, start): the model's
    # hint must count 4 there (it kept the last 2, an infeasible hint CP-SAT throws away)
    p = problem([job("split", gpus=4, gang=False, hours=2)])
    wos = build_options(p)
    cap = capacity_table(p.fleet)
    w = weights(Objective.BALANCED, 190.0)
    o = wos[0].options[0]
    hint = [Placement(option=o, start=o.first_start, units=2)] * 2

    class Fixed(cp_model.CpSolver):  # solve with every variable fixed to its hint
        def solve(self, model, *args, **kwargs):
            self.parameters.fix_variables_to_their_hinted_value = True
            return super().solve(model, *args, **kwargs)

    monkeypatch.setattr(model_module.cp_model, "CpSolver", Fixed)
    result = solve_model(wos, cap, p.horizon_hours + p.lookahead_hours, w, time_limit_s=5,
                         workers=1, hint=hint)
    assert result.status is SolverStatus.OPTIMAL
    assert result.objective == pytest.approx(objective_of(hint, wos, w), abs=1e-2)
