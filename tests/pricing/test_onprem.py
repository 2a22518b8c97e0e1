"""pricing.onprem: amortised cost per GPU-hour of a user-declared cluster."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from pricing.catalog import CatalogError, Purchase, load_catalog
from pricing.onprem import HOURS_PER_YEAR, OnPremCluster, load_onprem, onprem_offers

BASE = {"name": "dc1-h100", "accelerator": "H100", "gpus_per_node": 8,
        "purchase_usd_per_node": 300000, "lifetime_years": 4, "utilisation": 0.7}


def test_amortised_price_follows_the_documented_formula() -> None:
    c = OnPremCluster(**BASE, opex_usd_per_node_year=20000)
    hourly = (300000 / (4 * HOURS_PER_YEAR) + 20000 / HOURS_PER_YEAR) / 0.7
    assert c.usd_per_node_hour() == pytest.approx(hourly)
    assert c.usd_per_gpu_hour() == pytest.approx(hourly / 8)


def test_power_adds_only_when_included_and_lower_utilisation_costs_more() -> None:
    off = OnPremCluster(**BASE)
    on = OnPremCluster(**BASE, power_included=True, node_power_kw=8.0, pue=1.3,
                       electricity_usd_per_kwh=0.12)
    assert on.usd_per_node_hour() - off.usd_per_node_hour() == pytest.approx(
        8.0 * 1.3 * 0.12 / 0.7)
    busier = OnPremCluster(**{**BASE, "utilisation": 0.9})
    assert busier.usd_per_gpu_hour() < off.usd_per_gpu_hour()


@pytest.mark.parametrize(("change", "problem"), [
    ({"utilisation": 1.5}, "utilisation"),
    ({"utilisation": 0}, "utilisation"),
    ({"accelerator": "V100"}, "unknown accelerator 'V100'"),
    ({"lifetime_years": -1}, "lifetime_years"),
    ({"power_included": True}, "node_power_kw, pue, electricity_usd_per_kwh is missing"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_declarations_are_rejected(change: dict, problem: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=problem):
        OnPremCluster(**{**BASE, **change})


def test_offers_are_on_demand_and_merge_into_the_catalog() -> None:
    (offer,) = onprem_offers([OnPremCluster(**BASE)], source="decl.yaml")
    assert offer.provider == "onprem" and offer.region == "dc1-h100"
    assert offer.purchase is Purchase.ON_DEMAND and offer.gpus_per_instance == 8
    assert "power excluded" in offer.source and "70% utilisation" in offer.source
    catalog = load_catalog().merged([offer], label="onprem")
    best = catalog.cheapest(provider="onprem", region="dc1-h100", accelerator="H100",
                            purchase=Purchase.ON_DEMAND)
    assert best == offer
    with pytest.raises(CatalogError, match="already in the catalog"):
        catalog.merged([offer], label="again")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "onprem.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_file_loads_and_errors_name_the_entry(tmp_path: Path) -> None:
    good = ("clusters:\n  - name: dc1\n    accelerator: A100-80GB\n    gpus_per_node: 4\n"
            "    purchase_usd_per_node: 120000\n    lifetime_years: 5\n    utilisation: 0.6\n"
            "    as_of: 2026-01-15\n")
    (offer,) = load_onprem(write(tmp_path, good))
    assert offer.as_of is not None and offer.as_of.isoformat() == "2026-01-15"
    with pytest.raises(CatalogError, match=r"clusters\.0\.utilisation"):
        load_onprem(write(tmp_path, good.replace("0.6", "1.6")))
    with pytest.raises(CatalogError, match="declared twice: dc1"):
        load_onprem(write(tmp_path, good + good.split("\n", 1)[1]))
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_onprem(write(tmp_path, "clusters: [\n"))
    with pytest.raises(CatalogError, match="file not found"):
        load_onprem(tmp_path / "missing.yaml")
