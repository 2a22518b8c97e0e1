"""AWS Spot Instance Advisor feed -> interruption bucket and savings per (region, type).

    GET https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json
    -> {"ranges": [{"index": 0, "label": "<5%", ...}, ...],
        "spot_advisor": {"<region>": {"Linux": {"<type>": {"r": <range index>,
                                                            "s": <savings %>}}}},
        "instance_types": {"<type>": {"cores": n, "ram_gb": x, ...}}, ...}

(the shape of shared ``pricing/aws_spot_advisor_2025-06-28.json``). Only Linux entries
are read. Bad input: a range label gridshift does not know, an ``r`` that names no
range, or a savings figure above 100 % raise ``CatalogError`` naming the region and
type (negative savings occur in the real feed: spot above on-demand, kept as is);
a feed with no Linux entry at all is an error (``empty``).

``apply_advisor`` rewrites the bucket of every AWS spot offer the feed covers and sets
``bucket_basis`` to the feed's label; offers it does not cover keep theirs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pydantic

from pricing.catalog import Catalog, CatalogError, Purchase
from pricing.spot import BUCKETS

__all__ = ["SPOT_ADVISOR_URL", "SpotAdvisor", "apply_advisor", "parse_spot_advisor"]

SPOT_ADVISOR_URL = "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json"


class _Range(pydantic.BaseModel):
    index: int
    label: str


class _Entry(pydantic.BaseModel):
    r: int
    s: float = pydantic.Field(allow_inf_nan=False)


class _Feed(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="ignore")
    ranges: list[_Range] = pydantic.Field(min_length=1)
    spot_advisor: dict[str, dict[str, dict[str, _Entry]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotAdvisor:
    buckets: Mapping[tuple[str, str], str]       # (region, type) -> "5-10%"
    savings_pct: Mapping[tuple[str, str], float]  # (region, type) -> % below on-demand
    basis: str                                    # e.g. "aws-spot-advisor-live-2026-05-01"


def parse_spot_advisor(payload: object, *, basis: str,
                       label: str = "AWS Spot Advisor feed") -> SpotAdvisor:
    try:
        feed = _Feed.model_validate(payload)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "document"
        raise CatalogError(label, f"{where}: {err['msg']}",
                           fix="the feed changed shape or is corrupt; using the fallback"
                           ) from None
    labels: dict[int, str] = {}
    for rng in feed.ranges:
        if rng.label not in BUCKETS:
            raise CatalogError(label, f"ranges[{rng.index}]: label {rng.label!r} is not a "
                                      f"known bucket ({', '.join(BUCKETS)})",
                               fix="update pricing.spot.BUCKET_MONTHLY_RATE for the new band")
        labels[rng.index] = rng.label
    buckets: dict[tuple[str, str], str] = {}
    savings: dict[tuple[str, str], float] = {}
    for region, systems in feed.spot_advisor.items():
        for itype, entry in systems.get("Linux", {}).items():
            if entry.r not in labels:
                raise CatalogError(label, f"{region} Linux {itype}: r={entry.r} names no range",
                                   fix="the feed is inconsistent; using the fallback")
            if entry.s > 100:
                raise CatalogError(label, f"{region} Linux {itype}: savings s={entry.s} is "
                                          "above 100 %", fix="the feed is inconsistent")
            buckets[(region, itype)] = labels[entry.r]
            savings[(region, itype)] = entry.s
    if not buckets:
        raise CatalogError(label, "empty: no Linux entry in spot_advisor",
                           fix="check the feed URL; using the fallback")
    return SpotAdvisor(buckets=MappingProxyType(buckets), savings_pct=MappingProxyType(savings),
                       basis=basis)


def apply_advisor(catalog: Catalog, advisor: SpotAdvisor) -> tuple[Catalog, int]:
    """(new catalog, number of AWS spot offers whose bucket now comes from ``advisor``)."""
    changed = 0
    offers = []
    for o in catalog.offers:
        bucket = advisor.buckets.get((o.region, o.instance_type))
        if o.provider == "aws" and o.purchase is Purchase.SPOT and bucket is not None:
            o = dataclasses.replace(o, interruption_bucket=bucket, bucket_basis=advisor.basis)
            changed += 1
        offers.append(o)
    return Catalog(offers=tuple(offers), version=f"{catalog.version}+{advisor.basis}"), changed
