#!/usr/bin/env python3
"""Re-derive carbon/data/{power_curve,gpu_power,intensity_profiles}.csv from ../shared/data.

Usage (from the repo root)::

    python scripts/derive_carbon_defaults.py --data-dir ../shared/data [--out-dir carbon/data]

Inputs (provenance in shared/data/SOURCES.md, sections 1 and 5):

- ``region_metadata/ccf_aws_instances_power.csv``: the Teads dataset as shipped
  by cloud-carbon-footprint/ccf-coefficients @ b0032d928c787cf76cecd7d1d611c5b46f366e29
  (Apache-2.0). Measured AWS instance watts per component at idle, 10 %, 50 % and
  100 % load. Numbers use **decimal commas** ("2407,2").
- ``pricing/aws_spot_advisor_2025-06-28.json``: AWS's Spot Instance Advisor feed
  (via alexei-led/spotinfo @ 05e93313). Used only for instance shapes (vCPU, RAM),
  to show that g5.12xlarge and g6.12xlarge have the same host as g4dn.12xlarge.
- ``carbon_intensity/electricitymaps_hourly/{ZONE}_2023_hourly.csv``: Electricity
  Maps 2023 hourly data via HewlettPackard/green-dcc @ 3f6ea95c (column
  ``Carbon Intensity gCO₂eq/kWh (direct)``, ``Datetime (UTC)`` = start of hour).
- ``carbon_intensity/casper_aws_regions_hourly_ci.csv``: CASPER (carbonfirst/casper
  @ 7b70ea57), one gCO2eq/kWh column per AWS region, Unix-seconds UTC timestamps,
  rows not in time order.

Outputs:

- ``power_curve.csv``: fraction of the GPU's 100 %-load watts at utilisation
  0 (idle), 0.1, 0.5 and 1.0, the mean over the p4d.24xlarge (A100) and
  g4dn.12xlarge (T4) rows of ``GPUWatt @ x / GPUWatt @ 100%``, 4 decimals.
- ``gpu_power.csv``: NVIDIA datasheet board power (literals below), host watts
  per GPU (measured where the file has the instance, otherwise a labelled
  assumption) and embodied g CO2e per GPU-hour (Luccioni et al. for A100,
  scaled by board power otherwise; labelled as an assumption).
- ``intensity_profiles.csv``: per zone, the mean intensity by (month, UTC hour):
  a "typical day per month", 12 x 24 = 288 rows, rounded to 0.1 g/kWh.

The output is deterministic, so ``tests/carbon`` can regenerate it into a temp
dir and compare it byte for byte with the bundled files.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "carbon" / "data"

TEADS_FILE = "region_metadata/ccf_aws_instances_power.csv"
TEADS_SRC = ("Teads dataset via cloud-carbon-footprint/ccf-coefficients @ b0032d92 "
             "(shared/data/" + TEADS_FILE + ")")
SPOT_ADVISOR_FILE = "pricing/aws_spot_advisor_2025-06-28.json"

# --- power curve -------------------------------------------------------------------------------
CURVE_INSTANCES = ("p4d.24xlarge", "g4dn.12xlarge")  # A100 and T4 rows of the Teads file
CURVE_POINTS = ((0.0, "GPUWatt @ Idle"), (0.1, "GPUWatt @ 10%"),
                (0.5, "GPUWatt @ 50%"), (1.0, "GPUWatt @ 100%"))

# --- GPU datasheet figures (literals, with their source) --------------------------------------
# accelerator -> (max board power W, datasheet)
DATASHEET_W: dict[str, tuple[float, str]] = {
    "H100": (700.0, "NVIDIA H100 Tensor Core GPU datasheet: H100 SXM max TDP 700 W"),
    "A100-80GB": (400.0, "NVIDIA A100 Tensor Core GPU datasheet: A100 80GB SXM max TDP 400 W"),
    "A100-40GB": (400.0, "NVIDIA A100 Tensor Core GPU datasheet: A100 40GB SXM max TDP 400 W"),
    "L40S": (350.0, "NVIDIA L40S datasheet: max power consumption 350 W"),
    "L4": (72.0, "NVIDIA L4 Tensor Core GPU datasheet: max thermal design power 72 W"),
    "A10G": (150.0, ("NVIDIA A10 Tensor Core GPU datasheet: max TDP 150 W "
                    "(A10G is AWS's A10 variant and has no public datasheet of its own)")),
    "T4": (70.0, "NVIDIA T4 Tensor Core GPU datasheet: max power 70 W"),
}

# How host watts per GPU are obtained: ("measured", instance) or ("same-host", instance,
# aws instance of this GPU) or ("a100-ratio",).
HOST_RULE: dict[str, tuple[str, ...]] = {
    "H100": ("a100-ratio",),
    "A100-80GB": ("measured", "p4d.24xlarge"),
    "A100-40GB": ("measured", "p4d.24xlarge"),
    "L40S": ("a100-ratio",),
    "L4": ("same-host", "g4dn.12xlarge", "g6.12xlarge"),
    "A10G": ("same-host", "g4dn.12xlarge", "g5.12xlarge"),
    "T4": ("measured", "g4dn.12xlarge"),
}
A100_HOST_INSTANCE = "p4d.24xlarge"
A100_W = 400.0

# Luccioni, Viguier & Ligozat, "Estimating the Carbon Footprint of BLOOM, a 176B Parameter
# Language Model", JMLR 24(253), 2023: 150 kg CO2e per A100 GPU, 2,500 kg CO2e per 8-GPU
# server (excluding GPUs), 6-year life, 85 % use.
EMBODIED_GPU_KG = 150.0
EMBODIED_SERVER_KG = 2500.0
EMBODIED_GPUS_PER_SERVER = 8
EMBODIED_LIFE_H = 6 * 8760
EMBODIED_USE = 0.85
EMBODIED_SRC = ("Luccioni, Viguier & Ligozat 2022 (BLOOM footprint; JMLR 2023): "
                "(150 + 2500/8) kg / (6 y x 8760 h x 0.85)")

# --- intensity ---------------------------------------------------------------------------------
EM_DIR = "carbon_intensity/electricitymaps_hourly"
EM_COLUMN = "Carbon Intensity gCO₂eq/kWh (direct)"
EM_YEAR = 2023
# zone code stored -> file zone prefix
EM_ZONES = {"US-CAL-CISO": "US-CAL-CISO", "US-TEX-ERCO": "US-TEX-ERCO", "DE": "DE-LU",
            "GB": "GB", "SG": "SG", "JP-TK": "JP-TK", "IN-WE": "IN-WE"}
CASPER_FILE = "carbon_intensity/casper_aws_regions_hourly_ci.csv"
# zone code stored -> CASPER column (AWS region)
CASPER_ZONES = {"FR": "eu-west-3", "US-MIDA-PJM": "us-east-1", "BR-CS": "sa-east-1",
                "AU-NSW": "ap-southeast-2"}


def _fmt(x: float, decimals: int) -> str:
    s = f"{round(x, decimals):.{decimals}f}"
    return "0." + "0" * decimals if s.startswith("-") and float(s) == 0 else s


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _teads(data_dir: Path) -> pd.DataFrame:
    df = pd.read_csv(data_dir / TEADS_FILE, decimal=",")
    return df.set_index("Instance type")


def _teads_row(teads: pd.DataFrame, instance: str) -> pd.Series:
    if instance not in teads.index:
        raise SystemExit(f"{TEADS_FILE}: instance {instance!r} not found; "
                         "the shared data is not the expected snapshot")
    return teads.loc[instance]


def derive_power_curve(teads: pd.DataFrame) -> list[list[str]]:
    rows = []
    for util, col in CURVE_POINTS:
        fractions = []
        for inst in CURVE_INSTANCES:
            r = _teads_row(teads, inst)
            fractions.append(float(r[col]) / float(r["GPUWatt @ 100%"]))
        frac = sum(fractions) / len(fractions)
        detail = "; ".join(f"{inst} {_fmt(f, 4)}" for inst, f in zip(CURVE_INSTANCES, fractions))
        src = (f"{TEADS_SRC}: '{col}' / 'GPUWatt @ 100%', mean of {detail}")
        rows.append([_fmt(util, 1), _fmt(frac, 4), src])
    return rows


def host_w_per_gpu(teads: pd.DataFrame, instance: str) -> tuple[float, str]:
    """(CPU W @ 50 % + RAM W @ 50 % + 'Delta Full Machine' W) / GPUs of the instance."""
    r = _teads_row(teads, instance)
    cpu, ram, delta = (float(r["PkgWatt @ 50%"]), float(r["RAMWatt @ 50%"]),
                       float(r["Delta Full Machine"]))
    gpus = int(float(r["Instance Number of GPU"]))
    w = (cpu + ram + delta) / gpus
    how = (f"{instance} (PkgWatt@50% {cpu:g} + RAMWatt@50% {ram:g} + Delta Full Machine "
           f"{delta:g}) / {gpus} GPUs = {w:.1f} W")
    return w, how


def _shape(spot: dict, instance: str) -> str:
    t = spot["instance_types"].get(instance)
    if t is None:
        raise SystemExit(f"{SPOT_ADVISOR_FILE}: instance {instance!r} not found")
    return f"{t['cores']} vCPU/{t['ram_gb']:g} GB"


def derive_gpu_power(teads: pd.DataFrame, spot: dict) -> list[list[str]]:
    a100_host, a100_how = host_w_per_gpu(teads, A100_HOST_INSTANCE)
    ratio = a100_host / A100_W
    embodied_a100_g = ((EMBODIED_GPU_KG + EMBODIED_SERVER_KG / EMBODIED_GPUS_PER_SERVER) * 1000.0
                       / (EMBODIED_LIFE_H * EMBODIED_USE))
    rows = []
    for acc, (max_w, datasheet) in DATASHEET_W.items():
        rule = HOST_RULE[acc]
        if rule[0] == "measured":
            host, how = host_w_per_gpu(teads, rule[1])
            host_src = f"host: measured, {TEADS_SRC}: {how}"
        elif rule[0] == "same-host":
            host, how = host_w_per_gpu(teads, rule[1])
            host_src = (f"host: ASSUMPTION, {rule[2]} is not in the Teads file; its host "
                        f"({_shape(spot, rule[2])}, 4 GPUs, AWS Spot Advisor data) has the "
                        "shape of "
                        f"{rule[1]} ({_shape(spot, rule[1])}, 4 GPUs), so use {how}")
        else:
            host = ratio * max_w
            host_src = (f"host: ASSUMPTION, not in the Teads file; A100 host-to-GPU ratio "
                        f"({a100_how} / {A100_W:g} W = {ratio:.4f}) x {max_w:g} W")
        if acc.startswith("A100"):
            embodied = embodied_a100_g
            emb_src = f"embodied: {EMBODIED_SRC}"
        else:
            embodied = embodied_a100_g * max_w / A100_W
            emb_src = (f"embodied: ASSUMPTION (no per-model LCA is public), A100 figure "
                       f"{embodied_a100_g:.2f} g x {max_w:g}/{A100_W:g} W; {EMBODIED_SRC}")
        src = f"max power: {datasheet} | {host_src} | {emb_src}"
        rows.append([acc, _fmt(max_w, 1), _fmt(host, 1), _fmt(embodied, 2), src])
    return rows


def _profile(times: pd.Series, values: pd.Series) -> pd.Series:
    grouped = values.groupby([times.dt.month.rename("month"), times.dt.hour.rename("hour")]).mean()
    full = pd.MultiIndex.from_product([range(1, 13), range(24)], names=["month", "hour"])
    missing = full.difference(grouped.index)
    if len(missing):
        raise SystemExit(f"no data for (month, hour) {list(missing)[:5]}...")
    return grouped.reindex(full)


def derive_intensity(data_dir: Path) -> list[list[str]]:
    profiles: list[tuple[str, pd.Series, str, str]] = []
    for zone, prefix in EM_ZONES.items():
        f = data_dir / EM_DIR / f"{prefix}_{EM_YEAR}_hourly.csv"
        df = pd.read_csv(f)
        t = pd.to_datetime(df["Datetime (UTC)"], utc=True)
        v = df[EM_COLUMN].astype(float)
        if v.isna().any():
            raise SystemExit(f"{f}: {int(v.isna().sum())} missing values in {EM_COLUMN!r}")
        src = f"Electricity Maps {EM_YEAR} hourly, direct ({prefix} via green-dcc@3f6ea95c)"
        period = f"{t.min():%Y-%m-%dT%H:%MZ}/{t.max():%Y-%m-%dT%H:%MZ}"
        profiles.append((zone, _profile(t, v), src, period))
    casper = pd.read_csv(data_dir / CASPER_FILE).sort_values("timestamp", kind="stable")
    t = pd.to_datetime(casper["timestamp"], unit="s", utc=True)
    period = f"{t.min():%Y-%m-%dT%H:%MZ}/{t.max():%Y-%m-%dT%H:%MZ}"
    for zone, region in CASPER_ZONES.items():
        v = casper[region].astype(float)
        src = f"CASPER hourly AWS {region}, basis not stated upstream (casper@7b70ea57)"
        profiles.append((zone, _profile(t, v), src, period))
    rows = []
    for zone, prof, src, period in sorted(profiles, key=lambda p: p[0]):
        for (month, hour), g in prof.items():
            rows.append([zone, str(month), str(hour), _fmt(float(g), 1), src, period])
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True, help="path to shared/data")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT,
                    help=f"where to write the CSVs (default: {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    data_dir: Path = args.data_dir
    if not (data_dir / "SOURCES.md").is_file():
        print(f"--data-dir {data_dir}: SOURCES.md not found; give the path to shared/data",
              file=sys.stderr)
        return 2
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    teads = _teads(data_dir)
    spot = json.loads((data_dir / SPOT_ADVISOR_FILE).read_text(encoding="utf-8"))
    _write(out / "power_curve.csv", ["utilisation", "fraction_of_max_power", "source"],
           derive_power_curve(teads))
    _write(out / "gpu_power.csv",
           ["accelerator", "max_power_w", "host_w_per_gpu", "embodied_g_per_gpu_hour", "source"],
           derive_gpu_power(teads, spot))
    _write(out / "intensity_profiles.csv",
           ["zone", "month", "hour_utc", "g_per_kwh", "source", "period"],
           derive_intensity(data_dir))
    print(f"wrote power_curve.csv, gpu_power.csv, intensity_profiles.csv to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
