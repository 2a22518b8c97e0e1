"""Energy and emissions of GPU work: power curve, host overhead, PUE, embodied carbon.

Maths
-----
Per GPU, at utilisation ``u`` in [0, 1]::

    gpu_draw_w(u) = max_power_w * curve(u)

where ``curve`` is linear interpolation between the points of
``data/power_curve.csv`` (u = 0, 0.1, 0.5, 1; curve(1) = 1). For ``gpus`` GPUs
(or MIG slices with share ``gpu_fraction`` of a GPU) running ``hours`` hours in
a facility with power usage effectiveness ``pue``::

    energy_kwh = (gpu_draw_w(u) + host_w_per_gpu) * gpu_fraction * gpus * hours * pue / 1000

The host share (CPU + RAM + rest of the machine) does not vary with ``u``: it is
the host at 50 % load, the typical state of a host feeding busy GPUs. A MIG slice
is charged its share of both the GPU and the host.

A MIG profile ``Ng.*`` holds N of the GPU's 7 compute slices: ``gpu_fraction = N/7``
(``mig_fraction``).

Emissions (kg CO2e), the two parts the Software Carbon Intensity spec adds::

    operational_kg = sum_h kwh[h] * g_per_kwh[h] / 1000          (basis of the intensity)
    embodied_kg    = embodied_g_per_gpu_hour * gpu_hours * gpu_fraction / 1000

The maths runs on the unit types of ``carbon.units`` (``it_power`` -> ``Power``,
``facility_energy`` -> ``Energy``, ``operational``/``embodied`` -> ``Emissions``);
``energy_kwh``, ``embodied_kg_co2e`` and ``operational_kg_co2e`` are float wrappers
kept for planner/ and app/. Location- vs market-based totals: ``carbon.footprint``.

Where the figures come from (each CSV row names its source; re-derive with
``scripts/derive_carbon_defaults.py --data-dir ../shared/data``)
-----------------------------------------------------------------------------
- ``power_curve.csv``: the Teads dataset of measured AWS instance watts
  (cloud-carbon-footprint/ccf-coefficients @ b0032d92, ``GPUWatt @ Idle/10%/50%/100%``),
  ``watt@u / watt@100%`` averaged over the p4d.24xlarge (A100) and g4dn.12xlarge (T4)
  rows: 0.1140, 0.3124, 0.7385, 1.0. Every GPU row of that file has the same
  normalised curve to 3 decimals, so it is one generic GPU curve, not a per-model one.
- ``gpu_power.csv``:
  ``max_power_w`` is the NVIDIA datasheet board power (H100 SXM 700, A100 SXM 400,
  L40S 350, L4 72, A10 150 for A10G, T4 70).
  ``host_w_per_gpu`` is (CPU W @ 50 % + RAM W @ 50 % + "Delta Full Machine" W) / GPUs
  of the instance in the Teads file: measured for A100 (p4d.24xlarge, 171.8 W) and T4
  (g4dn.12xlarge, 71.0 W). The others are labelled assumptions: A10G and L4 take the
  g4dn.12xlarge figure because g5.12xlarge and g6.12xlarge have the same host
  (48 vCPU, 192 GB, 4 GPUs); H100 and L40S take the A100 host-to-board-power
  ratio (0.4295) times their board power.
  ``embodied_g_per_gpu_hour``: Luccioni, Viguier & Ligozat 2022 ("Estimating the
  Carbon Footprint of BLOOM", JMLR 2023): 150 kg per A100 plus 2,500 kg per 8-GPU
  server, over 6 years at 85 % use: (150 + 2500/8) / (6 * 8760 * 0.85) = 10.35 g per
  GPU-hour. Other models scale it by board power relative to the A100's 400 W, an
  assumption (no per-model life-cycle assessment is public).
- ``pue.csv``: AWS 1.135, GCP 1.1, Azure 1.185 (Cloud Carbon Footprint methodology);
  ``onprem`` and ``default`` 1.56 (Uptime Institute Global Data Center Survey 2024).
"""

from __future__ import annotations

