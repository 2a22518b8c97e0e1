"""Errors the user can fix. The CLI prints them as one line and exits 2.

    InputError(ValueError)       a file, a field, what is wrong and how to fix it
    planner.check.PlanCheckError a planner bug (never the user's fault; exits 70)
"""

from __future__ import annotations


class InputError(ValueError):
    def __init__(self, source: str, problem: str, *, fix: str = "",
                 workload: str | None = None, field: str | None = None) -> None:
        self.source, self.problem, self.fix = source, problem, fix
        self.workload, self.field = workload, field
        where = [source]
        if workload:
            where.append(f"workload {workload!r}")
        if field:
            where.append(f"field {field!r}")
        text = f"{': '.join(where)}: {problem}"
        if fix:
            text += f"; fix: {fix}"
        super().__init__(text)
