"""Regenerate pricing/data/gpu_offers.csv from the shared public snapshots.

    python scripts/derive_price_catalog.py [--data-dir ../shared/data]
                                           [--out pricing/data/gpu_offers.csv]

One output row = one (provider, region, instance_type) with whole-instance USD/hour
prices, vCPUs and memory. Only our seven canonical accelerators are kept (H100,
A100-80GB, A100-40GB, L40S, L4, A10G, T4).

Where the numbers come from
---------------------------
GCP   shared ``pricing/gcp_gpu_offers_2026-04-28.csv`` (anycloud-sh/catalog@f4a8218,
      ``gcp/vms.csv``). SkyPilot convention: a row with an empty InstanceType is the
      price of the accelerators alone, a row with an InstanceType (a2/a3/g2 families)
      is the host VM alone. Per zone:

          instance = host(type, zone) + accelerators(name, count, zone)

      and spot likewise (a zone contributes a spot price only if both parts have one).
      The region price is the median over the zones that offer the type (zones carry
      identical prices in this snapshot). vCPUs and memory are the host row's. The
      pairing lives in ``pricing.sources.skypilot`` (the same code imports a fresh
      SkyPilot catalog). T4 is N1-attached and the N1 host is not in the snapshot: a T4
      row pairs the snapshot's T4 price with an n1-standard-(4 x GPUs) host priced from
      ``GCP_N1_STANDARD_1`` (another mirror commit, undated, so these rows say
      ``as_of = unknown``).
Azure shared ``pricing/azure_gpu_offers_2026-04-22.csv`` (anycloud-sh/catalog@787d471,
      ``azure/vms.csv``): whole-VM prices, one row per region. Azure's plain ``A100``
      (ND96asr_v4) is the 40 GB part. Azure sells no L40S, L4, A10G (its A10 is a
      different part) in this snapshot.
AWS   on-demand GPU prices are not in shared/data. The rows below were transcribed by
      hand from the public mirror anycloud-sh/catalog@5134b89 ``aws/vms.csv``, read in
      16,000-character windows through a code-search index; each row names the window
      (``@<character offset>``) it was read from, or ``earlier`` for rows transcribed
      before offsets were recorded. That snapshot's commit date is not known, so
      ``as_of`` is ``unknown``. The file lists spot per availability zone; the spot price
      here is the median over the region's regular AZs (Local Zones such as
      use1-atl2-az1 or usw2-lax1-az1 excluded; AZs listed without a spot price skipped).
      vCPUs and memory per instance type are in ``AWS_SPECS`` (the mirror's vCPUs and
      MemoryGiB columns; tests check them against the Spot Advisor's ``instance_types``).
      Instance sizes were transcribed where the read budget allowed: every region of
      the mirror for g4dn.xlarge/12xlarge, g5.xlarge/12xlarge/48xlarge, all g6 and g6e
      sizes, p4d, p4de, p5.48xlarge and p5.4xlarge; other sizes in some regions only.

Spot interruption buckets
-------------------------
AWS: the Spot Instance Advisor bucket for (region, Linux, instance type) from shared
``pricing/aws_spot_advisor_2025-06-28.json``; ``bucket_basis`` names that file. When
the advisor has no entry, and for GCP and Azure (which publish no per-offer rate), the
bucket is ``10-15%`` with ``bucket_basis`` = ``assumed``.

A spot price that is not at least 1 % below the on-demand price is dropped: the sources
cap spot at on-demand and round it to four decimals (21.1776 against 21.17764), and such
an offer only adds interruption risk.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from pricing.catalog import COLUMNS
from pricing.sources.skypilot import (
    MIN_SPOT_DISCOUNT,
    SkyPilotRow,
    gcp_instances,
    read_skypilot_rows,
    usable_spot,
)

DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "pricing" / "data" / "gpu_offers.csv"

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

GCP_CANONICAL = {"A100": "A100-40GB", "A100-80GB": "A100-80GB", "H100": "H100",
                 "H100-MEGA": "H100", "L4": "L4"}
AZURE_CANONICAL = {"A100": "A100-40GB", "A100-80GB": "A100-80GB", "H100": "H100", "T4": "T4"}

#: instance type -> (vCPUs, memory GiB), from the mirror's vCPUs / MemoryGiB columns.
AWS_SPECS: dict[str, tuple[int, int]] = {
    "g4dn.xlarge": (4, 16), "g4dn.2xlarge": (8, 32), "g4dn.4xlarge": (16, 64),
    "g4dn.8xlarge": (32, 128), "g4dn.12xlarge": (48, 192), "g4dn.16xlarge": (64, 256),
    "g4dn.metal": (96, 384),
    "g5.xlarge": (4, 16), "g5.2xlarge": (8, 32), "g5.4xlarge": (16, 64),
    "g5.8xlarge": (32, 128), "g5.12xlarge": (48, 192), "g5.16xlarge": (64, 256),
    "g5.24xlarge": (96, 384), "g5.48xlarge": (192, 768),
    "g6.xlarge": (4, 16), "g6.2xlarge": (8, 32), "g6.4xlarge": (16, 64),
    "g6.8xlarge": (32, 128), "g6.12xlarge": (48, 192), "g6.16xlarge": (64, 256),
    "g6.24xlarge": (96, 384), "g6.48xlarge": (192, 768),
    "g6e.xlarge": (4, 32), "g6e.2xlarge": (8, 64), "g6e.4xlarge": (16, 128),
    "g6e.8xlarge": (32, 256), "g6e.12xlarge": (48, 384), "g6e.16xlarge": (64, 512),
    "g6e.24xlarge": (96, 768), "g6e.48xlarge": (192, 1536),
    "p4d.24xlarge": (96, 1152), "p4de.24xlarge": (96, 1152),
    "p5.4xlarge": (16, 256), "p5.48xlarge": (192, 2048),
}

# ---------------------------------------------------------------------------------------
# GCP T4 hosts. T4s attach to N1 VMs, which the shared GCP snapshot does not price. The
# n1-standard-1 price per region below was transcribed from the public mirror
# anycloud-sh/catalog@103a08896d08b765f624198b45bdb5d0f0aca597 gcp/vms.csv (read window
# @1138000; every zone of a region carries the same price; commit date unknown). N1
# standard shapes are priced linearly in vCPUs (checked in that window: n1-standard-16 =
# 16 x n1-standard-1 to within 0.0001 USD/h in the seven regions it shows), so the host
# of k T4s is n1-standard-(4k), priced 4k x n1-standard-1, on-demand and spot alike.
# (region -> (on-demand USD/h, spot USD/h) of n1-standard-1)
# ---------------------------------------------------------------------------------------
GCP_N1_SOURCE = ("anycloud-sh/catalog@103a088 gcp/vms.csv read @1138000 (n1-standard-1; "
                 "undated)")
GCP_N1_STANDARD_1: dict[str, tuple[float, float]] = {
    "asia-east1": (0.055, 0.01026), "asia-east2": (0.06646, 0.01441),
    "asia-northeast1": (0.06094, 0.01749), "asia-northeast2": (0.06094, 0.01956),
    "asia-northeast3": (0.06094, 0.02062), "asia-south1": (0.05705, 0.01194),
    "asia-south2": (0.05705, 0.00982), "asia-southeast1": (0.0586, 0.01121),
    "asia-southeast2": (0.06387, 0.01008), "australia-southeast1": (0.0674, 0.02194),
    "australia-southeast2": (0.0674, 0.01065), "europe-central2": (0.05748, 0.01244),
    "europe-north1": (0.0523, 0.01723), "europe-west1": (0.05225, 0.01636),
    "europe-west2": (0.0612, 0.01388), "europe-west3": (0.0612, 0.01774),
    "europe-west4": (0.05229, 0.02282), "europe-west6": (0.06222, 0.01785),
    "me-west1": (0.05225, 0.01623), "northamerica-northeast1": (0.05229, 0.02608),
    "northamerica-northeast2": (0.05229, 0.0192), "southamerica-east1": (0.0754, 0.01301),
    "us-central1": (0.0475, 0.01527), "us-east1": (0.0475, 0.01527),
    "us-east4": (0.0535, 0.0119), "us-west1": (0.0475, 0.01527),
    "us-west2": (0.05705, 0.02204), "us-west3": (0.05705, 0.01913),
    "us-west4": (0.0535, 0.0145),
}
N1_VCPUS_PER_T4 = 4
N1_GIB_PER_VCPU = 3.75

AwsRow = tuple[str, str, int, str, float, tuple[float | None, ...]]

# ---------------------------------------------------------------------------------------
# AWS, transcribed earlier (read offsets not recorded): us-east-1, us-east-2, eu-west-3.
# (instance_type, accelerator, gpus, region, on-demand USD/h, spot USD/h per regular AZ
# in the file's AZ order; None = AZ listed without spot).
# ---------------------------------------------------------------------------------------
AWS_ROWS_EARLIER: tuple[AwsRow, ...] = (
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

# ---------------------------------------------------------------------------------------
# AWS, transcribed in this pass: every other region the mirror lists for these types.
# Same fields plus the read window "@<character offset>" (and a note where an AZ was
# left out).
# ---------------------------------------------------------------------------------------
AWS_ROWS_MORE: tuple[tuple[str, str, int, str, float, tuple[float | None, ...], str], ...] = (
    # g4dn.12xlarge
    ("g4dn.12xlarge", "T4", 4, "af-south-1", 5.19, (0.7767, 2.8550), "@1202000"),
    ("g4dn.12xlarge", "T4", 4, "ap-east-1", 6.024, (2.6375, 2.8602, 3.5000), "@1202000"),
    ("g4dn.12xlarge", "T4", 4, "ap-northeast-1", 5.281, (2.2941, 2.8827, 2.2624), "@1202000"),
    ("g4dn.12xlarge", "T4", 4, "ap-northeast-2", 4.812, (1.9249, 1.7732, 2.8914), "@1202000"),
    ("g4dn.12xlarge", "T4", 4, "ap-northeast-3", 5.281, (1.5475, 1.5641), "@1202000"),
    ("g4dn.12xlarge", "T4", 4, "ap-south-1", 4.306, (1.6517, 1.7425, 1.4553), "@1202000"),
    ("g4dn.12xlarge", "T4", 4, "ap-southeast-1", 5.474, (1.9692, 1.8364, 1.7945), "@1202000"),
    ("g4dn.12xlarge", "T4", 4, "ap-southeast-2", 5.087, (2.5844, 2.2696, 2.4519), "@1202000"),
    ("g4dn.12xlarge", "T4", 4, "ca-central-1", 4.343, (1.7493, 1.8733), "@1218000"),
    ("g4dn.12xlarge", "T4", 4, "eu-central-1", 4.89, (1.9236, 1.9680, 1.9773), "@1218000"),
    ("g4dn.12xlarge", "T4", 4, "eu-north-1", 4.15, (1.4795, 1.9034, 1.0330), "@1218000"),
    ("g4dn.12xlarge", "T4", 4, "eu-south-1", 4.58, (2.2394, 2.7627), "@1218000"),
    ("g4dn.12xlarge", "T4", 4, "eu-west-1", 4.362, (2.2492, 2.0055, 1.9027), "@1218000"),
    ("g4dn.12xlarge", "T4", 4, "eu-west-2", 4.577, (1.8113, 1.7884, 1.8117), "@1218000"),
    ("g4dn.12xlarge", "T4", 4, "us-west-1", 4.694, (1.9456, 1.9451), "@1218000"),
    ("g4dn.12xlarge", "T4", 4, "us-west-2", 3.912,
     (1.5347, 1.6178, 1.5803), "@1218000 (Local Zones usw2-lax1-az1/az2 excluded)"),
    # g4dn.16xlarge
    ("g4dn.16xlarge", "T4", 1, "af-south-1", 5.774, (1.5635, 0.8548), "@1218000"),
    ("g4dn.16xlarge", "T4", 1, "ap-east-1", 6.702, (0.6702, 0.6702, 0.6702), "@1218000"),
    ("g4dn.16xlarge", "T4", 1, "ap-northeast-1", 5.875, (1.0494, 1.4275, 1.1431), "@1218000"),
    ("g4dn.16xlarge", "T4", 1, "ap-northeast-2", 5.353, (0.8856, 1.0141, 1.0150), "@1218000"),
    ("g4dn.16xlarge", "T4", 1, "ap-northeast-3", 5.875, (0.9069, 1.4755), "@1218000"),
    ("g4dn.16xlarge", "T4", 1, "ap-south-1", 4.791, (0.5366, 0.5416, 0.7934), "@1218000"),
    # g4dn.8xlarge
    ("g4dn.8xlarge", "T4", 1, "eu-south-1", 2.547, (0.2547, 0.3597), "@1290000"),
    ("g4dn.8xlarge", "T4", 1, "eu-west-1", 2.426, (1.1323, 1.1724, 1.2134), "@1290000"),
    ("g4dn.8xlarge", "T4", 1, "eu-west-2", 2.546, (0.7732, 0.8346, 0.4391), "@1290000"),
    ("g4dn.8xlarge", "T4", 1, "us-west-1", 2.611, (1.0270, 1.0722), "@1290000"),
    ("g4dn.8xlarge", "T4", 1, "us-west-2", 2.176,
     (0.7120, 0.8310, 0.7650), "@1290000 (Local Zones usw2-lax1-az1/az2 excluded)"),
    # g4dn.metal
    ("g4dn.metal", "T4", 8, "af-south-1", 10.381, (10.3810, 10.3810), "@1290000"),
    ("g4dn.metal", "T4", 8, "ap-east-1", 12.048, (2.9577, 1.4755, 2.7358), "@1290000"),
    ("g4dn.metal", "T4", 8, "ap-northeast-1", 10.562, (3.8070, 4.5311, 5.3311), "@1290000"),
    ("g4dn.metal", "T4", 8, "ap-northeast-2", 9.624, (1.1423, 2.9781, 3.6496), "@1290000"),
    ("g4dn.metal", "T4", 8, "ap-northeast-3", 10.562, (4.6837, 4.2843), "@1290000"),
    ("g4dn.metal", "T4", 8, "ap-south-1", 8.612, (2.8603, 2.5324, 3.5724), "@1290000"),
    ("g4dn.metal", "T4", 8, "ap-southeast-1", 10.948, (4.0488, 3.5811, 3.5628), "@1290000"),
    ("g4dn.metal", "T4", 8, "ap-southeast-2", 10.174, (5.2805, 2.7760, 4.5791), "@1290000"),
    ("g4dn.metal", "T4", 8, "ca-central-1", 8.687, (8.6870, 4.5217), "@1290000"),
    ("g4dn.metal", "T4", 8, "eu-central-1", 9.78, (5.1815, 4.4705, 4.3301), "@1306000"),
    ("g4dn.metal", "T4", 8, "eu-north-1", 8.3, (3.0171, 2.8207, 1.1973), "@1306000"),
    ("g4dn.metal", "T4", 8, "eu-south-1", 9.16, (1.1600, 1.7284), "@1306000"),
    ("g4dn.metal", "T4", 8, "eu-west-1", 8.724, (5.1509, 4.1344, 4.1086), "@1306000"),
    ("g4dn.metal", "T4", 8, "eu-west-2", 9.154, (1.5649, 4.5643, 0.9154), "@1306000"),
    ("g4dn.metal", "T4", 8, "us-west-1", 9.389, (3.5441, 3.5667), "@1306000"),
    ("g4dn.metal", "T4", 8, "us-west-2", 7.824,
     (4.3515, 4.3240, 4.4535), "@1306000 (Local Zones usw2-lax1-az1/az2 excluded)"),
    # g4dn.xlarge
    ("g4dn.xlarge", "T4", 1, "af-south-1", 0.698, (0.3668, 0.2466), "@1306000"),
    ("g4dn.xlarge", "T4", 1, "ap-east-1", 0.81, (0.1445, 0.1482, 0.1692), "@1306000"),
    ("g4dn.xlarge", "T4", 1, "ap-northeast-1", 0.71, (0.2633, 0.2685, 0.2624), "@1306000"),
    ("g4dn.xlarge", "T4", 1, "ap-northeast-2", 0.647, (0.1937, 0.2253, 0.2059), "@1306000"),
    ("g4dn.xlarge", "T4", 1, "ap-northeast-3", 0.71, (0.3146, 0.3122), "@1306000"),
    ("g4dn.xlarge", "T4", 1, "ap-south-1", 0.579, (0.1895, 0.1904, 0.2163), "@1306000"),
    ("g4dn.xlarge", "T4", 1, "ap-southeast-1", 0.736, (0.3205, 0.3192, 0.3050), "@1306000"),
    ("g4dn.xlarge", "T4", 1, "ap-southeast-2", 0.684,
     (0.3627, 0.3243, 0.3560), "@1306000+1322000"),
    ("g4dn.xlarge", "T4", 1, "ca-central-1", 0.584, (0.2532, 0.2508), "@1322000"),
    ("g4dn.xlarge", "T4", 1, "eu-central-1", 0.658, (0.2974, 0.3093, 0.3257), "@1322000"),
    ("g4dn.xlarge", "T4", 1, "eu-north-1", 0.558, (0.1245, 0.1377, 0.1449), "@1322000"),
    ("g4dn.xlarge", "T4", 1, "eu-south-1", 0.616, (0.1886, 0.1246), "@1322000"),
    ("g4dn.xlarge", "T4", 1, "eu-west-1", 0.587, (0.3779, 0.3523, 0.3437), "@1322000"),
    ("g4dn.xlarge", "T4", 1, "eu-west-2", 0.615, (0.2037, 0.1961, 0.2139), "@1322000"),
    ("g4dn.xlarge", "T4", 1, "us-west-1", 0.631, (0.3114, 0.3592), "@1322000"),
    ("g4dn.xlarge", "T4", 1, "us-west-2", 0.526,
     (0.2559, 0.2540, 0.2594), "@1322000 (Local Zones usw2-lax1-az1/az2 excluded)"),
    # g5.12xlarge
    ("g5.12xlarge", "A10G", 4, "ap-east-1", 8.7324, (8.7324, 2.3387), "@1322000"),
    ("g5.12xlarge", "A10G", 4, "ap-northeast-1", 8.22609, (2.7645, 2.1129), "@1322000"),
    ("g5.12xlarge", "A10G", 4, "ap-northeast-2", 6.97442, (2.3455, 2.3340, 2.5203), "@1322000"),
    ("g5.12xlarge", "A10G", 4, "ap-south-1", 6.81091, (1.8288, 2.0431), "@1322000"),
    ("g5.12xlarge", "A10G", 4, "ap-southeast-2", 7.37473, (3.3858, 3.3183), "@1322000"),
    ("g5.12xlarge", "A10G", 4, "ap-southeast-3", 7.93854, (7.9385, 1.9126), "@1322000"),
    ("g5.12xlarge", "A10G", 4, "ca-central-1", 6.29784, (4.0514, 3.6265), "@1322000"),
    ("g5.12xlarge", "A10G", 4, "eu-central-1", 7.09282,
     (3.2374, 3.4075, 3.4011), "@1322000+1338000"),
    ("g5.12xlarge", "A10G", 4, "eu-north-1", 6.01593, (1.8831, 1.5986), "@1338000"),
    ("g5.12xlarge", "A10G", 4, "eu-south-2", 5.97646, (None, 4.9722, 4.2599), "@1338000"),
    ("g5.12xlarge", "A10G", 4, "eu-west-1", 6.33167, (3.3821, 2.6210, 3.2891), "@1338000"),
    ("g5.12xlarge", "A10G", 4, "eu-west-2", 7.19994, (5.6673, 7.1999), "@1338000"),
    ("g5.12xlarge", "A10G", 4, "me-central-1", 6.9575, (2.8482, None), "@1338000"),
    ("g5.12xlarge", "A10G", 4, "us-west-2", 5.672, (4.4348, 3.7400, 3.5511), "@1338000"),
    # g5.16xlarge
    ("g5.16xlarge", "A10G", 1, "ap-east-1", 6.30605, (0.9568, 1.6087), "@1338000"),
    ("g5.16xlarge", "A10G", 1, "ap-northeast-1", 5.94042, (1.0054, 0.9381), "@1338000"),
    ("g5.16xlarge", "A10G", 1, "ap-northeast-2", 5.03653, (1.0989, 1.0066, 1.0561), "@1338000"),
    ("g5.16xlarge", "A10G", 1, "ap-south-1", 4.91846, (1.5709, 1.6340), "@1338000"),
    ("g5.16xlarge", "A10G", 1, "ap-southeast-2", 5.32561, (0.9343, 1.4290), "@1338000"),
    ("g5.16xlarge", "A10G", 1, "ap-southeast-3", 5.73277, (5.7328, 0.9449), "@1338000"),
    ("g5.16xlarge", "A10G", 1, "ca-central-1", 4.54794, (1.8145, 1.4945), "@1338000"),
    ("g5.16xlarge", "A10G", 1, "eu-central-1", 5.12204, (2.0216, 1.4757, 2.2832), "@1338000"),
    ("g5.16xlarge", "A10G", 1, "eu-north-1", 4.34437, (0.8002, 0.8071), "@1338000"),
    # g5.2xlarge
    ("g5.2xlarge", "A10G", 1, "me-central-1", 1.48669, (0.6086, None), "@1384000"),
    ("g5.2xlarge", "A10G", 1, "us-west-2", 1.212, (0.6068, 0.6386, 0.6062), "@1384000"),
    # g5.48xlarge
    ("g5.48xlarge", "A10G", 8, "ap-east-1", 25.0764, (25.0764, 18.5622), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "ap-northeast-1", 23.62246, (20.6227, 23.6225), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "ap-northeast-2", 20.02809,
     (5.8119, 5.2692, 6.7276), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "ap-south-1", 19.55855, (19.4062, 12.2574), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "ap-southeast-2", 21.17764, (21.1776, 21.1776), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "ap-southeast-3", 22.79672, (22.7967, 22.7967), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "ca-central-1", 18.08518, (18.0852, 13.6915), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "eu-central-1", 20.3681,
     (20.3681, 20.3681, 20.3681), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "eu-north-1", 17.27564, (5.5240, 3.7974), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "eu-south-2", 17.16231, (13.4618, 12.9452, 12.0156), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "eu-west-1", 18.18233, (5.2721, 5.2591, 10.3700), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "eu-west-2", 20.67572, (20.6757, 20.6757), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "me-central-1", 19.97951, (8.1791, None), "@1384000"),
    ("g5.48xlarge", "A10G", 8, "us-west-2", 16.288, (14.6199, 14.9249, 8.7255), "@1400000"),
    # g5.4xlarge
    ("g5.4xlarge", "A10G", 1, "ap-east-1", 2.50025, (0.9446, 0.3247), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "ap-northeast-1", 2.35528, (0.7581, 0.8540), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "ap-northeast-2", 1.99691, (0.4271, 0.5162, 0.5097), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "ap-south-1", 1.95009, (0.7168, 0.7380), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "ap-southeast-2", 2.11152, (1.8929, 1.3131), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "ap-southeast-3", 2.27295, (0.6662, 0.6695), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "ca-central-1", 1.80319, (1.7113, 1.4538), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "eu-central-1", 2.03081, (1.1548, 1.2150, 1.1586), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "eu-north-1", 1.72247, (0.4403, 0.3626), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "eu-south-2", 1.71117, (None, None, 1.2727), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "eu-west-1", 1.81287, (1.1410, 1.1040, 1.0509), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "eu-west-2", 2.06148, (0.6948, 0.7316), "@1400000"),
    ("g5.4xlarge", "A10G", 1, "me-central-1", 1.99206, (0.8155, None), "@1412000"),
    ("g5.4xlarge", "A10G", 1, "us-west-2", 1.624,
     (0.6031, 0.6063, 0.6163), "@1412000 (Local Zone usw2-lax1-az1 excluded)"),
    # g5.8xlarge
    ("g5.8xlarge", "A10G", 1, "ap-east-1", 3.76885, (0.4188, 0.8101), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "ap-northeast-1", 3.55033, (1.3260, 1.2800), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "ap-northeast-2", 3.01012, (0.7077, 0.7201, 0.9012), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "ap-south-1", 2.93955, (1.0698, 1.8880), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "ap-southeast-2", 3.18289, (1.0462, 1.3770), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "ap-southeast-3", 3.42623, (0.7044, 1.1043), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "ca-central-1", 2.71811, (1.2768, 1.1184), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "eu-central-1", 3.06122, (1.0616, 0.8083, 1.0665), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "eu-north-1", 2.59644, (0.6429, 0.6211), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "eu-south-2", 2.5794, (1.8496, 0.6959, 0.6778), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "eu-west-1", 2.73271, (1.3540, 1.3696, 1.4074), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "eu-west-2", 3.10745, (0.9426, 1.5144), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "me-central-1", 3.00282, (1.2293, None), "@1412000"),
    ("g5.8xlarge", "A10G", 1, "us-west-2", 2.448,
     (0.8462, 0.8238, 0.8370), "@1428000 (Local Zone usw2-lax1-az1 excluded)"),
    # g5.xlarge
    ("g5.xlarge", "A10G", 1, "ap-east-1", 1.5488, (0.4730, 0.5337), "@1428000"),
    ("g5.xlarge", "A10G", 1, "ap-northeast-1", 1.459, (0.8507, 0.7775), "@1428000"),
    ("g5.xlarge", "A10G", 1, "ap-northeast-2", 1.237, (0.3645, 0.3217, 0.2953), "@1428000"),
    ("g5.xlarge", "A10G", 1, "ap-south-1", 1.208, (0.5371, 0.4741), "@1428000"),
    ("g5.xlarge", "A10G", 1, "ap-southeast-2", 1.308, (0.7508, 0.8885), "@1428000"),
    ("g5.xlarge", "A10G", 1, "ap-southeast-3", 1.408, (1.4080, 0.2080), "@1428000"),
    ("g5.xlarge", "A10G", 1, "ca-central-1", 1.117, (0.4226, 0.6440), "@1428000"),
    ("g5.xlarge", "A10G", 1, "eu-central-1", 1.258, (0.5222, 0.6466, 0.5851), "@1428000"),
    ("g5.xlarge", "A10G", 1, "eu-north-1", 1.067, (0.2998, 0.3027), "@1428000"),
    ("g5.xlarge", "A10G", 1, "eu-south-2", 1.06, (0.2172, 0.2237, 0.2642), "@1428000"),
    ("g5.xlarge", "A10G", 1, "eu-west-1", 1.123, (0.7449, 0.7434, 0.8488), "@1428000"),
    ("g5.xlarge", "A10G", 1, "eu-west-2", 1.277, (0.5484, 0.4728), "@1428000"),
    ("g5.xlarge", "A10G", 1, "me-central-1", 1.234, (0.5052, None), "@1428000"),
    ("g5.xlarge", "A10G", 1, "us-west-2", 1.006,
     (0.5280,), "@1428000 (first AZ only: the rest lies past the read window)"),
    # g6.12xlarge
    ("g6.12xlarge", "L4", 4, "ap-northeast-1", 6.67369, (2.0861, 2.1659), "@1464000"),
    ("g6.12xlarge", "L4", 4, "ap-northeast-2", 5.65823, (1.5105, 1.7181, 1.1763), "@1464000"),
    ("g6.12xlarge", "L4", 4, "ap-south-1", 5.52558, (5.4825, 1.6287), "@1464000"),
    ("g6.12xlarge", "L4", 4, "ap-southeast-2", 5.98299, (1.1209, 3.1725, 5.9830), "@1464000"),
    ("g6.12xlarge", "L4", 4, "ca-central-1", 5.10933, (5.1093, 5.1093, 5.1093), "@1464000"),
    ("g6.12xlarge", "L4", 4, "eu-central-1", 5.75429, (2.4191, 2.6865, 2.3768), "@1464000"),
    ("g6.12xlarge", "L4", 4, "eu-north-1", 4.88062, (1.1497, 1.1128), "@1464000"),
    ("g6.12xlarge", "L4", 4, "eu-south-2", 4.8486, (1.3011, 1.1611, 1.2179), "@1464000"),
    ("g6.12xlarge", "L4", 4, "eu-west-2", 5.8412, (5.7099, 2.3673, 2.6601), "@1464000"),
    ("g6.12xlarge", "L4", 4, "me-central-1", 5.65045, (2.3132, None), "@1480000"),
    ("g6.12xlarge", "L4", 4, "us-west-2", 4.6016, (1.9419, 2.5892, 1.9713, 1.7592), "@1480000"),
    # g6.16xlarge
    ("g6.16xlarge", "L4", 1, "ap-northeast-1", 4.92637, (1.5356, 1.5163), "@1480000"),
    ("g6.16xlarge", "L4", 1, "ap-northeast-2", 4.17678, (1.5472, 0.8048, 1.5429), "@1480000"),
    ("g6.16xlarge", "L4", 1, "ap-south-1", 4.07886, (1.0392, 1.0729), "@1480000"),
    ("g6.16xlarge", "L4", 1, "ap-southeast-2", 4.41652, (1.8023, 1.1222, 2.0470), "@1480000"),
    ("g6.16xlarge", "L4", 1, "ca-central-1", 3.7716, (1.0451, 1.5870, 1.4906), "@1480000"),
    ("g6.16xlarge", "L4", 1, "eu-central-1", 4.24769, (1.5313, 1.2209, 1.4201), "@1480000"),
    ("g6.16xlarge", "L4", 1, "eu-north-1", 3.60277, (0.7856, 0.8092), "@1480000"),
    ("g6.16xlarge", "L4", 1, "eu-south-2", 3.57913, (0.8420, 0.6432, 0.9356), "@1480000"),
    ("g6.16xlarge", "L4", 1, "eu-west-2", 4.31184, (1.0128, 1.4281, 1.3652), "@1480000"),
    ("g6.16xlarge", "L4", 1, "me-central-1", 4.17104, (1.7075, None), "@1480000"),
    ("g6.16xlarge", "L4", 1, "us-west-2", 3.3968,
     (1.3716, 1.4112, 1.4297, 1.5585), "@1480000+1496000"),
    # g6.24xlarge
    ("g6.24xlarge", "L4", 4, "ap-northeast-1", 9.68103, (3.2903, 2.7903), "@1496000"),
    ("g6.24xlarge", "L4", 4, "ap-northeast-2", 8.20797, (3.1850, 2.4402, 2.5308), "@1496000"),
    ("g6.24xlarge", "L4", 4, "ap-south-1", 8.01555, (2.3542, 4.0614), "@1496000"),
    ("g6.24xlarge", "L4", 4, "ap-southeast-2", 8.67909, (4.7607, 8.6791, 8.6791), "@1496000"),
    ("g6.24xlarge", "L4", 4, "ca-central-1", 7.41173, (7.4117, 7.4117, 7.4117), "@1500000"),
    ("g6.24xlarge", "L4", 4, "eu-central-1", 8.34732, (3.0230, 3.3226, 3.0714), "@1500000"),
    ("g6.24xlarge", "L4", 4, "eu-north-1", 7.07996, (1.5695, 1.6723), "@1500000"),
    ("g6.24xlarge", "L4", 4, "eu-south-2", 7.03351, (1.7412, 1.9074, 2.1635), "@1500000"),
    ("g6.24xlarge", "L4", 4, "eu-west-2", 8.47339, (6.9011, 4.0000, 4.0589), "@1500000"),
    ("g6.24xlarge", "L4", 4, "me-central-1", 8.19669, (3.3555, None), "@1500000"),
    ("g6.24xlarge", "L4", 4, "us-west-2", 6.6752, (3.0731, 2.8802, 2.8603, 2.9779), "@1500000"),
    # g6.2xlarge
    ("g6.2xlarge", "L4", 1, "ap-northeast-1", 1.41781, (0.5430, 0.5707), "@1500000"),
    ("g6.2xlarge", "L4", 1, "ap-northeast-2", 1.20208, (0.2739, 0.2493, 0.2228), "@1500000"),
    ("g6.2xlarge", "L4", 1, "ap-south-1", 1.1739, (0.3768, 0.5284), "@1500000"),
    ("g6.2xlarge", "L4", 1, "ap-southeast-2", 1.27107, (0.5541, 0.4259, 0.5796), "@1500000"),
    ("g6.2xlarge", "L4", 1, "ca-central-1", 1.08547, (0.6481, 0.8081, 1.0855), "@1500000"),
    ("g6.2xlarge", "L4", 1, "eu-central-1", 1.22249, (0.5562, 0.4893, 0.5430), "@1500000"),
    ("g6.2xlarge", "L4", 1, "eu-north-1", 1.03688, (0.2013, 0.1923), "@1500000"),
    ("g6.2xlarge", "L4", 1, "eu-south-2", 1.03008, (0.1573, 0.1365, 0.2711), "@1500000"),
    ("g6.2xlarge", "L4", 1, "eu-west-2", 1.24095, (0.5859, 0.4141, 0.4175), "@1516000"),
    ("g6.2xlarge", "L4", 1, "me-central-1", 1.20043, (0.4914, None), "@1516000"),
    ("g6.2xlarge", "L4", 1, "us-west-2", 0.9776, (0.9559, 0.9752, 0.8994, 0.5588), "@1516000"),
    # g6.48xlarge
    ("g6.48xlarge", "L4", 8, "ap-northeast-1", 19.36206, (5.7577, 5.9622), "@1516000"),
    ("g6.48xlarge", "L4", 8, "ap-northeast-2", 16.41595, (5.8263, 4.2278, 3.6180), "@1516000"),
    ("g6.48xlarge", "L4", 8, "ap-south-1", 16.0311, (15.9062, 8.6749), "@1516000"),
    ("g6.48xlarge", "L4", 8, "ap-southeast-2", 17.35817,
     (4.6735, 17.3582, 17.3582), "@1516000"),
    ("g6.48xlarge", "L4", 8, "ca-central-1", 14.82346, (14.8235, 14.8235, 14.8235), "@1516000"),
    ("g6.48xlarge", "L4", 8, "eu-central-1", 16.69464, (6.3659, 6.1899, 6.4555), "@1516000"),
    ("g6.48xlarge", "L4", 8, "eu-north-1", 14.15992, (2.2675, 1.6940), "@1516000"),
    ("g6.48xlarge", "L4", 8, "eu-south-2", 14.06702, (3.8615, 3.7145, 1.5047), "@1516000"),
    ("g6.48xlarge", "L4", 8, "eu-west-2", 16.94678, (16.9468, 2.7448, 3.8234), "@1516000"),
    ("g6.48xlarge", "L4", 8, "me-central-1", 16.39339, (6.7111, None), "@1516000"),
    ("g6.48xlarge", "L4", 8, "us-west-2", 13.3504,
     (6.7498, 5.9905, 8.1281, 5.9011), "@1532000"),
    # g6.4xlarge
    ("g6.4xlarge", "L4", 1, "ap-northeast-1", 1.91903, (0.6322, 0.6454), "@1532000"),
    ("g6.4xlarge", "L4", 1, "ap-northeast-2", 1.62704, (0.2963, 0.2976, 0.3146), "@1532000"),
    ("g6.4xlarge", "L4", 1, "ap-south-1", 1.58889, (0.5077, 0.5335), "@1532000"),
    ("g6.4xlarge", "L4", 1, "ap-southeast-2", 1.72042, (1.0014, 0.8836, 1.1776), "@1532000"),
    ("g6.4xlarge", "L4", 1, "ca-central-1", 1.4692, (1.4692, 1.4692, 1.4692), "@1532000"),
    ("g6.4xlarge", "L4", 1, "eu-central-1", 1.65466, (0.6290, 0.6939, 0.6543), "@1532000"),
    ("g6.4xlarge", "L4", 1, "eu-north-1", 1.40343, (0.2412, 0.2448), "@1532000"),
    ("g6.4xlarge", "L4", 1, "eu-south-2", 1.39423, (0.1777, 0.1543, 0.3256), "@1532000"),
    ("g6.4xlarge", "L4", 1, "eu-west-2", 1.67965, (1.1698, 0.5418, 0.5340), "@1532000"),
    ("g6.4xlarge", "L4", 1, "me-central-1", 1.6248, (0.6652, None), "@1532000"),
    ("g6.4xlarge", "L4", 1, "us-west-2", 1.3232, (0.7528, 0.6313, 0.7236, 0.6694), "@1532000"),
    # g6.8xlarge
    ("g6.8xlarge", "L4", 1, "ap-northeast-1", 2.92148, (1.0359, 1.0791), "@1532000"),
    ("g6.8xlarge", "L4", 1, "ap-northeast-2", 2.47695,
     (0.4266, 0.5372, 0.2477), "@1532000+1548000"),
    ("g6.8xlarge", "L4", 1, "ap-south-1", 2.41888, (0.5061, 0.6511), "@1548000"),
    ("g6.8xlarge", "L4", 1, "ap-southeast-2", 2.61912, (1.0726, 1.0622, 1.1952), "@1548000"),
    ("g6.8xlarge", "L4", 1, "ca-central-1", 2.23666, (0.8408, 0.5609, 1.3993), "@1548000"),
    ("g6.8xlarge", "L4", 1, "eu-central-1", 2.519, (0.9474, 0.8676, 0.8857), "@1548000"),
    ("g6.8xlarge", "L4", 1, "eu-north-1", 2.13655, (0.5507, 0.5424), "@1548000"),
    ("g6.8xlarge", "L4", 1, "eu-south-2", 2.12253, (0.2123, 0.2123, 0.2123), "@1548000"),
    ("g6.8xlarge", "L4", 1, "eu-west-2", 2.55705, (0.5208, 0.9063, 0.8300), "@1548000"),
    ("g6.8xlarge", "L4", 1, "me-central-1", 2.47355, (1.0126, None), "@1548000"),
    ("g6.8xlarge", "L4", 1, "us-west-2", 2.0144, (0.8261, 0.8831, 0.8543, 0.9809), "@1548000"),
    # g6.xlarge
    ("g6.xlarge", "L4", 1, "ap-northeast-1", 1.1672, (0.4653, 0.5080), "@1548000"),
    ("g6.xlarge", "L4", 1, "ap-northeast-2", 0.9896, (0.2524, 0.2286, 0.1994), "@1548000"),
    ("g6.xlarge", "L4", 1, "ap-south-1", 0.9664, (0.4748, 0.4340), "@1548000"),
    ("g6.xlarge", "L4", 1, "ap-southeast-2", 1.0464, (0.5327, 0.7158, 0.6069), "@1548000"),
    ("g6.xlarge", "L4", 1, "ca-central-1", 0.8936, (0.8936, 0.8936, 0.8936), "@1548000"),
    ("g6.xlarge", "L4", 1, "eu-central-1", 1.0064,
     (0.5039, 0.4554, 0.4759), "@1548000+1564000"),
    ("g6.xlarge", "L4", 1, "eu-north-1", 0.8536, (0.2183, 0.2011), "@1564000"),
    ("g6.xlarge", "L4", 1, "eu-south-2", 0.848, (0.2662, 0.2397, 0.2359), "@1564000"),
    ("g6.xlarge", "L4", 1, "eu-west-2", 1.0216, (0.3677, 0.3731, 0.3566), "@1564000"),
    ("g6.xlarge", "L4", 1, "me-central-1", 0.98824, (0.4046, None), "@1564000"),
    ("g6.xlarge", "L4", 1, "us-west-2", 0.8048, (0.6516, 0.5454, 0.4891, 0.4729), "@1564000"),
    # g6e.12xlarge
    ("g6e.12xlarge", "L40S", 4, "ap-northeast-1", 15.21742, (5.0506, 4.9433), "@1564000"),
    ("g6e.12xlarge", "L40S", 4, "ap-northeast-2", 12.90014, (3.8502, 3.5471), "@1564000"),
    ("g6e.12xlarge", "L40S", 4, "ap-northeast-3", 15.21742, (4.7972, 4.6082), "@1564000"),
    ("g6e.12xlarge", "L40S", 4, "ap-south-1", 12.60131, (10.7631, 10.9180), "@1564000"),
    ("g6e.12xlarge", "L40S", 4, "eu-central-1", 13.12002,
     (3.9266, 5.2904, 13.1200), "@1564000"),
    ("g6e.12xlarge", "L40S", 4, "eu-north-1", 11.12975, (10.1332, 3.0979), "@1564000"),
    ("g6e.12xlarge", "L40S", 4, "eu-south-2", 11.05645, (2.5159, 10.8800), "@1564000"),
    ("g6e.12xlarge", "L40S", 4, "me-central-1", 12.87194, (5.2695, None), "@1564000"),
    ("g6e.12xlarge", "L40S", 4, "us-west-2", 10.49264,
     (8.0900, 8.3990, 8.1510, 5.7130), "@1564000+1580000"),
    # g6e.16xlarge
    ("g6e.16xlarge", "L40S", 1, "ap-northeast-1", 10.98917, (1.8024, 1.8106), "@1580000"),
    ("g6e.16xlarge", "L40S", 1, "ap-northeast-2", 9.31575, (2.6468, 1.4802), "@1580000"),
    ("g6e.16xlarge", "L40S", 1, "ap-northeast-3", 10.98917, (1.4799, 2.4658), "@1580000"),
    ("g6e.16xlarge", "L40S", 1, "ap-south-1", 9.09996, (1.2439, 3.2758), "@1580000"),
    ("g6e.16xlarge", "L40S", 1, "eu-central-1", 9.47454, (2.8996, 1.9193, 3.6332), "@1580000"),
    ("g6e.16xlarge", "L40S", 1, "eu-north-1", 8.03728, (2.6347, 2.9142), "@1580000"),
    ("g6e.16xlarge", "L40S", 1, "eu-south-2", 7.98435, (2.0332, 1.4002), "@1580000"),
    ("g6e.16xlarge", "L40S", 1, "me-central-1", 9.2954, (3.8053, None), "@1580000"),
    ("g6e.16xlarge", "L40S", 1, "us-west-2", 7.57719,
     (3.5403, 2.7933, 2.7936, 2.9301), "@1580000"),
    # g6e.24xlarge
    ("g6e.24xlarge", "L40S", 4, "ap-northeast-1", 21.84956, (5.4878, 5.7561), "@1580000"),
    ("g6e.24xlarge", "L40S", 4, "ap-northeast-2", 18.52234, (4.5255, 4.2387), "@1580000"),
    ("g6e.24xlarge", "L40S", 4, "ap-northeast-3", 21.84956, (4.4103, 6.4554), "@1580000"),
    ("g6e.24xlarge", "L40S", 4, "ap-south-1", 18.09328, (12.6012, 17.9524), "@1580000"),
    ("g6e.24xlarge", "L40S", 4, "eu-central-1", 18.83806,
     (5.5566, 18.8381, 18.8381), "@1580000"),
    ("g6e.24xlarge", "L40S", 4, "eu-north-1", 15.98037, (14.5494, 4.4378), "@1580000"),
    ("g6e.24xlarge", "L40S", 4, "eu-south-2", 15.87513, (2.8805, 15.6218), "@1580000"),
    ("g6e.24xlarge", "L40S", 4, "me-central-1", 18.48186, (7.5660, None), "@1580000"),
    ("g6e.24xlarge", "L40S", 4, "us-west-2", 15.06559,
     (5.8919, 7.0602, 7.4280, 15.0656), "@1596000"),
    # g6e.2xlarge
    ("g6e.2xlarge", "L40S", 1, "ap-northeast-1", 3.25168, (1.2266, 1.2937), "@1596000"),
    ("g6e.2xlarge", "L40S", 1, "ap-northeast-2", 2.75652, (1.1208, 0.9414), "@1596000"),
    ("g6e.2xlarge", "L40S", 1, "ap-northeast-3", 3.25168, (1.1648, 0.9180), "@1596000"),
    ("g6e.2xlarge", "L40S", 1, "ap-south-1", 2.69266, (1.1421, 1.2540), "@1596000"),
    ("g6e.2xlarge", "L40S", 1, "eu-central-1", 2.8035, (2.8035, 1.9365, 2.8035), "@1596000"),
    ("g6e.2xlarge", "L40S", 1, "eu-north-1", 2.37822, (0.7950, 1.0637), "@1596000"),
    ("g6e.2xlarge", "L40S", 1, "eu-south-2", 2.36256, (1.7405, 1.0102), "@1596000"),
    ("g6e.2xlarge", "L40S", 1, "me-central-1", 2.75049, (1.1260, None), "@1596000"),
    ("g6e.2xlarge", "L40S", 1, "us-west-2", 2.24208,
     (1.9678, 1.7841, 1.0902, 1.0013), "@1596000"),
    # g6e.48xlarge
    ("g6e.48xlarge", "L40S", 8, "ap-northeast-1", 43.69912, (13.6415, 13.5842), "@1596000"),
    ("g6e.48xlarge", "L40S", 8, "ap-northeast-2", 37.04468, (8.8890, 10.3460), "@1596000"),
    ("g6e.48xlarge", "L40S", 8, "ap-northeast-3", 43.69912, (10.4156, 11.1021), "@1596000"),
    ("g6e.48xlarge", "L40S", 8, "ap-south-1", 36.18656, (35.9047, 35.9047), "@1596000"),
    ("g6e.48xlarge", "L40S", 8, "eu-central-1", 37.67612,
     (37.6761, 37.6761, 37.6761), "@1596000"),
    ("g6e.48xlarge", "L40S", 8, "eu-north-1", 31.96075, (29.0989, 16.6756), "@1596000"),
    ("g6e.48xlarge", "L40S", 8, "eu-south-2", 31.75027, (31.1616, 31.1616), "@1596000+1612000"),
    ("g6e.48xlarge", "L40S", 8, "me-central-1", 36.96372, (15.1321, None), "@1612000"),
    ("g6e.48xlarge", "L40S", 8, "us-west-2", 30.13118,
     (15.6059, 9.8080, 13.6080, 13.0284), "@1612000"),
    # g6e.4xlarge
    ("g6e.4xlarge", "L40S", 1, "ap-northeast-1", 4.35703, (1.6356, 1.5995), "@1612000"),
    ("g6e.4xlarge", "L40S", 1, "ap-northeast-2", 3.69355, (1.4683, 1.2701), "@1612000"),
    ("g6e.4xlarge", "L40S", 1, "ap-northeast-3", 4.35703, (1.8009, 1.1964), "@1612000"),
    ("g6e.4xlarge", "L40S", 1, "ap-south-1", 3.60799, (1.2368, 1.6091), "@1612000"),
    ("g6e.4xlarge", "L40S", 1, "eu-central-1", 3.75651, (1.4429, 1.4815, 0.5492), "@1612000"),
    ("g6e.4xlarge", "L40S", 1, "eu-north-1", 3.18666, (1.1584, 1.1957), "@1612000"),
    ("g6e.4xlarge", "L40S", 1, "eu-south-2", 3.16567, (0.7395, 0.3804), "@1612000"),
    ("g6e.4xlarge", "L40S", 1, "me-central-1", 3.68548, (1.5087, None), "@1612000"),
    ("g6e.4xlarge", "L40S", 1, "us-west-2", 3.00424,
     (2.3067, 1.5295, 3.0042, 1.3113), "@1612000"),
    # g6e.8xlarge
    ("g6e.8xlarge", "L40S", 1, "ap-northeast-1", 6.56775, (1.6848, 1.7485), "@1612000"),
    ("g6e.8xlarge", "L40S", 1, "ap-northeast-2", 5.56762, (1.7409, 1.6389), "@1612000"),
    ("g6e.8xlarge", "L40S", 1, "ap-northeast-3", 6.56775, (1.9255, 1.6876), "@1612000"),
    ("g6e.8xlarge", "L40S", 1, "ap-south-1", 5.43865, (1.1838, 2.6288), "@1612000"),
    ("g6e.8xlarge", "L40S", 1, "eu-central-1", 5.66252,
     (2.3101, 2.2536, 5.6625), "@1612000+1628000"),
    ("g6e.8xlarge", "L40S", 1, "eu-north-1", 4.80353, (1.4045, 1.3997), "@1628000"),
    ("g6e.8xlarge", "L40S", 1, "eu-south-2", 4.7719, (0.9414, 1.4038), "@1628000"),
    ("g6e.8xlarge", "L40S", 1, "me-central-1", 5.55545, (2.2743, None), "@1628000"),
    ("g6e.8xlarge", "L40S", 1, "us-west-2", 4.52856,
     (2.5069, 1.7906, 1.6219, 1.6215), "@1628000"),
    # g6e.xlarge
    ("g6e.xlarge", "L40S", 1, "ap-northeast-1", 2.699, (1.1636, 1.2290), "@1628000"),
    ("g6e.xlarge", "L40S", 1, "ap-northeast-2", 2.288, (1.0653, 0.9470), "@1628000"),
    ("g6e.xlarge", "L40S", 1, "ap-northeast-3", 2.699, (1.0784, 1.6871), "@1628000"),
    ("g6e.xlarge", "L40S", 1, "ap-south-1", 2.235, (0.8812, 2.2176), "@1628000"),
    ("g6e.xlarge", "L40S", 1, "eu-central-1", 2.327, (2.3270, 1.6481, 2.3270), "@1628000"),
    ("g6e.xlarge", "L40S", 1, "eu-north-1", 1.974, (0.5961, 0.6260), "@1628000"),
    ("g6e.xlarge", "L40S", 1, "eu-south-2", 1.961, (0.7462, 0.8397), "@1628000"),
    ("g6e.xlarge", "L40S", 1, "me-central-1", 2.283, (0.9346, None), "@1628000"),
    ("g6e.xlarge", "L40S", 1, "us-west-2", 1.861, (1.6555, 1.6703, 1.6824, 1.1097), "@1628000"),
    # p4d.24xlarge
    ("p4d.24xlarge", "A100-40GB", 8, "ap-northeast-1", 30.09784,
     (30.0978, 16.0859), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "ap-northeast-2", 30.41028, (4.5528, 11.8375), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "ap-south-1", 26.3444,
     (26.1392, 26.1392, 26.1392), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "ap-southeast-2", 28.54493,
     (12.0920, 28.5449), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "ca-central-1", 25.25174, (25.2517, 24.0192), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "eu-central-1", 27.43298,
     (10.2906, 27.4330, 27.4330), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "eu-north-1", 23.71569, (4.9056,), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "eu-west-1", 23.71569, (16.1304,), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "eu-west-2", 28.54493, (28.5449, 16.6339), "@3550000"),
    ("p4d.24xlarge", "A100-40GB", 8, "us-west-2", 21.95764,
     (16.5498, 17.0307, 16.0985, 12.3110), "@3550000"),
    # p4de.24xlarge
    ("p4de.24xlarge", "A100-80GB", 8, "ap-northeast-1", 37.6223,
     (19.2371, 18.9348), "@3550000"),
    ("p4de.24xlarge", "A100-80GB", 8, "ap-southeast-1", 32.93646,
     (32.9365, 32.9365), "@3550000"),
    ("p4de.24xlarge", "A100-80GB", 8, "eu-central-1", 34.29122, (27.0074, 34.2912), "@3550000"),
    ("p4de.24xlarge", "A100-80GB", 8, "us-west-2", 27.44705,
     (20.2682, 21.6537, 20.9588), "@3550000"),
    # p5.48xlarge
    ("p5.48xlarge", "H100", 8, "ap-northeast-1", 68.8, (22.0188, 22.2883), "@3550000"),
    ("p5.48xlarge", "H100", 8, "ap-northeast-2", 75.9552, (None,), "@3550000"),
    ("p5.48xlarge", "H100", 8, "ap-south-1", 66.048, (18.0100, 19.8210, 19.0009), "@3550000"),
    ("p5.48xlarge", "H100", 8, "ap-southeast-2", 71.552,
     (71.5520, 71.5520, 24.7397), "@3550000"),
    ("p5.48xlarge", "H100", 8, "ap-southeast-3", 75.9552, (75.9552,), "@3550000+3566000"),
    ("p5.48xlarge", "H100", 8, "ca-central-1", 63.296, (25.2603,), "@3566000"),
    ("p5.48xlarge", "H100", 8, "eu-north-1", 58.8928, (None, None, 26.5858), "@3566000"),
    ("p5.48xlarge", "H100", 8, "eu-west-2", 71.552, (31.2458, 71.5520, 16.8659), "@3566000"),
    ("p5.48xlarge", "H100", 8, "us-west-1", 68.8, (None, 26.0552), "@3566000"),
    ("p5.48xlarge", "H100", 8, "us-west-2", 55.04,
     (20.4097, 20.6769, 20.4166, 20.7209), "@3566000"),
    # p5.4xlarge
    ("p5.4xlarge", "H100", 1, "ap-northeast-1", 8.6, (2.9498,), "@3566000"),
    ("p5.4xlarge", "H100", 1, "ap-south-1", 8.256, (2.4776, 2.4776, None), "@3566000"),
    ("p5.4xlarge", "H100", 1, "ap-southeast-2", 8.944, (2.8707,), "@3566000"),
    ("p5.4xlarge", "H100", 1, "ap-southeast-3", 9.4944, (9.4944,), "@3566000"),
    ("p5.4xlarge", "H100", 1, "eu-west-2", 8.944, (None, None, 8.9440), "@3566000"),
    ("p5.4xlarge", "H100", 1, "us-west-2", 6.88, (2.6295, 2.6295, 2.6295, 2.6295), "@3566000"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    provider: str
    region: str
    accelerator: str
    instance_type: str
    gpus_per_instance: int
    vcpus: float | None
    memory_gib: float | None
    on_demand_usd_per_hour: float
    spot_usd_per_hour: float | None
    spot_interruption_bucket: str
    bucket_basis: str
    source: str
    as_of: str

    def cells(self) -> list[str]:
        spot = self.spot_usd_per_hour is not None
        return [self.provider, self.region, self.accelerator, self.instance_type,
                str(self.gpus_per_instance), fmt_opt(self.vcpus), fmt_opt(self.memory_gib),
                fmt(self.on_demand_usd_per_hour),
                fmt(self.spot_usd_per_hour) if spot else "",
                self.spot_interruption_bucket if spot else "",
                self.bucket_basis if spot else "", self.source, self.as_of]


def fmt(x: float | None) -> str:
    """Six decimals, trailing zeros dropped (deterministic text for the CSV)."""
    assert x is not None
    return f"{x:.6f}".rstrip("0").rstrip(".")


def fmt_opt(x: float | None) -> str:
    return "" if x is None else fmt(x)


def _read_shared(data_dir: Path, name: str) -> str:
    return (data_dir / name).read_text(encoding="utf-8")


def gcp_rows(data_dir: Path) -> list[Row]:
    rows = read_skypilot_rows(_read_shared(data_dir, GCP_FILE), label=GCP_FILE)
    out = []
    for inst in gcp_instances(rows):
        if inst.accelerator_name not in GCP_CANONICAL:
            continue
        out.append(Row(provider="gcp", region=inst.region,
                       accelerator=GCP_CANONICAL[inst.accelerator_name],
                       instance_type=inst.instance_type, gpus_per_instance=inst.gpus,
                       vcpus=inst.vcpus, memory_gib=inst.memory_gib,
                       on_demand_usd_per_hour=inst.on_demand_usd_per_hour,
                       spot_usd_per_hour=inst.spot_usd_per_hour,
                       spot_interruption_bucket=ASSUMED_BUCKET, bucket_basis=ASSUMED_BASIS,
                       source=f"{GCP_SOURCE}: {inst.note}", as_of=GCP_AS_OF))
    return out


def gcp_t4_rows(data_dir: Path) -> list[Row]:
    """T4 accelerator rows of the shared snapshot + an n1-standard-(4k) host (see above)."""
    rows = read_skypilot_rows(_read_shared(data_dir, GCP_FILE), label=GCP_FILE)
    zones: dict[tuple[str, int], list[SkyPilotRow]] = {}
    for r in rows:
        if (not r.instance_type and r.accelerator_name == "T4" and r.price
                and r.accelerator_count in (1.0, 2.0, 4.0) and r.region in GCP_N1_STANDARD_1):
            zones.setdefault((r.region, int(r.accelerator_count)), []).append(r)
    out = []
    for (region, count), parts in sorted(zones.items()):
        vcpus = N1_VCPUS_PER_T4 * count
        host_od, host_spot = (vcpus * x for x in GCP_N1_STANDARD_1[region])
        accel_od = statistics.median(p.price for p in parts if p.price)
        accel_spots = [p.spot_price for p in parts if p.spot_price]
        on_demand = host_od + accel_od
        spot = usable_spot(on_demand, host_spot + statistics.median(accel_spots)
                           if accel_spots else None)
        out.append(Row(provider="gcp", region=region, accelerator="T4",
                       instance_type=f"n1-standard-{vcpus}+{count}xT4", gpus_per_instance=count,
                       vcpus=vcpus, memory_gib=vcpus * N1_GIB_PER_VCPU,
                       on_demand_usd_per_hour=on_demand, spot_usd_per_hour=spot,
                       spot_interruption_bucket=ASSUMED_BUCKET, bucket_basis=ASSUMED_BASIS,
                       source=(f"{GCP_SOURCE} + {GCP_N1_SOURCE}: {count}x T4 accelerator row "
                               f"(median of {len(parts)} zone{'s' if len(parts) != 1 else ''})"
                               f" + n1-standard-{vcpus} host = {vcpus} x n1-standard-1"),
                       as_of="unknown"))
    return out


def azure_rows(data_dir: Path) -> list[Row]:
    rows: Sequence[SkyPilotRow] = read_skypilot_rows(_read_shared(data_dir, AZURE_FILE),
                                                     label=AZURE_FILE)
    out = []
    for r in rows:
        accelerator = AZURE_CANONICAL.get(r.accelerator_name)
        count = r.accelerator_count
        if (accelerator is None or count is None or count < 1 or not count.is_integer()
                or r.price is None):
            continue
        out.append(Row(provider="azure", region=r.region, accelerator=accelerator,
                       instance_type=r.instance_type, gpus_per_instance=int(count),
                       vcpus=r.vcpus, memory_gib=r.memory_gib,
                       on_demand_usd_per_hour=r.price,
                       spot_usd_per_hour=usable_spot(r.price, r.spot_price),
                       spot_interruption_bucket=ASSUMED_BUCKET, bucket_basis=ASSUMED_BASIS,
                       source=AZURE_SOURCE, as_of=AZURE_AS_OF))
    return out


def aws_table() -> list[tuple[AwsRow, str]]:
    """Every transcribed AWS row with the read window it came from."""
    return ([(row, "earlier") for row in AWS_ROWS_EARLIER]
            + [(row[:6], note) for row in AWS_ROWS_MORE for note in (row[6],)])


def aws_rows(data_dir: Path) -> list[Row]:
    advisor = json.loads(_read_shared(data_dir, ADVISOR_FILE))
    labels = {r["index"]: r["label"] for r in advisor["ranges"]}
    rows = []
    for (itype, accelerator, gpus, region, on_demand, per_az), window in aws_table():
        priced = [p for p in per_az if p is not None]
        spot = usable_spot(on_demand, statistics.median(priced) if priced else None)
        entry = advisor["spot_advisor"].get(region, {}).get("Linux", {}).get(itype)
        bucket, basis = ((labels[entry["r"]], ADVISOR_BASIS) if entry is not None
                         else (ASSUMED_BUCKET, ASSUMED_BASIS))
        spot_note = (f"spot = median of {len(priced)} AZ{'s' if len(priced) != 1 else ''}"
                     if priced else "no spot price listed")
        vcpus, memory = AWS_SPECS[itype]
        rows.append(Row(provider="aws", region=region, accelerator=accelerator,
                        instance_type=itype, gpus_per_instance=gpus,
                        vcpus=vcpus, memory_gib=memory,
                        on_demand_usd_per_hour=on_demand, spot_usd_per_hour=spot,
                        spot_interruption_bucket=bucket, bucket_basis=basis,
                        source=f"{AWS_SOURCE}: read {window}, {spot_note}", as_of=AWS_AS_OF))
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
    return render([*aws_rows(data_dir), *gcp_rows(data_dir), *gcp_t4_rows(data_dir),
                   *azure_rows(data_dir)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"shared data directory (default: {DEFAULT_DATA_DIR})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"CSV to write (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    text = derive(args.data_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10)) - 1} rows to {args.out} "
          f"(spot kept only when >= {MIN_SPOT_DISCOUNT:.0%} below on-demand)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
