"""The shape of the fleet and workloads files, and how a file that breaks it is reported.

Pydantic models of the documents app/inputs.py describes (its docstring shows the
format) and :func:`validated`, which parses a document against one of them and turns
the first violation into a one-line :class:`InputError` naming the region or workload,
the field and the fix. Checks that need the fleet, the catalog or the clock (unknown
regions, accelerators, grid zones, deadlines) belong to the loaders in app/inputs.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from app.errors import InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LocationIn(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ClusterIn(_Strict):
    name: str = Field(min_length=1)
    capacity: dict[str, StrictInt]
    # MIG layouts running now: accelerator -> {"3g.40gb+4g.40gb": GPUs}
    mig: dict[str, dict[str, StrictInt]] = {}
    # at most this many GPUs on spot, by accelerator (spot pools are smaller than on-demand)
    spot_capacity: dict[str, StrictInt] = {}

    @field_validator("capacity")
    @classmethod
    def _non_negative(cls, value: dict[str, int]) -> dict[str, int]:
        for accelerator, gpus in value.items():
            if gpus < 0:
                raise ValueError(f"capacity of {accelerator} must be >= 0 GPUs, got {gpus}")
        return value


class RegionIn(_Strict):
    name: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    cloud_region: str = Field(min_length=1)
    grid_zone: str | None = Field(default=None, min_length=1)  # default: carbon/zones.py
    pue: float | None = Field(default=None, ge=1.0, le=3.0)
    location: LocationIn
    clusters: list[ClusterIn] = Field(min_length=1)
    market: dict[str, Any] | None = None  # clean_share, residual_mix_g_per_kwh, source


class FleetIn(_Strict):
    regions: list[RegionIn] = Field(min_length=1)
    latency_ms: dict[str, dict[str, float]] = {}  # region -> user location -> measured RTT


class UserIn(_Strict):
    name: str = Field(min_length=1)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ServingIn(_Strict):
    name: str = Field(min_length=1)
    team: str = "default"
    home_region: str
    model_memory_gb: float = Field(gt=0, le=10_000)
    throughput_rps: dict[str, float] = Field(min_length=1)
    demand_rps: float | list[float] | None = None
    demand_history: str | None = Field(default=None, min_length=1)  # app/serving_io.py
    demand_level: StrictInt = Field(default=90, ge=50, le=99)
    users: list[UserIn] = []
    latency_slo_ms: float | None = Field(default=None, gt=0)
    allowed_regions: list[str] = []
    on_demand_floor: float = Field(default=1.0, ge=0.0, le=1.0)
    failover_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    utilisation: float = Field(default=0.6, ge=0.0, le=1.0)

    @field_validator("throughput_rps")
    @classmethod
    def _positive_throughput(cls, value: dict[str, float]) -> dict[str, float]:
        for accelerator, rps in value.items():
            if not 0 < rps <= 1e9:
                raise ValueError(f"throughput of {accelerator} must be > 0 requests/s, got {rps}")
        return value

    @model_validator(mode="after")
    def _one_demand(self) -> ServingIn:
        if (self.demand_rps is None) == (self.demand_history is None):
            raise ValueError("give exactly one of demand_rps (requests/s per hour) and "
                             "demand_history (a request-rate history file to forecast)")
        return self

    @field_validator("demand_rps")
    @classmethod
    def _demand(cls, value: float | list[float] | None) -> float | list[float] | None:
        if value is None:
            return value
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ValueError("give one number or a list of requests/s per hour")
        if any(v < 0 for v in values):
            raise ValueError("demand must be >= 0 requests/s")
        return value


class WorkloadIn(_Strict):
    name: str = Field(min_length=1)
    team: str = "default"
    gpus: StrictInt = Field(ge=1, le=100_000)
    accelerators: dict[str, float] = Field(min_length=1)
    duration: float | str
    earliest_start: str = "now"
    deadline: str
    home_region: str
    allowed_regions: list[str] = []
    gang: StrictBool = True
    checkpoint_interval: float | str | None = None
    restart_overhead: float | str = "6m"
    utilisation: float = Field(default=0.8, ge=0.0, le=1.0)

    @field_validator("accelerators")
    @classmethod
    def _positive_speeds(cls, value: dict[str, float]) -> dict[str, float]:
        for accelerator, speed in value.items():
            if not 0 < speed <= 1000:
                raise ValueError(f"relative speed of {accelerator} must be in (0, 1000], got {speed}")
        return value


class BudgetIn(_Strict):
    usd: float | None = Field(default=None, ge=0)
    kg_co2e: float | None = Field(default=None, ge=0)


class WorkloadsIn(_Strict):
    workloads: list[WorkloadIn] = []
    serving: list[ServingIn] = []
    budgets: dict[str, BudgetIn] = {}  # team -> caps over the plan's horizon

    @model_validator(mode="after")
    def _something(self) -> WorkloadsIn:
        if not self.workloads and not self.serving:
            raise ValueError("no workloads: give at least one entry under 'workloads' or "
                             "'serving'")
        return self


def _without_extensions(raw: Any) -> Any:
    """Drop top-level 'x-...' keys: they only hold YAML anchors (as in compose files)."""
    if isinstance(raw, dict):
        return {k: v for k, v in raw.items() if not str(k).startswith("x-")}
    return raw


_FIXES = {
    "missing": "add the field",
    "extra_forbidden": "remove it or check its spelling",
    "dict_type": "write it as a mapping (key: value)",
    "list_type": "write it as a list ([a, b] or '- item' lines)",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "float_type": "write a number",
    "float_parsing": "write a number",
    "finite_number": "write a finite number",
    "bool_type": "write true or false",
    "string_type": "write a text value",
    "too_short": "give at least one entry",
    "model_type": "write each entry as 'field: value' lines",
    "greater_than_equal": "raise the value",
    "less_than_equal": "lower the value",
}


def _first_error(path: Path | str, exc: ValidationError, raw: Any, key: str) -> InputError:
    err = exc.errors()[0]
    loc = list(err["loc"])
    if not isinstance(raw, dict):
        return InputError(str(path), f"expected a mapping with the key '{key}', got "
                          f"{type(raw).__name__ if raw is not None else 'an empty file'}",
                          fix=f"start the file with '{key}:' and list the entries under it")
    label, what = None, "workload" if key == "workloads" else "region"
    if len(loc) >= 2 and loc[0] in (key, "serving") and isinstance(loc[1], int):
        try:
            label = raw[loc[0]][loc[1]].get("name") or f"#{loc[1] + 1}"
        except (AttributeError, IndexError, KeyError, TypeError):
            label = f"#{loc[1] + 1}"
        loc = loc[2:]
    while loc and loc[-1] in ("float", "str", "int", "bool"):  # which member of a union
        loc.pop()
    field = ".".join(str(p) for p in loc) or None
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "model_type":
        message = f"expected a mapping of fields, got {type(err.get('input')).__name__}"
    fix = _FIXES.get(err["type"], "")
    if what == "workload":
        return InputError(str(path), message, fix=fix, workload=label, field=field)
    where = f"region {label!r}: " if label else ""
    return InputError(str(path), f"{where}{message}", fix=fix, field=field)


def validated(model: type[BaseModel], data: Any, source: str, key: str) -> Any:
    """Parsed input, or the first validation error as one InputError line."""
    raw = _without_extensions(data)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(source, exc, raw, key) from None
