"""Data movement: USD per GB to move a job's data between regions and providers.

Within one provider (derived, with sources)
-------------------------------------------
``pricing/data/egress_inter_region_usd_per_gb.csv`` (written by
``scripts/derive_egress_table.py``) holds the inter-region price matrices of green-dcc
(HewlettPackard/green-dcc @ 3f6ea95, ``data/network_cost/``; shared
``region_metadata/greendcc_{aws,azure,gcp}_transfer_cost_usd_per_gb.csv``), one row per
ordered pair (provider, from_region, to_region, usd_per_gb, source). Azure's display
names ("East US") are turned into ARM names ("eastus").

The AWS and Azure matrices are constant along each row: the price is set by the region
the data leaves, as AWS and Azure bill inter-region transfer; they are read as
``matrix[from][to]``. The GCP matrix is constant along each *column* (the value follows
one endpoint's continent), while GCP bills inter-continental transfer by the pair of
continents in both directions, so for GCP the price of a->b is
``max(matrix[a][b], matrix[b][a])``. Same region is free.

Across providers, and regions the matrices do not list (documented defaults)
------------------------------------------------------------------------------
Data that leaves a cloud for another cloud or an on-prem site pays the source cloud's
internet egress; ingress is free on all three clouds. ``INTERNET_EGRESS_USD_PER_GB``
holds the first-tier list prices as published by the providers (AWS EC2 "data transfer
out to internet", first 10 TB/month: 0.09; Azure bandwidth "internet egress", first
10 TB/month: 0.087; GCP premium tier, worldwide excluding China and Australia, first TB:
0.12). These are *assumed defaults* recalled from the vendors' public pages, not in
shared/data and not checked here against a dated snapshot; volume tiers, CDN and private
interconnects are cheaper. Leaving an on-prem site is taken as free (flat-rate uplink);
a user with metered transit should pass their own rate (``default_usd_per_gb``). A pair
of regions of one cloud that the matrix does not list is also priced at that cloud's
internet egress: an upper bound for inter-region transfer, and labelled as a default.

Every answer says where it came from (``EgressQuote.basis``).
"""

from __future__ import annotations

import csv
import enum
import importlib.resources
import io
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "INTERNET_EGRESS_USD_PER_GB",
    "EgressBasis",
    "EgressQuote",
    "EgressTable",
    "load_egress_table",
]

INTERNET_EGRESS_USD_PER_GB: Mapping[str, float] = MappingProxyType({
    "aws": 0.09, "azure": 0.087, "gcp": 0.12, "onprem": 0.0,
})
_DEFAULT_SOURCE = ("assumed first-tier internet egress list price of the source "
                   "provider (pricing/egress.py INTERNET_EGRESS_USD_PER_GB)")


class EgressBasis(enum.StrEnum):
    SAME_REGION = "same-region"
    MATRIX = "inter-region matrix"
    INTERNET_DEFAULT = "internet egress default"
    USER = "user-supplied"


@dataclass(frozen=True, slots=True, kw_only=True)
class EgressQuote:
    usd_per_gb: float
    basis: EgressBasis
    source: str

    def cost_usd(self, gb: float) -> float:
        if gb < 0:
            raise ValueError(f"gb must be >= 0, got {gb!r}")
        return self.usd_per_gb * gb


@dataclass(frozen=True, slots=True, kw_only=True)
class EgressTable:
    """Ordered-pair prices within each provider (see the module docstring)."""

    pairs: Mapping[tuple[str, str, str], tuple[float, str]]  # (prov, from, to) -> (usd, src)

    def quote(self, *, from_provider: str, from_region: str, to_provider: str,
              to_region: str, default_usd_per_gb: float | None = None) -> EgressQuote:
        """USD/GB to move data from one (provider, region) to another."""
        if (from_provider, from_region) == (to_provider, to_region):
            return EgressQuote(usd_per_gb=0.0, basis=EgressBasis.SAME_REGION,
                               source="no transfer charge within a region")
        if from_provider == to_provider:
            hit = self.pairs.get((from_provider, from_region, to_region))
            if hit is not None:
                return EgressQuote(usd_per_gb=hit[0], basis=EgressBasis.MATRIX, source=hit[1])
        if default_usd_per_gb is not None:
            if default_usd_per_gb < 0:
                raise ValueError(f"default_usd_per_gb must be >= 0, got {default_usd_per_gb}")
            return EgressQuote(usd_per_gb=default_usd_per_gb, basis=EgressBasis.USER,
                               source="caller-supplied rate")
        if from_provider not in INTERNET_EGRESS_USD_PER_GB:
            raise ValueError(f"provider {from_provider!r} has no egress default; use one of "
                             f"{', '.join(INTERNET_EGRESS_USD_PER_GB)} or pass "
                             "default_usd_per_gb")
        return EgressQuote(usd_per_gb=INTERNET_EGRESS_USD_PER_GB[from_provider],
                           basis=EgressBasis.INTERNET_DEFAULT, source=_DEFAULT_SOURCE)

    def regions(self, provider: str) -> frozenset[str]:
        return frozenset(r for (p, a, b) in self.pairs if p == provider for r in (a, b))


def parse_egress_csv(text: str, label: str) -> EgressTable:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    need = ["provider", "from_region", "to_region", "usd_per_gb", "source"]
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != need:
        raise ValueError(f"{label}: row 1 (header) must be {','.join(need)}")
    pairs: dict[tuple[str, str, str], tuple[float, str]] = {}
    for row in reader:
        n = reader.line_num
        key = (row["provider"].strip(), row["from_region"].strip(), row["to_region"].strip())
        try:
            usd = float(row["usd_per_gb"])
        except (TypeError, ValueError):
            raise ValueError(f"{label}: row {n}: field 'usd_per_gb' is not a number "
                             f"({row['usd_per_gb']!r}); fix: write a plain decimal") from None
        if not usd >= 0:
            raise ValueError(f"{label}: row {n}: field 'usd_per_gb' must be >= 0; fix: "
                             "correct the rate")
        if key in pairs:
            raise ValueError(f"{label}: row {n}: duplicates {key}; fix: keep one row per pair")
        pairs[key] = (usd, row["source"].strip())
    return EgressTable(pairs=MappingProxyType(pairs))


_CACHE: dict[str, EgressTable] = {}


def load_egress_table() -> EgressTable:
    """The bundled inter-region table (parsed once per process)."""
    if "bundled" not in _CACHE:
        ref = importlib.resources.files("pricing") / "data" / "egress_inter_region_usd_per_gb.csv"
        _CACHE["bundled"] = parse_egress_csv(ref.read_text(encoding="utf-8"),
                                             "pricing/data/egress_inter_region_usd_per_gb.csv")
    return _CACHE["bundled"]
