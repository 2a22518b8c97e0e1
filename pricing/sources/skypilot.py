"""Import a SkyPilot-format catalog CSV (``vms.csv``) into offers. Pure: text in, offers out.

Format (SkyPilot's ``catalog/<cloud>/vms.csv``; columns are found by name, order free):

    InstanceType, AcceleratorName, AcceleratorCount, vCPUs, MemoryGiB, Price, SpotPrice,
    Region, AvailabilityZone, ...        (Azure writes Generation instead of a zone)

Conventions handled:

* AWS and Azure rows price a whole instance (host + GPUs). A region's price is the
  median over its zones; AWS Local Zones (``use1-atl2-az1``: a zone id with three
  dash-separated parts) are left out because they are priced apart from the region.
* GCP rows come in two kinds: an empty ``InstanceType`` is the accelerators alone, a
  named A2/A3/G2 host is the VM alone. Per zone ``instance = host + accelerators`` (and
  spot likewise, only when both parts have a spot price); N1-attached GPUs (T4, V100,
  P4, P100) have no host row in the catalog and are skipped, not under-priced.
* A spot price counts only when it is at least ``MIN_SPOT_DISCOUNT`` (1 %) below
  on-demand: catalogs cap spot at on-demand and round to 4 decimals.

Bad input: a row with the wrong number of fields (e.g. an unquoted comma), a price that
is not a number or not positive, a ``Currency`` column other than USD, or a second row
for the same (instance type, accelerator, region, zone) raises ``CatalogError`` naming
the row; nothing is returned. Rows that are valid but unusable (no on-demand price, an
accelerator gridshift does not plan for, GPU counts below one) are skipped and listed in
``ImportResult.skipped`` with the reason, so nothing is dropped without saying so.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from pricing.catalog import CatalogError, Offer, Purchase

__all__ = [
    "CANONICAL",
    "MIN_SPOT_DISCOUNT",
    "ImportResult",
    "InstancePrice",
    "SkippedRow",
    "SkyPilotRow",
    "gcp_instances",
    "import_skypilot_catalog",
    "read_skypilot_rows",
    "usable_spot",
    "whole_vm_instances",
]

MIN_SPOT_DISCOUNT = 0.01
ASSUMED_BUCKET = "10-15%"

#: SkyPilot accelerator name -> gridshift canonical name (others are skipped).
CANONICAL: Mapping[str, str] = {
    "H100": "H100", "H100-MEGA": "H100", "A100-80GB": "A100-80GB", "A100": "A100-40GB",
    "L40S": "L40S", "L4": "L4", "A10G": "A10G", "T4": "T4",
}
_REQUIRED = ("InstanceType", "AcceleratorName", "AcceleratorCount", "Price", "SpotPrice",
             "Region")
_LOCAL_ZONE = re.compile(r"^[a-z0-9]+-[a-z]+[0-9]*-az[0-9]+$")  # use1-atl2-az1
_G2_GPUS = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}


@dataclass(frozen=True, slots=True, kw_only=True)
class SkyPilotRow:
    row: int                 # file line number (header = 1)
    instance_type: str       # "" = accelerators alone (GCP)
    accelerator_name: str
    accelerator_count: float | None
    vcpus: float | None
    memory_gib: float | None
    region: str
    zone: str
    price: float | None
    spot_price: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class InstancePrice:
    region: str
    instance_type: str
    accelerator_name: str    # as SkyPilot spells it
    gpus: int
    vcpus: float | None
    memory_gib: float | None
    on_demand_usd_per_hour: float
    spot_usd_per_hour: float | None
    note: str                # how the price was formed, e.g. "median of 3 zones"


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedRow:
    row: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    offers: tuple[Offer, ...]
    skipped: tuple[SkippedRow, ...]

    def summary(self, limit: int = 5) -> str:
        text = f"{len(self.offers)} offers"
        if self.skipped:
            shown = "; ".join(f"row {s.row}: {s.reason}" for s in self.skipped[:limit])
            more = f"; and {len(self.skipped) - limit} more" if len(self.skipped) > limit else ""
            text += f", {len(self.skipped)} rows skipped ({shown}{more})"
        return text


def usable_spot(on_demand: float, spot: float | None) -> float | None:
    """Keep a spot price only when it is a real discount on on-demand."""
    if spot is None or not spot > 0:
        return None
    return spot if spot < on_demand * (1 - MIN_SPOT_DISCOUNT) else None


class _Rows:
    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, row: int, field: str | None, problem: str, fix: str) -> NoReturn:
        raise CatalogError(self.label, problem, fix=fix, row=row, field_name=field)

    def number(self, row: int, field: str, text: str) -> float | None:
        text = text.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            self.fail(row, field, f"is not a number ({text!r})",
                      "write a plain decimal (no currency sign)")
        if not math.isfinite(value) or value < 0:
            self.fail(row, field, f"must be a finite number >= 0, got {text!r}",
                      "fix the value, or leave it empty when there is none")
        return value


def read_skypilot_rows(text: str, *, label: str) -> tuple[SkyPilotRow, ...]:
    """Parse and validate every row (see the module docstring for what is an error)."""
    rows = _Rows(label)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise CatalogError(label, "is empty", fix="pass a SkyPilot vms.csv with its header")
    header = [h.strip() for h in header]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise CatalogError(label, f"row 1 (header): missing column(s) {', '.join(missing)}",
                           fix="pass a SkyPilot catalog vms.csv (columns "
                               f"{', '.join(_REQUIRED)}, ...)")
    zone_col = "AvailabilityZone" if "AvailabilityZone" in header else None
    out: list[SkyPilotRow] = []
    seen: dict[tuple[str, ...], int] = {}
    for cells in reader:
        row_no = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rows.fail(row_no, None, f"has {len(cells)} fields, expected {len(header)}",
                      "quote fields that contain commas (SkyPilot's GpuInfo often does)")
        v = dict(zip(header, cells, strict=True))
        currency = v.get("Currency", "").strip()
        if currency and currency.upper() != "USD":
            rows.fail(row_no, "Currency", f"is {currency!r}, not USD",
                      "export the catalog in USD; gridshift compares USD only")
        region = v["Region"].strip()
        if not region:
            rows.fail(row_no, "Region", "is missing", "give the region id")
        zone = v[zone_col].strip() if zone_col else ""
        item = SkyPilotRow(
            row=row_no, instance_type=v["InstanceType"].strip(),
            accelerator_name=v["AcceleratorName"].strip(),
            accelerator_count=rows.number(row_no, "AcceleratorCount", v["AcceleratorCount"]),
            vcpus=rows.number(row_no, "vCPUs", v.get("vCPUs", "")),
            memory_gib=rows.number(row_no, "MemoryGiB", v.get("MemoryGiB", "")),
            region=region, zone=zone,
            price=rows.number(row_no, "Price", v["Price"]),
            spot_price=rows.number(row_no, "SpotPrice", v["SpotPrice"]))
        key = (item.instance_type, item.accelerator_name, str(item.accelerator_count),
               region, zone)
        if key in seen:
            rows.fail(row_no, "InstanceType", f"duplicates row {seen[key]} (same instance "
                      "type, accelerator, region and zone)", "keep one row per zone")
        seen[key] = row_no
        out.append(item)
    return tuple(out)


def _median_or_none(values: Iterable[float | None]) -> float | None:
    present = [x for x in values if x is not None]
    return statistics.median(present) if present else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def whole_vm_instances(rows: Sequence[SkyPilotRow],
                       skipped: list[SkippedRow] | None = None) -> list[InstancePrice]:
    """AWS/Azure convention: each row prices a whole instance; median over zones."""
    skipped = [] if skipped is None else skipped
    groups: dict[tuple[str, str], list[SkyPilotRow]] = defaultdict(list)
    for r in rows:
        count = r.accelerator_count
        if not r.instance_type or not r.accelerator_name:
            continue  # CPU-only instance: not an offer of ours, nothing to report
        if count is None or count < 1 or not float(count).is_integer():
            skipped.append(SkippedRow(row=r.row, reason=f"{r.instance_type}: fractional or "
                                      f"missing GPU count ({count})"))
            continue
        if not r.price:
            skipped.append(SkippedRow(row=r.row, reason=f"{r.instance_type} {r.region}: "
                                      "no on-demand price (empty or 0)"))
            continue
        if r.zone and _LOCAL_ZONE.match(r.zone):
            skipped.append(SkippedRow(row=r.row, reason=f"{r.instance_type} {r.zone}: "
                                      "Local Zone, priced apart from its region"))
            continue
        groups[(r.region, r.instance_type)].append(r)
    out = []
    for (region, itype), zone_rows in groups.items():
        first = zone_rows[0]
        on_demand = statistics.median(r.price for r in zone_rows if r.price is not None)
        spot = usable_spot(on_demand, _median_or_none(r.spot_price for r in zone_rows))
        out.append(InstancePrice(
            region=region, instance_type=itype, accelerator_name=first.accelerator_name,
            gpus=int(first.accelerator_count or 0), vcpus=first.vcpus,
            memory_gib=first.memory_gib, on_demand_usd_per_hour=on_demand,
            spot_usd_per_hour=spot, note=f"median of {_plural(len(zone_rows), 'zone')}"))
    return out


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
        return "L4", _G2_GPUS.get(int(m[1]), 0)
    return None  # a3-ultragpu (H200), a4 (B200), g4 (RTX PRO), n1: not paired here


def gcp_instances(rows: Sequence[SkyPilotRow],
                  skipped: list[SkippedRow] | None = None) -> list[InstancePrice]:
    """GCP convention: host row + accelerator row per zone, median over zones."""
    skipped = [] if skipped is None else skipped
    accel: dict[tuple[str, str, str, int], SkyPilotRow] = {}
    hosts = []
    for r in rows:
        if r.instance_type:
            hosts.append(r)
        elif r.accelerator_count is not None and float(r.accelerator_count).is_integer():
            accel[(r.region, r.zone, r.accelerator_name, int(r.accelerator_count))] = r
    paired_accels: set[int] = set()
    per_type: dict[tuple[str, str], list[tuple[float, float | None]]] = defaultdict(list)
    meta: dict[tuple[str, str], tuple[str, int, SkyPilotRow]] = {}
    for h in hosts:
        pair = gcp_host_accelerator(h.instance_type)
        if pair is None or pair[1] < 1:
            continue
        name, count = pair
        part = accel.get((h.region, h.zone, name, count))
        if part is None or not h.price or not part.price:
            continue  # a zero part means the price sits on the other row: not pairable
        paired_accels.add(part.row)
        spot = (h.spot_price + part.spot_price
                if h.spot_price is not None and part.spot_price is not None else None)
        per_type[(h.region, h.instance_type)].append((h.price + part.price, spot))
        meta[(h.region, h.instance_type)] = (name, count, h)
    for r in accel.values():
        if r.row not in paired_accels and r.accelerator_name in CANONICAL:
            skipped.append(SkippedRow(row=r.row, reason=f"{r.accelerator_name} x"
                                      f"{r.accelerator_count:g} in {r.zone or r.region}: "
                                      "accelerator price without a host VM row (N1-attached)"))
    out = []
    for (region, itype), zones in per_type.items():
        name, count, host = meta[(region, itype)]
        on_demand = statistics.median(z[0] for z in zones)
        spot = usable_spot(on_demand, _median_or_none(z[1] for z in zones))
        out.append(InstancePrice(
            region=region, instance_type=itype, accelerator_name=name, gpus=count,
            vcpus=host.vcpus, memory_gib=host.memory_gib, on_demand_usd_per_hour=on_demand,
            spot_usd_per_hour=spot,
            note=f"host {itype} + {count}x {name} accelerator row; median of "
                 f"{_plural(len(zones), 'zone')}"))
    return out


def import_skypilot_catalog(text: str, *, provider: str, label: str, source: str,
                            as_of: datetime.date | None) -> ImportResult:
    """Offers (on-demand, and spot with the assumed ``10-15%`` bucket) from a vms.csv."""
    rows = read_skypilot_rows(text, label=label)
    skipped: list[SkippedRow] = []
    instances = (gcp_instances(rows, skipped) if provider == "gcp"
                 else whole_vm_instances(rows, skipped))
    offers: list[Offer] = []
    for inst in sorted(instances, key=lambda i: (i.region, i.instance_type)):
        accelerator = CANONICAL.get(inst.accelerator_name)
        if accelerator is None:
            continue  # not one of the accelerators gridshift plans for
        common: dict = {"provider": provider, "region": inst.region, "accelerator": accelerator,
                      "instance_type": inst.instance_type, "gpus_per_instance": inst.gpus,
                      "vcpus": inst.vcpus, "memory_gib": inst.memory_gib,
                      "source": f"{source}: {inst.note}", "as_of": as_of}
        offers.append(Offer(purchase=Purchase.ON_DEMAND, usd_per_hour=inst.on_demand_usd_per_hour,
                            interruption_bucket=None, bucket_basis=None, **common))
        if inst.spot_usd_per_hour is not None:
            offers.append(Offer(purchase=Purchase.SPOT, usd_per_hour=inst.spot_usd_per_hour,
                                interruption_bucket=ASSUMED_BUCKET, bucket_basis="assumed",
                                **common))
    if not offers:
        raise CatalogError(label, "holds no GPU offer gridshift can use",
                           fix="pass a vms.csv with priced H100, A100, L40S, L4, A10G or "
                               "T4 instances")
    return ImportResult(offers=tuple(offers), skipped=tuple(skipped))