import bisect
import csv
import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from carbon.units import Basis, Emissions, Energy, Intensity, Power

__all__ = [
    "GpuPower",
    "UnknownAcceleratorError",
    "embodied",
    "embodied_kg_co2e",
    "energy_kwh",
    "facility_energy",
    "gpu_draw",
    "gpu_draw_w",
    "gpu_power",
    "it_power",
    "known_accelerators",
    "mig_fraction",
    "operational",
    "operational_kg_co2e",
    "power_curve",
    "pue_for",
]

DEFAULT_PUE_KEY = "default"


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuPower:
    """Power and embodied-carbon figures of one accelerator model (one row of gpu_power.csv)."""

    accelerator: str
    max_power_w: float
    host_w_per_gpu: float
    embodied_g_per_gpu_hour: float
    source: str


class UnknownAcceleratorError(ValueError):
    """An accelerator name with no row in carbon/data/gpu_power.csv."""

    def __init__(self, accelerator: str, known: frozenset[str]) -> None:
        self.accelerator = accelerator
        self.known = known
        hint = ""
        near = [k for k in known if k.lower() == str(accelerator).lower()]
        if near:
            hint = f" (did you mean {near[0]!r}?)"
        super().__init__(
            f"accelerator {accelerator!r} has no power data{hint}; known accelerators: "
            f"{', '.join(sorted(known))}; use one of them or add a row to "
            "carbon/data/gpu_power.csv")


def _rows(name: str) -> list[dict[str, str]]:
    path = resources.files("carbon") / "data" / name
    with path.open("r", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _number(name: str, line: int, field: str, text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"carbon/data/{name} line {line}: field {field!r} = {text!r} is not a "
                         "number; fix the file or re-run scripts/derive_carbon_defaults.py"
                         ) from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"carbon/data/{name} line {line}: field {field!r} = {text!r} must be "
                         "a finite number >= 0; fix the file")
    return value


@functools.cache
def _gpus() -> dict[str, GpuPower]:
    name = "gpu_power.csv"
    out: dict[str, GpuPower] = {}
    for line, r in enumerate(_rows(name), start=2):
        g = GpuPower(
            accelerator=r["accelerator"],
            max_power_w=_number(name, line, "max_power_w", r["max_power_w"]),
            host_w_per_gpu=_number(name, line, "host_w_per_gpu", r["host_w_per_gpu"]),
            embodied_g_per_gpu_hour=_number(name, line, "embodied_g_per_gpu_hour",
                                            r["embodied_g_per_gpu_hour"]),
            source=r["source"],
        )
        if g.accelerator in out:
            raise ValueError(f"carbon/data/{name} line {line}: accelerator {g.accelerator!r} "
                             "appears twice; keep one row per accelerator")
        out[g.accelerator] = g
    return out


@functools.cache
def power_curve() -> tuple[tuple[float, float], ...]:
    """The normalised curve ((utilisation, fraction_of_max_power), ...), by utilisation."""
    name = "power_curve.csv"
    points = sorted(
        (_number(name, line, "utilisation", r["utilisation"]),
         _number(name, line, "fraction_of_max_power", r["fraction_of_max_power"]))
        for line, r in enumerate(_rows(name), start=2))
    us = [u for u, _ in points]
    fs = [f for _, f in points]
    if not points or us[0] != 0.0 or us[-1] != 1.0 or fs[-1] != 1.0:
        raise ValueError(f"carbon/data/{name}: the curve must run from utilisation 0 to 1 and "
                         "reach fraction 1.0 at 1; re-run scripts/derive_carbon_defaults.py")
    if any(b <= a for a, b in itertools.pairwise(us)) or any(b < a for a, b in itertools.pairwise(fs)):
        raise ValueError(f"carbon/data/{name}: utilisations must be distinct and fractions must "
                         "not fall as utilisation rises; fix the file")
    return tuple(points)


