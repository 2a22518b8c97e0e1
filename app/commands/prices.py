"""``gridshift prices``: the GPU offers a user can buy, with where each price came from.

    gridshift prices [--region R] [--accelerator A] [--provider P] [--spot]
                     [--cheapest] [--catalog CSV] [--onprem YAML]
                     [--refresh] [--cache-dir DIR] [--limit N]

Shows the bundled catalog (or ``--catalog``), plus on-prem clusters from ``--onprem``,
filtered, cheapest per GPU-hour first. Each row names its source (footnotes under the
table) and its age (days since the source snapshot; ``undated`` when the snapshot has
no date). ``--refresh`` first updates Azure prices from the Azure Retail Prices API and
AWS spot buckets from the Spot Instance Advisor (live -> cache -> bundled) and prints
which of the three was used and how old it is. The URLs can be overridden with
``GRIDSHIFT_AZURE_PRICES_URL`` and ``GRIDSHIFT_SPOT_ADVISOR_URL``.

Exit codes: 0 offers shown; 1 no offer matches the filters; 2 bad input (unknown
accelerator or provider, unreadable catalog or on-prem file).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import requests
import typer
from rich.console import Console
from rich.table import Table

from app.exits import fail as _fail
from pricing.catalog import (
    ACCELERATORS,
    Catalog,
    CatalogError,
    Offer,
    Provider,
    Purchase,
    load_catalog,
)
from pricing.onprem import load_onprem
from pricing.sources.aws_spot_advisor import SPOT_ADVISOR_URL
from pricing.sources.azure_retail import AZURE_RETAIL_URL
from pricing.sources.cache import PriceCache, default_cache_dir
from pricing.sources.refresh import refresh_azure, refresh_spot_advisor

EXIT_NO_MATCH = 1
EXIT_BAD_INPUT = 2

err = Console(stderr=True)




def _base_source(offer: Offer) -> str:
    """The source without the per-row detail ("...: median of 3 zones")."""
    return offer.source.split(": ", 1)[0]


def _age(offer: Offer, today: dt.date) -> str:
    days = offer.age_days(today)
    return "undated" if days is None else f"{days} d"


def _cheapest_only(offers: tuple[Offer, ...]) -> tuple[Offer, ...]:
    seen: set[tuple[str, str, str, str]] = set()
    out = []
    for o in offers:  # already cheapest first
        key = (o.provider, o.region, o.accelerator, str(o.purchase))
        if key not in seen:
            seen.add(key)
            out.append(o)
    return tuple(out)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _refresh(catalog: Catalog, cache_dir: Path, out: Console) -> Catalog:
    cache = PriceCache(cache_dir)
    now = dt.datetime.now(dt.UTC)
    with requests.Session() as session:
        session.headers["User-Agent"] = "gridshift-prices"
        result = refresh_azure(catalog, session, cache, now=now,
                               base_url=os.environ.get("GRIDSHIFT_AZURE_PRICES_URL",
                                                       AZURE_RETAIL_URL))
        out.print(result.describe(now), markup=False, highlight=False, soft_wrap=True)
        result2 = refresh_spot_advisor(result.catalog, session, cache, now=now,
                                       url=os.environ.get("GRIDSHIFT_SPOT_ADVISOR_URL",
                                                          SPOT_ADVISOR_URL))
        out.print(result2.describe(now), markup=False, highlight=False, soft_wrap=True)
    return result2.catalog


def _table(offers: tuple[Offer, ...], today: dt.date) -> tuple[Table, list[str]]:
    sources: list[str] = []
    table = Table(show_edge=False, pad_edge=False)
    for name, justify in (("provider", "left"), ("region", "left"), ("accelerator", "left"),
                          ("instance", "left"), ("GPUs", "right"), ("vCPU", "right"),
                          ("mem GiB", "right"), ("purchase", "left"), ("USD/h", "right"),
                          ("USD/GPU-h", "right"), ("interruption", "left"),
                          ("src", "right"), ("age", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for o in offers:
        base = _base_source(o)
        if base not in sources:
            sources.append(base)
        bucket = "" if o.interruption_bucket is None else (
            f"{o.interruption_bucket} ({o.bucket_basis})")
        table.add_row(o.provider, o.region, o.accelerator, o.instance_type,
                      str(o.gpus_per_instance), _num(o.vcpus), _num(o.memory_gib),
                      str(o.purchase), f"{o.usd_per_hour:.4f}", f"{o.usd_per_gpu_hour:.4f}",
                      bucket, f"[{sources.index(base) + 1}]", _age(o, today))
    return table, sources


def register(app: typer.Typer) -> None:
    @app.command()
    def prices(
        region: Annotated[str | None, typer.Option(help="Cloud region id or on-prem "
                                                        "cluster name.")] = None,
        accelerator: Annotated[str | None, typer.Option(
            help=f"One of {', '.join(sorted(ACCELERATORS))}.")] = None,
        provider: Annotated[str | None, typer.Option(
            help=f"One of {', '.join(p.value for p in Provider)}.")] = None,
        spot: Annotated[bool, typer.Option("--spot", help="Spot offers only.")] = False,
        cheapest: Annotated[bool, typer.Option(
            "--cheapest", help="Only the cheapest offer per provider, region, accelerator "
                               "and purchase option.")] = False,
        catalog_path: Annotated[Path | None, typer.Option(
            "--catalog", help="Offer catalog CSV (default: the bundled one).")] = None,
        onprem: Annotated[Path | None, typer.Option(
            help="On-prem cluster declaration YAML (see pricing/onprem.py).")] = None,
        refresh: Annotated[bool, typer.Option(
            "--refresh", help="Update Azure prices and AWS spot buckets from the vendors "
                              "first (falls back to cache, then bundled).")] = False,
        cache_dir: Annotated[Path | None, typer.Option(
            help="Where --refresh caches vendor answers (default: "
                 "$GRIDSHIFT_CACHE_DIR/prices or ~/.cache/gridshift/prices).")] = None,
        limit: Annotated[int | None, typer.Option(min=1, help="Show at most N rows.")] = None,
    ) -> None:
        """List GPU offers with USD/hour, interruption risk, source and age."""
        if accelerator is not None and accelerator not in ACCELERATORS:
            raise _fail(f"--accelerator {accelerator!r} is unknown; fix: use one of "
                        f"{', '.join(sorted(ACCELERATORS))}", EXIT_BAD_INPUT)
        if provider is not None and provider not in {p.value for p in Provider}:
            raise _fail(f"--provider {provider!r} is unknown; fix: use one of "
                        f"{', '.join(p.value for p in Provider)}", EXIT_BAD_INPUT)
        out = Console()
        try:
            catalog = load_catalog(catalog_path)
            if onprem is not None:
                catalog = catalog.merged(load_onprem(onprem), label=f"onprem:{onprem}")
        except CatalogError as exc:
            raise _fail(str(exc), EXIT_BAD_INPUT) from None
        if refresh:
            catalog = _refresh(catalog, cache_dir or default_cache_dir(), out)
        offers = catalog.select(provider=provider, region=region, accelerator=accelerator,
                                purchase=Purchase.SPOT if spot else None)
        if cheapest:
            offers = _cheapest_only(offers)
        total = len(offers)
        if limit is not None:
            offers = offers[:limit]
        if not offers:
            filters = ", ".join(f"{k}={v}" for k, v in (
                ("provider", provider), ("region", region), ("accelerator", accelerator),
                ("purchase", "spot" if spot else None)) if v is not None)
            err.print(f"gridshift: no offer matches {filters or 'the filters'} in catalog "
                      f"{catalog.version}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_NO_MATCH)
        today = dt.datetime.now(dt.UTC).date()
        table, sources = _table(offers, today)
        out.print(f"catalog {catalog.version}: {len(offers)} of {total} matching offers, "
                  "cheapest per GPU-hour first", markup=False, highlight=False)
        out.print(table)
        for i, source in enumerate(sources, start=1):
            out.print(f"[{i}] {source}", markup=False, highlight=False, soft_wrap=True)
