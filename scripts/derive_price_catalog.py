#!/usr/bin/env python3
"""Regenerate pricing/data/gpu_offers.csv from the shared public snapshots.

    python scripts/derive_price_catalog.py [--data-dir ../shared/data]
                                           [--out pricing/data/gpu_offers.csv]

One output row = one (provider, region, instance_type) with whole-instance USD/hour
prices. Only our seven canonical accelerators are kept (H100, A100-80GB, A100-40GB,
L40S, L4, A10G, T4).

Where the numbers come from
---------------------------
GCP   shared ``pricing/gcp_gpu_offers_2026-04-28.csv`` (anycloud-sh/catalog@f4a8218,
      ``gcp/vms.csv``). SkyPilot convention: a row with an empty InstanceType is the
      price of the accelerators alone, a row with an InstanceType (a2/a3/g2 families)
      is the host VM alone. Per zone:

          instance = host(type, zone) + accelerators(name, count, zone)

      and spot likewise (a zone contributes a spot price only if both parts have one).
      The region price is the median over the zones that offer the type (zones carry
      identical prices in this snapshot). T4 is N1-attached and the N1 host is not in
      the snapshot, so GCP T4 is left out rather than under-priced.
Azure shared ``pricing/azure_gpu_offers_2026-04-22.csv`` (anycloud-sh/catalog@787d471,
      ``azure/vms.csv``): whole-VM prices, one row per region. Azure's plain ``A100``
      (ND96asr_v4) is the 40 GB part.
AWS   on-demand GPU prices are not in shared/data. ``AWS_ROWS`` below were transcribed
      by hand from the public mirror anycloud-sh/catalog@5134b89 ``aws/vms.csv`` (read
      through a code-search index; that snapshot's commit date is not known, so
      ``as_of`` is ``unknown``). That file lists spot per availability zone; the spot
      price here is the median over the region's regular AZs (Local Zones such as
      use1-atl2-az1 excluded; AZs without a spot price skipped).

Spot interruption buckets
-------------------------
AWS: the Spot Instance Advisor bucket for (region, Linux, instance type) from shared
``pricing/aws_spot_advisor_2025-06-28.json``; ``bucket_basis`` names that file. When
the advisor has no entry, and for GCP and Azure (which publish no per-offer rate), the
bucket is ``10-15%`` with ``bucket_basis`` = ``assumed``.

A spot price that is not below the on-demand price (the source sometimes caps spot at
on-demand) is dropped: such an offer only adds interruption risk.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "pricing" / "data" / "gpu_offers.csv"

COLUMNS = (
    "provider", "region", "accelerator", "instance_type", "gpus_per_instance",
    "on_demand_usd_per_hour", "spot_usd_per_hour", "spot_interruption_bucket",
    "bucket_basis", "source", "as_of",
)
ASSUMED_BUCKET = "10-15%"
ASSUMED_BASIS = "assumed"
ADVISOR_FILE = "pricing/aws_spot_advisor_2025-06-28.json"
ADVISOR_BASIS = "aws-spot-advisor-2025-06-28"

GCP_FILE = "pricing/gcp_gpu_offers_2026-04-28.csv"
GCP_SOURCE = "anycloud-sh/catalog@f4a8218 gcp/vms.csv (shared gcp_gpu_offers_2026-04-28.csv)"
GCP_AS_OF = "2026-04-28"
AZURE_FILE = "pricing/azure_gpu_offers_2026-04-22.csv"
AZURE_SOURCE = "anycloud-sh/catalog@787d471 azure/vms.csv (shared azure_gpu_offers_2026-04-22.csv)"
AZURE_AS_OF = "2026-04-22"
AWS_SOURCE = "anycloud-sh/catalog@5134b89 aws/vms.csv (hand-transcribed; snapshot date unknown)"
AWS_AS_OF = "unknown"

# ---------------------------------------------------------------------------------------
# AWS: transcribed from anycloud-sh/catalog@5134b895047c454c834c6db730af077e06bdbdca
# aws/vms.csv. (instance_type, accelerator, gpus, region, on-demand USD/h,
# spot USD/h per regular AZ in the file's AZ order; None = AZ listed without spot).
# ---------------------------------------------------------------------------------------
AWS_ROWS: tuple[tuple[str, str, int, str, float, tuple[float | None, ...]], ...] = (
    # g4dn: NVIDIA T4
    ("g4dn.xlarge", "T4", 1, "us-east-1", 0.526, (0.3268, 0.3413, 0.3353, 0.3339, 0.3422)),
    ("g4dn.xlarge", "T4", 1, "us-east-2", 0.526, (0.1817, 0.1809, 0.1734)),
    ("g4dn.xlarge", "T4", 1, "eu-west-3", 0.615, (0.2153, 0.2021, 0.2000)),
    ("g4dn.2xlarge", "T4", 1, "us-east-1", 0.752, (0.3754, 0.3891, 0.4265, 0.3413, 0.4297)),
    ("g4dn.2xlarge", "T4", 1, "us-east-2", 0.752, (0.1918, 0.2041, 0.2095)),
    ("g4dn.2xlarge", "T4", 1, "eu-west-3", 0.879, (0.2802, 0.2140, 0.1942)),
    ("g4dn.4xlarge", "T4", 1, "us-east-1", 1.204, (0.5952, 0.5985, 0.5700, 0.5855, 0.5566)),
    ("g4dn.4xlarge", "T4", 1, "us-east-2", 1.204, (0.4219, 0.3967, 0.4471)),
    ("g4dn.4xlarge", "T4", 1, "eu-west-3", 1.408, (0.5230, 0.4690, 0.4860)),
    ("g4dn.8xlarge", "T4", 1, "us-east-1", 2.176, (0.8213, 0.9359, 0.8397, 0.7736, 0.8549)),
    ("g4dn.8xlarge", "T4", 1, "us-east-2", 2.176, (0.4825, 0.4574, 0.5094)),
    ("g4dn.8xlarge", "T4", 1, "eu-west-3", 2.544, (0.9388, 0.6625, 0.6755)),
    ("g4dn.12xlarge", "T4", 4, "us-east-1", 3.912, (1.7115, 1.7680, 1.7500, 1.6767, 1.8071)),
    ("g4dn.12xlarge", "T4", 4, "us-east-2", 3.912, (1.4449, 1.3741, 1.2733)),
    ("g4dn.12xlarge", "T4", 4, "eu-west-3", 4.574, (1.5633, 1.3441, 1.5867)),
    ("g4dn.16xlarge", "T4", 1, "us-east-1", 4.352, (1.4827, 1.3530, 1.6175, 1.5571, 1.5779)),
    ("g4dn.16xlarge", "T4", 1, "us-east-2", 4.352, (0.7662, 0.6429, 0.6504)),
    ("g4dn.16xlarge", "T4", 1, "eu-west-3", 5.088, (1.7245, 0.8947, 0.9734)),
    ("g4dn.metal", "T4", 8, "us-east-1", 7.824, (7.8240, 4.1522, 7.5128, 4.1427, 5.3961)),
    ("g4dn.metal", "T4", 8, "us-east-2", 7.824, (3.6365, 3.9360, 3.4554)),
    ("g4dn.metal", "T4", 8, "eu-west-3", 9.148, (4.0564, 3.6173, 3.7427)),
    # g5: NVIDIA A10G
    ("g5.xlarge", "A10G", 1, "us-east-1", 1.006, (0.9454, 0.7021, 0.6046, 0.5331, 0.5051)),
    ("g5.xlarge", "A10G", 1, "us-east-2", 1.006, (0.3787, 0.3646, 0.3573)),
    ("g5.xlarge", "A10G", 1, "eu-west-3", 1.277, (0.7668, 0.4669, 0.3689)),
    ("g5.2xlarge", "A10G", 1, "us-east-1", 1.212, (0.7904, 0.9183, 0.9595, 0.8027, 0.8464)),
    ("g5.2xlarge", "A10G", 1, "us-east-2", 1.212, (0.5856, 0.3945, 0.3729)),
    ("g5.2xlarge", "A10G", 1, "eu-west-3", 1.53849, (0.7461, 0.5059, 0.5317)),
    ("g5.4xlarge", "A10G", 1, "us-east-1", 1.624, (1.1363, 0.9513, 1.5423, 1.1107, 0.8349)),
    ("g5.4xlarge", "A10G", 1, "us-east-2", 1.624, (0.4951, 0.5600, 0.5597)),
    ("g5.4xlarge", "A10G", 1, "eu-west-3", 2.06148, (1.2174, 0.5631, 0.4606)),
    ("g5.8xlarge", "A10G", 1, "us-east-1", 2.448, (1.2123, 1.2725, 1.3958, 1.1557, 2.0646)),
    ("g5.8xlarge", "A10G", 1, "us-east-2", 2.448, (0.6577, 0.6195, 0.6064)),
    ("g5.8xlarge", "A10G", 1, "eu-west-3", 3.10745, (None, 1.6310, 1.7678)),
    ("g5.12xlarge", "A10G", 4, "us-east-1", 5.672, (5.6720, 5.4401, 5.4219, 2.1728, 5.2416)),
    ("g5.12xlarge", "A10G", 4, "us-east-2", 5.672, (1.6938, 1.8890, 2.0998)),
    ("g5.12xlarge", "A10G", 4, "eu-west-3", 7.19994, (None, 4.3043, 3.9065)),
    ("g5.16xlarge", "A10G", 1, "us-east-1", 4.096, (2.3297, 3.1132, 2.9838, 2.5475, 2.7512)),
    ("g5.16xlarge", "A10G", 1, "eu-west-3", 5.1994, (None, 1.6319, 3.4440)),
    ("g5.24xlarge", "A10G", 4, "us-east-1", 8.144, (3.9181, 3.5133, 3.8684, 4.3926, 4.4581)),
    ("g5.24xlarge", "A10G", 4, "us-east-2", 8.144, (2.5228, 3.0730, 2.3166)),
    ("g5.24xlarge", "A10G", 4, "eu-west-3", 10.33786, (None, 7.4954, 6.1301)),
    ("g5.48xlarge", "A10G", 8, "us-east-1", 16.288, (16.2880, 10.0020, 9.0827, 6.6453, 7.8251)),
    ("g5.48xlarge", "A10G", 8, "us-east-2", 16.288, (5.8904, 4.5897, 4.3337)),
    ("g5.48xlarge", "A10G", 8, "eu-west-3", 20.67572, (15.2444, 12.1779, 12.9599)),
    # g6: NVIDIA L4 (eu-west-3 lists only euw3-az2 and euw3-az3)
    ("g6.xlarge", "L4", 1, "us-east-1", 0.8048, (0.7366, 0.6685, 0.7973, 0.7068, 0.8048)),
    ("g6.xlarge", "L4", 1, "us-east-2", 0.8048, (0.2442, 0.2389, 0.2266)),
    ("g6.xlarge", "L4", 1, "eu-west-3", 1.0216, (0.3688, 0.3471)),
    ("g6.2xlarge", "L4", 1, "us-east-1", 0.9776, (0.9776, 0.9776, 0.9776, 0.9695, 0.9406)),
    ("g6.2xlarge", "L4", 1, "us-east-2", 0.9776, (0.2468, 0.2310, 0.2278)),
    ("g6.2xlarge", "L4", 1, "eu-west-3", 1.24095, (0.3391, 0.2918)),
    ("g6.4xlarge", "L4", 1, "us-east-1", 1.3232, (1.2625, 1.2655, 1.2500, 1.2717, 1.1198)),
    ("g6.4xlarge", "L4", 1, "us-east-2", 1.3232, (0.3916, 0.3783, 0.3671)),
    ("g6.4xlarge", "L4", 1, "eu-west-3", 1.67965, (0.3695, 0.4137)),
    ("g6.8xlarge", "L4", 1, "us-east-1", 2.0144, (1.1138, 1.1764, 1.2048, 1.0242, 1.1811)),
    ("g6.8xlarge", "L4", 1, "us-east-2", 2.0144, (0.5594, 0.5841, 0.5286)),
    ("g6.8xlarge", "L4", 1, "eu-west-3", 2.55705, (0.8303, 0.8341)),
    ("g6.12xlarge", "L4", 4, "us-east-1", 4.6016, (3.3381, 4.0990, 4.2299, 1.5980, 4.4066)),
    ("g6.12xlarge", "L4", 4, "us-east-2", 4.6016, (1.6134, 1.5562, 1.3916)),
    ("g6.12xlarge", "L4", 4, "eu-west-3", 5.8412, (1.8066, 1.6054)),
    ("g6.16xlarge", "L4", 1, "us-east-1", 3.3968, (1.4825, 1.5615, 1.5528, 1.6257, 1.4681)),
    ("g6.16xlarge", "L4", 1, "us-east-2", 3.3968, (0.9830, 0.9939, 0.9685)),
    ("g6.16xlarge", "L4", 1, "eu-west-3", 4.31184, (1.2814, 1.1364)),
    ("g6.24xlarge", "L4", 4, "us-east-1", 6.6752, (6.6752, 4.3227, 5.4910, 1.8313, 4.4600)),
    ("g6.24xlarge", "L4", 4, "us-east-2", 6.6752, (1.8908, 1.9021, 2.0782)),
    ("g6.24xlarge", "L4", 4, "eu-west-3", 8.47339, (2.7856, 2.8772)),
    ("g6.48xlarge", "L4", 8, "us-east-1", 13.3504, (9.7152, 3.7880, 9.7483, 13.3504, 6.6082)),
    ("g6.48xlarge", "L4", 8, "us-east-2", 13.3504, (4.8793, 3.6635, 5.3287)),
    ("g6.48xlarge", "L4", 8, "eu-west-3", 16.94678, (5.4442, 4.4261)),
    # g6e: NVIDIA L40S (not offered in eu-west-3)
    ("g6e.xlarge", "L40S", 1, "us-east-1", 1.861, (1.6002, 1.5340, 1.4611, 1.6199)),
    ("g6e.xlarge", "L40S", 1, "us-east-2", 1.861, (0.9089, 0.8402, 0.6661)),
    ("g6e.2xlarge", "L40S", 1, "us-east-1", 2.24208, (2.1719, 2.1778, 2.0892, 2.0022)),
    ("g6e.2xlarge", "L40S", 1, "us-east-2", 2.24208, (1.0396, 0.9316, 0.8327)),
    ("g6e.4xlarge", "L40S", 1, "us-east-1", 3.00424, (2.4847, 2.1759, 2.3356, 2.1749)),
    ("g6e.4xlarge", "L40S", 1, "us-east-2", 3.00424, (0.9770, 1.0757, 0.9627)),
    ("g6e.8xlarge", "L40S", 1, "us-east-1", 4.52856, (1.7191, 2.0385, 1.8994, 1.8879)),
    ("g6e.8xlarge", "L40S", 1, "us-east-2", 4.52856, (1.1330, 1.1170, 1.2601)),
    ("g6e.12xlarge", "L40S", 4, "us-east-1", 10.49264, (7.2094, 6.4192, 8.0579, 7.9616)),
    ("g6e.12xlarge", "L40S", 4, "us-east-2", 10.49264, (3.3407, 3.1206, 3.6815)),
    ("g6e.16xlarge", "L40S", 1, "us-east-1", 7.57719, (2.7022, 2.8355, 2.4839, 2.6043)),
    ("g6e.16xlarge", "L40S", 1, "us-east-2", 7.57719, (2.7626, 2.5656, 2.7071)),
    ("g6e.24xlarge", "L40S", 4, "us-east-1", 15.06559, (4.4543, 7.9790, 9.3614, 3.5487)),
    ("g6e.24xlarge", "L40S", 4, "us-east-2", 15.06559, (4.2656, 5.0130, 4.9716)),
    ("g6e.48xlarge", "L40S", 8, "us-east-1", 30.13118, (14.8664, 10.9019, 17.5501, 13.3689)),
    ("g6e.48xlarge", "L40S", 8, "us-east-2", 30.13118, (5.8971, 11.0339, 16.6012)),
    # p4d / p4de: A100 40 GB / 80 GB (not offered in eu-west-3; p4de not in us-east-2)
    ("p4d.24xlarge", "A100-40GB", 8, "us-east-1", 21.957642, (6.8507, 18.8658, 18.1410, 18.2216)),
    ("p4d.24xlarge", "A100-40GB", 8, "us-east-2", 21.95764, (10.7664, 10.2071, 19.3434)),
    ("p4de.24xlarge", "A100-80GB", 8, "us-east-1", 27.44705, (22.2561, 22.1211)),
    # p5: H100 80 GB SXM (not offered in eu-west-3). us-east-1 p5.48xlarge: the Local
    # Zone use1-atl2-az1 (spot 20.4171) is excluded from the median.
    ("p5.4xlarge", "H100", 1, "us-east-1", 6.88, (2.6295, 2.6295, 2.6295, None, 2.6295, 2.6295)),
    ("p5.4xlarge", "H100", 1, "us-east-2", 6.88, (2.6295, None, None)),
    ("p5.48xlarge", "H100", 8, "us-east-1", 55.04,
     (21.0363, 20.7289, 20.5715, 21.0363, 20.6742, 20.0775)),
    ("p5.48xlarge", "H100", 8, "us-east-2", 55.04, (19.8665, 20.2050, 19.7597)),
)

# GCP host family -> (accelerator row name, GPUs). None = not one of our accelerators.
_GCP_G2_GPUS = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}
GCP_CANONICAL = {"A100": "A100-40GB", "A100-80GB": "A100-80GB", "H100": "H100",
                 "H100-MEGA": "H100", "L4": "L4"}
AZURE_CANONICAL = {"A100": "A100-40GB", "A100-80GB": "A100-80GB", "H100": "H100", "T4": "T4"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    provider: str
    region: str
    accelerator: str
    instance_type: str
    gpus_per_instance: int
    on_demand_usd_per_hour: float
    spot_usd_per_hour: float | None
    spot_interruption_bucket: str
    bucket_basis: str
    source: str
    as_of: str

    def cells(self) -> list[str]:
        spot = self.spot_usd_per_hour is not None
        return [self.provider, self.region, self.accelerator, self.instance_type,
                str(self.gpus_per_instance), fmt(self.on_demand_usd_per_hour),
                fmt(self.spot_usd_per_hour) if spot else "",
                self.spot_interruption_bucket if spot else "",
                self.bucket_basis if spot else "", self.source, self.as_of]


def fmt(x: float | None) -> str:
    """Six decimals, trailing zeros dropped (deterministic text for the CSV)."""
    assert x is not None
    return f"{x:.6f}".rstrip("0").rstrip(".")


def usable_spot(on_demand: float, spot: float | None) -> float | None:
    """Keep a spot price only when it is a real discount on on-demand."""
    return spot if spot is not None and 0 < spot < on_demand else None


def gcp_host_accelerator(instance_type: str) -> tuple[str, int] | None:
    """Which accelerator row a GCP host type pairs with, or None if not ours."""
    if m := re.fullmatch(r"a2-highgpu-(\d+)g", instance_type):
        return "A100", int(m[1])
    if instance_type == "a2-megagpu-16g":
        return "A100", 16
    if m := re.fullmatch(r"a2-ultragpu-(\d+)g", instance_type):
        return "A100-80GB", int(m[1])
    if m := re.fullmatch(r"a3-highgpu-(\d+)g", instance_type):
        return "H100", int(m[1])
    if instance_type in ("a3-edgegpu-8g", "a3-edgegpu-8g-nolssd"):
        return "H100", 8
    if instance_type == "a3-megagpu-8g":
        return "H100-MEGA", 8
    if m := re.fullmatch(r"g2-standard-(\d+)", instance_type):
        return "L4", _GCP_G2_GPUS[int(m[1])]
    return None  # a3-ultragpu (H200), a4 (B200), g4 (RTX PRO): not among our seven


def _price(text: str) -> float | None:
    return float(text) if text.strip() else None


def gcp_rows(data_dir: Path) -> list[Row]:
    with open(data_dir / GCP_FILE, newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    accel: dict[tuple[str, str, str, int], tuple[float | None, float | None]] = {}
    hosts: list[dict[str, str]] = []
    for r in records:
        if not r["InstanceType"]:
            key = (r["Region"], r["AvailabilityZone"], r["AcceleratorName"],
                   int(float(r["AcceleratorCount"])))
            accel[key] = (_price(r["Price"]), _price(r["SpotPrice"]))
        else:
            hosts.append(r)

    per_type: dict[tuple[str, str], list[tuple[float, float | None]]] = defaultdict(list)
    pairing: dict[tuple[str, str], tuple[str, int]] = {}
    for h in hosts:
        pair = gcp_host_accelerator(h["InstanceType"])
        if pair is None:
            continue
        name, count = pair
        part = accel.get((h["Region"], h["AvailabilityZone"], name, count))
        host_od, host_spot = _price(h["Price"]), _price(h["SpotPrice"])
        if part is None or host_od is None or part[0] is None:
            continue
        on_demand = host_od + part[0]
        if host_od <= 0 or part[0] <= 0:
            continue
        spot = host_spot + part[1] if host_spot is not None and part[1] is not None else None
        per_type[(h["Region"], h["InstanceType"])].append((on_demand, spot))
        pairing[(h["Region"], h["InstanceType"])] = pair

    rows = []
    for (region, itype), zones in per_type.items():
        name, count = pairing[(region, itype)]
        on_demand = statistics.median(z[0] for z in zones)
        spots = [z[1] for z in zones if z[1] is not None]
        spot = usable_spot(on_demand, statistics.median(spots) if spots else None)
        source = (f"{GCP_SOURCE}: host {itype} + {count}x {name} accelerator row; "
                  f"median of {len(zones)} zone{'s' if len(zones) > 1 else ''}")
        rows.append(Row(provider="gcp", region=region, accelerator=GCP_CANONICAL[name],
                        instance_type=itype, gpus_per_instance=count,
                        on_demand_usd_per_hour=on_demand, spot_usd_per_hour=spot,
                        spot_interruption_bucket=ASSUMED_BUCKET, bucket_basis=ASSUMED_BASIS,
                        source=source, as_of=GCP_AS_OF))
    return rows


def azure_rows(data_dir: Path) -> list[Row]:
    with open(data_dir / AZURE_FILE, newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    rows = []
    for r in records:
        accelerator = AZURE_CANONICAL.get(r["AcceleratorName"])
        count = float(r["AcceleratorCount"])
        on_demand = _price(r["Price"])
        if accelerator is None or count < 1 or not count.is_integer() or not on_demand:
            continue
        rows.append(Row(provider="azure", region=r["Region"], accelerator=accelerator,
                        instance_type=r["InstanceType"], gpus_per_instance=int(count),
                        on_demand_usd_per_hour=on_demand,
                        spot_usd_per_hour=usable_spot(on_demand, _price(r["SpotPrice"])),
                        spot_interruption_bucket=ASSUMED_BUCKET, bucket_basis=ASSUMED_BASIS,
                        source=AZURE_SOURCE, as_of=AZURE_AS_OF))
    return rows


def aws_rows(data_dir: Path) -> list[Row]:
    advisor = json.loads((data_dir / ADVISOR_FILE).read_text(encoding="utf-8"))
    labels = {r["index"]: r["label"] for r in advisor["ranges"]}
    rows = []
    for itype, accelerator, gpus, region, on_demand, per_az in AWS_ROWS:
        priced = [p for p in per_az if p is not None]
        spot = usable_spot(on_demand, statistics.median(priced) if priced else None)
        entry = advisor["spot_advisor"].get(region, {}).get("Linux", {}).get(itype)
        bucket, basis = ((labels[entry["r"]], ADVISOR_BASIS) if entry is not None
                         else (ASSUMED_BUCKET, ASSUMED_BASIS))
        source = (f"{AWS_SOURCE}: spot = median of {len(priced)} AZ"
                  f"{'s' if len(priced) != 1 else ''}" if priced else AWS_SOURCE)
        rows.append(Row(provider="aws", region=region, accelerator=accelerator,
                        instance_type=itype, gpus_per_instance=gpus,
                        on_demand_usd_per_hour=on_demand, spot_usd_per_hour=spot,
                        spot_interruption_bucket=bucket, bucket_basis=basis,
                        source=source, as_of=AWS_AS_OF))
    return rows


def render(rows: Iterable[Row]) -> str:
    ordered = sorted(rows, key=lambda r: (r.provider, r.region, r.accelerator,
                                          r.gpus_per_instance, r.instance_type))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in ordered:
        writer.writerow(row.cells())
    return buf.getvalue()


def derive(data_dir: Path) -> str:
    missing = [p for p in (GCP_FILE, AZURE_FILE, ADVISOR_FILE) if not (data_dir / p).is_file()]
    if missing:
        raise SystemExit(f"{data_dir}: missing {', '.join(missing)}; "
                         "fix: pass --data-dir pointing at the shared data directory")
    return render([*aws_rows(data_dir), *gcp_rows(data_dir), *azure_rows(data_dir)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"shared data directory (default: {DEFAULT_DATA_DIR})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"CSV to write (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    text = derive(args.data_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10)) - 1} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