@functools.cache
def _pues() -> dict[str, float]:
    name = "pue.csv"
    out = {r["provider"].strip().lower(): _number(name, line, "pue", r["pue"])
           for line, r in enumerate(_rows(name), start=2)}
    if DEFAULT_PUE_KEY not in out:
        raise ValueError(f"carbon/data/{name}: no 'default' row; add one")
    return out


def known_accelerators() -> frozenset[str]:
    """Accelerator names with power data, e.g. 'H100', 'A100-80GB', 'T4'."""
    return frozenset(_gpus())


def gpu_power(accelerator: str) -> GpuPower:
    """The power row of ``accelerator``; UnknownAcceleratorError names it and lists the known."""
    try:
        return _gpus()[accelerator]
    except (KeyError, TypeError):
        raise UnknownAcceleratorError(accelerator, known_accelerators()) from None


def _check_utilisation(utilisation: float) -> float:
    u = float(utilisation)
    if not (0.0 <= u <= 1.0):  # also rejects NaN
        raise ValueError(f"utilisation = {utilisation!r} is outside [0, 1]; give the busy share of "
                         "the GPU as a fraction, e.g. 0.8 for 80 %")
    return u


def gpu_draw_w(accelerator: str, utilisation: float) -> float:
    """Watts drawn by one whole GPU at ``utilisation`` in [0, 1] (linear between curve points)."""
    g = gpu_power(accelerator)
    u = _check_utilisation(utilisation)
    pts = power_curve()
    i = bisect.bisect_right([p[0] for p in pts], u)
    if i >= len(pts):
        frac = pts[-1][1]
    else:
        (u0, f0), (u1, f1) = pts[i - 1], pts[i]
        frac = f0 + (f1 - f0) * (u - u0) / (u1 - u0)
    return g.max_power_w * frac


def pue_for(provider: str) -> float:
    """PUE of ``provider`` ('aws', 'gcp', 'azure', 'onprem'; case-insensitive), else the default."""
    table = _pues()
    return table.get(str(provider).strip().lower(), table[DEFAULT_PUE_KEY])


def _check_nonneg(field: str, value: float, fix: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0.0):
        raise ValueError(f"{field} = {value!r} must be a finite number >= 0; {fix}")
    return v


def _check_fraction(gpu_fraction: float) -> float:
    f = float(gpu_fraction)
    if not (0.0 < f <= 1.0):
        raise ValueError(f"gpu_fraction = {gpu_fraction!r} must be in (0, 1]; give the MIG "
                         "slice's share of the GPU (e.g. 3/7 for a 3g slice of an A100), or 1.0 "
                         "for whole GPUs")
    return f


def mig_fraction(profile: str, *, compute_slices: int = 7) -> float:
    """Share of a GPU that a MIG profile such as ``'3g.40gb'`` holds: compute slices / 7.

    A100 and H100 split into 7 compute slices (NVIDIA MIG user guide); a ``Ng.*``
    profile holds N of them. Energy and embodied carbon of a slice are charged by
    this compute share (the memory share, N/8, is not used)."""
    text = str(profile).strip().lower()
    head = text.split(".", 1)[0]
    if not (head.endswith("g") and head[:-1].isdigit()):
        raise ValueError(f"MIG profile {profile!r} is not of the form '<N>g.<M>gb' (e.g. "
                         "'1g.10gb', '3g.40gb'); give the profile name nvidia.com/mig-* uses")
    n = int(head[:-1])
    if not (1 <= n <= compute_slices):
        raise ValueError(f"MIG profile {profile!r}: {n} compute slices is outside 1..{compute_slices}")
    return n / compute_slices


def gpu_draw(accelerator: str, utilisation: float) -> Power:
    """Power drawn by one whole GPU at ``utilisation`` (see ``gpu_draw_w``)."""
    return Power(gpu_draw_w(accelerator, utilisation))


def it_power(*, accelerator: str, utilisation: float, gpu_fraction: float = 1.0) -> Power:
    """IT power of one GPU (or MIG slice): (GPU draw + host share) x gpu_fraction."""
    g = gpu_power(accelerator)
    f = _check_fraction(gpu_fraction)
    return (gpu_draw(accelerator, utilisation) + Power(g.host_w_per_gpu)) * f


