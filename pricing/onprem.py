"""On-premises GPU clusters priced by amortised cost per GPU-hour (user-declared).

No public price list covers a cluster you own, so its owner declares what it cost. For
a cluster of ``n`` nodes with ``g`` GPUs each:

    capital_usd_per_node_hour = purchase_usd_per_node / (lifetime_years * 8760)
    opex_usd_per_node_hour    = opex_usd_per_node_year / 8760     (support, space, staff)
    power_usd_per_node_hour   = node_power_kw * pue * electricity_usd_per_kwh
                                 (only when power_included; else 0)

    usd_per_gpu_hour = (capital + opex + power) / (g * utilisation)

``utilisation`` (0 < u <= 1) is the share of the cluster's hours that do paid-for work:
an idle hour still depreciates the hardware, so the hours that are used carry the cost
of the idle ones. Straight-line depreciation, no residual value, no cost of capital.

Power: by default electricity is *excluded* (``power_included: false``): the price is
what the hardware costs whether or not it runs, and the energy a plan uses is reported
by carbon/ in kWh. Include it when the cluster's budget pays for electricity and you
want cost comparisons with clouds (whose prices include power) to be like for like;
then ``node_power_kw`` (average draw at the declared utilisation), ``pue`` and
``electricity_usd_per_kwh`` are required.

An on-prem offer is on-demand only (you cannot be outbid on your own hardware) with
``provider = "onprem"`` and ``region`` = the cluster name; add it to a catalog with
``Catalog.merged(onprem_offers(...), label=...)``.

Declaration file (YAML; validated here at the edge with pydantic):

    clusters:
      - name: dc1-h100            # becomes the offer's region
        accelerator: H100
        gpus_per_node: 8
        nodes: 16                 # informational (capacity lives in the fleet file)
        purchase_usd_per_node: 300000
        lifetime_years: 4
        utilisation: 0.7
        opex_usd_per_node_year: 20000    # optional, default 0
        power_included: false            # optional, default false
        node_power_kw: 8.0               # required when power_included
        pue: 1.3                         # required when power_included
        electricity_usd_per_kwh: 0.12    # required when power_included
        vcpus: 224                       # optional, per node
        memory_gib: 2048                 # optional, per node
        as_of: 2026-01-15                # optional: when the figures were declared

The numbers above are an illustration of the format, not a price source.
"""

from __future__ import annotations

import datetime
import pathlib
from collections.abc import Iterable

import pydantic
import yaml

from pricing.catalog import ACCELERATORS, CatalogError, Offer, Provider, Purchase

__all__ = ["HOURS_PER_YEAR", "OnPremCluster", "load_onprem", "onprem_offers"]

HOURS_PER_YEAR = 8760.0


class OnPremCluster(pydantic.BaseModel):
    """One declared cluster (edge type: validated from the user's file)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    name: str = pydantic.Field(min_length=1)
    accelerator: str
    gpus_per_node: int = pydantic.Field(ge=1)
    nodes: int | None = pydantic.Field(default=None, ge=1)
    purchase_usd_per_node: float = pydantic.Field(gt=0, allow_inf_nan=False)
    lifetime_years: float = pydantic.Field(gt=0, allow_inf_nan=False)
    utilisation: float = pydantic.Field(gt=0, le=1, allow_inf_nan=False)
    opex_usd_per_node_year: float = pydantic.Field(default=0.0, ge=0, allow_inf_nan=False)
    power_included: bool = False
    node_power_kw: float | None = pydantic.Field(default=None, gt=0, allow_inf_nan=False)
    pue: float | None = pydantic.Field(default=None, ge=1, allow_inf_nan=False)
    electricity_usd_per_kwh: float | None = pydantic.Field(default=None, ge=0,
                                                           allow_inf_nan=False)
    vcpus: float | None = pydantic.Field(default=None, gt=0)
    memory_gib: float | None = pydantic.Field(default=None, gt=0)
    as_of: datetime.date | None = None

    @pydantic.field_validator("accelerator")
    @classmethod
    def _known_accelerator(cls, value: str) -> str:
        if value not in ACCELERATORS:
            raise ValueError(f"unknown accelerator {value!r}; use one of "
                             f"{', '.join(sorted(ACCELERATORS))}")
        return value

    @pydantic.model_validator(mode="after")
    def _power_terms(self) -> OnPremCluster:
        needed = ("node_power_kw", "pue", "electricity_usd_per_kwh")
        if self.power_included:
            missing = [n for n in needed if getattr(self, n) is None]
            if missing:
                raise ValueError(f"power_included is true but {', '.join(missing)} "
                                 "is missing; give them, or set power_included: false")
        return self

    def usd_per_node_hour(self) -> float:
        capital = self.purchase_usd_per_node / (self.lifetime_years * HOURS_PER_YEAR)
        opex = self.opex_usd_per_node_year / HOURS_PER_YEAR
        power = 0.0
        if self.power_included:
            assert self.node_power_kw is not None and self.pue is not None
            assert self.electricity_usd_per_kwh is not None
            power = self.node_power_kw * self.pue * self.electricity_usd_per_kwh
        return (capital + opex + power) / self.utilisation

    def usd_per_gpu_hour(self) -> float:
        return self.usd_per_node_hour() / self.gpus_per_node


class _File(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    clusters: list[OnPremCluster] = pydantic.Field(min_length=1)


def onprem_offers(clusters: Iterable[OnPremCluster], *, source: str) -> tuple[Offer, ...]:
    """One on-demand offer per cluster (a node = one 'instance')."""
    out = []
    for c in clusters:
        power = "power included" if c.power_included else "power excluded"
        out.append(Offer(
            provider=Provider.ONPREM.value, region=c.name, accelerator=c.accelerator,
            instance_type=f"onprem-{c.gpus_per_node}x{c.accelerator}",
            gpus_per_instance=c.gpus_per_node, purchase=Purchase.ON_DEMAND,
            usd_per_hour=c.usd_per_node_hour(), interruption_bucket=None, bucket_basis=None,
            source=(f"{source}: amortised {c.purchase_usd_per_node:g} USD/node over "
                    f"{c.lifetime_years:g} y at {c.utilisation:.0%} utilisation, {power}"),
            as_of=c.as_of, vcpus=c.vcpus, memory_gib=c.memory_gib))
    return tuple(out)


def load_onprem(path: pathlib.Path) -> tuple[Offer, ...]:
    """Read a declaration file (module docstring) into offers; errors name the entry."""
    label = str(path)
    try:
        raw = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(label, "file not found",
                           fix="pass the path of your on-prem cluster declaration") from None
    except yaml.YAMLError as exc:
        raise CatalogError(label, f"is not valid YAML ({str(exc).splitlines()[0]})",
                           fix="check the indentation and quoting") from None
    try:
        parsed = _File.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogError(label, f"{where}: {first['msg']}",
                           fix="see the declaration format in pricing/onprem.py") from None
    names = [c.name for c in parsed.clusters]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CatalogError(label, f"cluster name(s) declared twice: {', '.join(dupes)}",
                           fix="give every cluster its own name")
    return onprem_offers(parsed.clusters, source=f"user-declared {label}")