def _check_pue(pue: float) -> float:
    p = float(pue)
    if not (math.isfinite(p) and p >= 1.0):
        raise ValueError(f"pue = {pue!r} must be >= 1.0 (facility energy / IT energy); "
                         "use pue_for(provider) for a default")
    return p


def facility_energy(*, accelerator: str, gpus: float, hours: float, utilisation: float,
                    pue: float, gpu_fraction: float = 1.0) -> Energy:
    """Facility energy: IT power x gpus x hours x PUE."""
    n = _check_nonneg("gpus", gpus, "give the number of GPUs (or MIG slices)")
    h = _check_nonneg("hours", hours, "give the run time in hours")
    p = _check_pue(pue)
    per_gpu = it_power(accelerator=accelerator, utilisation=utilisation, gpu_fraction=gpu_fraction)
    return (per_gpu * n).over(h) * p


def embodied(*, accelerator: str, gpu_hours: float, gpu_fraction: float = 1.0) -> Emissions:
    """Embodied (manufacturing) emissions amortised over ``gpu_hours``; basis EMBODIED."""
    g = gpu_power(accelerator)
    gh = _check_nonneg("gpu_hours", gpu_hours, "give GPUs x hours")
    f = _check_fraction(gpu_fraction)
    return Emissions(kg_co2e=g.embodied_g_per_gpu_hour * gh * f / 1000.0, basis=Basis.EMBODIED)


def operational(*, energy_by_hour: Sequence[Energy],
                intensity_by_hour: Sequence[Intensity]) -> Emissions:
    """Operational emissions: sum over hours of energy x intensity (one basis throughout)."""
    if len(energy_by_hour) != len(intensity_by_hour):
        raise ValueError(f"energy_by_hour has {len(energy_by_hour)} values but intensity_by_hour "
                         f"has {len(intensity_by_hour)}; give one intensity per hour of energy")
    if not energy_by_hour:
        return Emissions.zero()
    parts = [e * i for e, i in zip(energy_by_hour, intensity_by_hour)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


# --- float API (planner/ and app/ call these; thin wrappers over the unit-typed maths) ---------

def energy_kwh(*, accelerator: str, gpus: float, hours: float, utilisation: float, pue: float,
               gpu_fraction: float = 1.0) -> float:
    """Facility kWh: (GPU draw + host share) x gpu_fraction x gpus x hours x PUE / 1000."""
    gpu_power(accelerator)
    return facility_energy(accelerator=accelerator, gpus=gpus, hours=hours,
                           utilisation=utilisation, pue=pue, gpu_fraction=gpu_fraction).kwh


def embodied_kg_co2e(*, accelerator: str, gpu_hours: float, gpu_fraction: float = 1.0) -> float:
    """Embodied (manufacturing) kg CO2e amortised over ``gpu_hours`` of ``accelerator``."""
    return embodied(accelerator=accelerator, gpu_hours=gpu_hours, gpu_fraction=gpu_fraction).kg_co2e


def operational_kg_co2e(*, kwh_by_hour: Sequence[float],
                        g_per_kwh_by_hour: Sequence[float]) -> float:
    """Location-based operational kg CO2e: sum over hours of kWh x g/kWh / 1000."""
    if len(kwh_by_hour) != len(g_per_kwh_by_hour):
        raise ValueError(f"kwh_by_hour has {len(kwh_by_hour)} values but g_per_kwh_by_hour has "
                         f"{len(g_per_kwh_by_hour)}; give one intensity per hour of energy")
    energies = [Energy(_check_nonneg(f"kwh_by_hour[{i}]", k, "energy cannot be negative"))
                for i, k in enumerate(kwh_by_hour)]
    intensities = [Intensity(g_per_kwh=_check_nonneg(f"g_per_kwh_by_hour[{i}]", g,
                                                     "intensity cannot be negative"))
                   for i, g in enumerate(g_per_kwh_by_hour)]
    return operational(energy_by_hour=energies, intensity_by_hour=intensities).kg_co2e
