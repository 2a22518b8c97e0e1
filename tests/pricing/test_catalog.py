"""pricing.catalog: the bundled catalog, lookups, and row validation."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.catalog import (
    ACCELERATORS,
    COLUMNS,
    REQUIRED_COLUMNS,
    Catalog,
    CatalogError,
    Offer,
    Purchase,
    load_catalog,
)
from pricing.spot import BUCKETS

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SCRIPT = REPO / "scripts" / "derive_price_catalog.py"
BUNDLED = REPO / "pricing" / "data" / "gpu_offers.csv"

DEMO_REGIONS = [
    ("aws", "us-east-1"), ("aws", "eu-west-3"),
    ("gcp", "europe-west2"), ("gcp", "asia-northeast1"), ("gcp", "asia-south1"),
    ("azure", "westus"), ("azure", "southcentralus"), ("azure", "germanywestcentral"),
    ("azure", "southeastasia"),
]

HEADER = ",".join(REQUIRED_COLUMNS)  # the 11 columns every file must have
GOOD = ("aws,us-east-1,T4,g4dn.xlarge,1,0.526,0.3353,15-20%,aws-spot-advisor-2025-06-28,"
        "test,2026-04-28")


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    return load_catalog()


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "offers.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# --- the bundled file -------------------------------------------------------------------

def test_bundled_catalog_loads_with_a_content_hash_version(bundled: Catalog) -> None:
    assert bundled.version.startswith("bundled:")
    assert len(bundled.version.removeprefix("bundled:")) == 12
    assert len(bundled.offers) > 500
    assert {o.accelerator for o in bundled.offers} == ACCELERATORS
    assert {o.provider for o in bundled.offers} == {"aws", "gcp", "azure"}


@pytest.mark.parametrize(("provider", "region"), DEMO_REGIONS)
def test_every_demo_region_has_on_demand_offers(bundled: Catalog, provider: str,
                                                region: str) -> None:
    accelerators = bundled.accelerators_in(provider=provider, region=region)
    assert accelerators, f"no offers for {provider} {region}"
    for accelerator in accelerators:
        offer = bundled.cheapest(provider=provider, region=region, accelerator=accelerator,
                                 purchase=Purchase.ON_DEMAND)
        assert offer is not None and offer.usd_per_gpu_hour > 0


def test_known_demo_region_coverage(bundled: Catalog) -> None:
    # What the snapshots really offer (see scripts/derive_price_catalog.py).
    assert bundled.accelerators_in(provider="aws", region="us-east-1") == ACCELERATORS
    assert bundled.accelerators_in(provider="aws", region="eu-west-3") == {"T4", "A10G", "L4"}
    assert bundled.accelerators_in(provider="gcp", region="europe-west2") == {"H100", "L4", "T4"}
    assert "A100-40GB" in bundled.accelerators_in(provider="azure", region="southcentralus")


def test_spot_is_cheaper_than_on_demand_for_the_same_instance(bundled: Catalog) -> None:
    on_demand = {(o.provider, o.region, o.instance_type): o.usd_per_hour
                 for o in bundled.offers if o.purchase is Purchase.ON_DEMAND}
    spots = [o for o in bundled.offers if o.purchase is Purchase.SPOT]
    assert len(spots) > 300
    for o in spots:
        assert o.usd_per_hour < on_demand[(o.provider, o.region, o.instance_type)], o
        assert o.interruption_bucket in BUCKETS
        assert o.bucket_basis in {"assumed", "aws-spot-advisor-2025-06-28"}
    assert all(o.bucket_basis == "assumed" for o in spots if o.provider != "aws")


def test_cheapest_is_the_minimum_per_gpu_hour_everywhere(bundled: Catalog) -> None:
    keys = {(o.provider, o.region, o.accelerator, o.purchase) for o in bundled.offers}
    for provider, region, accelerator, purchase in keys:
        options = bundled.offers_for(provider=provider, region=region,
                                     accelerator=accelerator, purchase=purchase)
        best = bundled.cheapest(provider=provider, region=region, accelerator=accelerator,
                                purchase=purchase)
        assert best is not None
        assert best.usd_per_gpu_hour == min(o.usd_per_gpu_hour for o in options)
        assert options[0] == best  # offers_for lists cheapest first


def test_cheapest_compares_per_gpu_not_per_instance(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "gcp,europe-west2,L4,g2-standard-4,1,0.80,,,,t,2026-04-28",
        "gcp,europe-west2,L4,g2-standard-96,8,5.60,,,,t,2026-04-28",   # 0.70 per GPU
        "gcp,europe-west2,L4,g2-standard-24,2,1.70,,,,t,2026-04-28",   # 0.85 per GPU
    )
    catalog = load_catalog(path)
    best = catalog.cheapest(provider="gcp", region="europe-west2", accelerator="L4",
                            purchase=Purchase.ON_DEMAND)
    assert best is not None and best.instance_type == "g2-standard-96"
    assert best.usd_per_gpu_hour == pytest.approx(0.70)
    assert catalog.cheapest(provider="gcp", region="europe-west2", accelerator="L4",
                            purchase=Purchase.SPOT) is None
    assert catalog.cheapest(provider="gcp", region="us-central1", accelerator="L4",
                            purchase=Purchase.ON_DEMAND) is None
    assert catalog.version.startswith(f"{path}:")


def test_known_aws_figures_and_undated_snapshot(bundled: Catalog) -> None:
    t4 = bundled.cheapest(provider="aws", region="us-east-1", accelerator="T4",
                          purchase=Purchase.ON_DEMAND)
    assert t4 is not None and t4.instance_type == "g4dn.xlarge" and t4.usd_per_hour == 0.526
    assert t4.as_of is None  # the AWS mirror snapshot is undated
    spot = bundled.offers_for(provider="aws", region="us-east-1", accelerator="T4",
                              purchase=Purchase.SPOT)
    xl = next(o for o in spot if o.instance_type == "g4dn.xlarge")
    assert xl.usd_per_hour == pytest.approx(0.3353)  # median of 5 AZs
    assert xl.bucket_basis == "aws-spot-advisor-2025-06-28"
    gcp = bundled.offers_for(provider="gcp", region="asia-northeast1", accelerator="L4")
    assert all(o.as_of == datetime.date(2026, 4, 28) for o in gcp)


# --- generic lookups (property) ---------------------------------------------------------

@st.composite
def offers(draw) -> list[Offer]:
    n = draw(st.integers(min_value=1, max_value=25))
    out = []
    for i in range(n):
        spot = draw(st.booleans())
        out.append(Offer(
            provider=draw(st.sampled_from(["aws", "gcp"])),
            region=draw(st.sampled_from(["r1", "r2"])),
            accelerator=draw(st.sampled_from(["H100", "L4"])),
            instance_type=f"type-{i}",
            gpus_per_instance=draw(st.sampled_from([1, 2, 4, 8])),
            purchase=Purchase.SPOT if spot else Purchase.ON_DEMAND,
            usd_per_hour=draw(st.floats(min_value=0.01, max_value=200, allow_nan=False)),
            interruption_bucket=draw(st.sampled_from(BUCKETS)) if spot else None,
            bucket_basis="assumed" if spot else None,
            source="hypothesis", as_of=None))
    return out


@given(offers())
@settings(max_examples=200, deadline=None)
def test_cheapest_matches_brute_force(items: list[Offer]) -> None:
    catalog = Catalog(offers=tuple(items), version="test")
    for provider in ("aws", "gcp"):
        for region in ("r1", "r2"):
            present = {o.accelerator for o in items
                       if o.provider == provider and o.region == region}
            assert catalog.accelerators_in(provider=provider, region=region) == present
            for accelerator in ("H100", "L4"):
                for purchase in Purchase:
                    matching = [o for o in items if (o.provider, o.region, o.accelerator,
                                                     o.purchase) == (provider, region,
                                                                     accelerator, purchase)]
                    best = catalog.cheapest(provider=provider, region=region,
                                            accelerator=accelerator, purchase=purchase)
                    if not matching:
                        assert best is None
                    else:
                        assert best is not None
                        assert best.usd_per_gpu_hour == min(o.usd_per_gpu_hour for o in matching)


# --- validation -------------------------------------------------------------------------

BAD_ROWS = [
    ("aws,us-east-1,T4,g4dn.2xlarge,1,,,,,test,2026-04-28",
     "on_demand_usd_per_hour", "is missing"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,-0.75,,,,test,2026-04-28",
     "on_demand_usd_per_hour", "must be > 0"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,$0.75,,,,test,2026-04-28",
     "on_demand_usd_per_hour", "is not a number"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,abc,10-15%,assumed,test,2026-04-28",
     "spot_usd_per_hour", "is not a number"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,-0.2,10-15%,assumed,test,2026-04-28",
     "spot_usd_per_hour", "must be > 0"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,0.80,10-15%,assumed,test,2026-04-28",
     "spot_usd_per_hour", "is not below on-demand"),
    ("aws,us-east-1,V100,p3.2xlarge,1,3.06,,,,test,2026-04-28",
     "accelerator", "is unknown"),
    ("aws,us-east-1,T4,g4dn.2xlarge,0,0.75,,,,test,2026-04-28",
     "gpus_per_instance", "must be >= 1"),
    ("aws,us-east-1,T4,g4dn.2xlarge,0.25,0.75,,,,test,2026-04-28",
     "gpus_per_instance", "is not a whole number"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,0.30,30%,assumed,test,2026-04-28",
     "spot_interruption_bucket", "is unknown"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,0.30,,assumed,test,2026-04-28",
     "spot_interruption_bucket", "is missing"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,,10-15%,,test,2026-04-28",
     "spot_interruption_bucket", "no spot price"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,0.30,10-15%,,test,2026-04-28",
     "bucket_basis", "is missing"),
    ("oracle,us-ashburn-1,T4,VM.GPU,1,0.75,,,,test,2026-04-28",
     "provider", "is unknown"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,,,,test,28/04/2026",
     "as_of", "is not a date"),
    ("aws,us-east-1,T4,g4dn.2xlarge,1,0.75,,,,,2026-04-28",
     "source", "is missing"),
    ("aws,,T4,g4dn.2xlarge,1,0.75,,,,test,2026-04-28",
     "region", "is missing"),
    ("aws,us-east-1,T4,g4dn.xlarge,1,0.60,,,,test,2026-04-28",
     "instance_type", "duplicates row 2"),
]


@pytest.mark.parametrize(("bad", "field", "problem"), BAD_ROWS,
                         ids=[f"{f}-{p}" for _, f, p in BAD_ROWS])
def test_bad_row_names_file_row_and_field(tmp_path: Path, bad: str, field: str,
                                          problem: str) -> None:
    path = write_csv(tmp_path, GOOD, bad, GOOD.replace("us-east-1", "us-east-2"))
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    message = str(err.value)
    assert message.startswith(f"{path}: row 3 (")
    assert f"field '{field}'" in message
    assert problem in message
    assert "; fix: " in message
    assert err.value.row == 3 and err.value.field == field


def test_row_numbers_follow_file_lines(tmp_path: Path) -> None:
    rows = [GOOD.replace("us-east-1", f"region-{i}") for i in range(5)]
    rows.append("aws,us-east-1,T4,g4dn.xlarge,one,0.5,,,,test,2026-04-28")
    with pytest.raises(CatalogError, match=r": row 7 \(aws us-east-1 g4dn.xlarge\): "
                                           r"field 'gpus_per_instance'"):
        load_catalog(write_csv(tmp_path, *rows))


def test_wrong_number_of_fields_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"row 2: has 12 fields, expected 11"):
        load_catalog(write_csv(tmp_path, GOOD + ",extra"))


def test_bad_header_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="missing column.*spot_usd_per_hour"):
        load_catalog(write_csv(tmp_path, GOOD, header=HEADER.replace("spot_usd_per_hour",
                                                                     "spot")))
    with pytest.raises(CatalogError, match="has a header but no offers"):
        load_catalog(write_csv(tmp_path))
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CatalogError, match="is empty"):
        load_catalog(empty)
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(tmp_path / "nope.csv")


def test_unknown_date_and_quoted_source_are_accepted(tmp_path: Path) -> None:
    row = 'azure,westus,T4,Standard_NC4as_T4_v3,1,0.526,0.16,10-15%,assumed,"a, b",unknown'
    catalog = load_catalog(write_csv(tmp_path, row))
    assert len(catalog.offers) == 2
    assert all(o.as_of is None and o.source == "a, b" for o in catalog.offers)


def test_offer_rejects_inconsistent_values() -> None:
    common = {"provider": "aws", "region": "r", "accelerator": "T4", "instance_type": "x",
                  "source": "t", "as_of": None, "bucket_basis": None}
    with pytest.raises(ValueError, match="interruption_bucket"):
        Offer(purchase=Purchase.SPOT, usd_per_hour=1.0, gpus_per_instance=1,
              interruption_bucket=None, **common)
    with pytest.raises(ValueError, match="gpus_per_instance"):
        Offer(purchase=Purchase.ON_DEMAND, usd_per_hour=1.0, gpus_per_instance=0,
              interruption_bucket=None, **common)
    with pytest.raises(ValueError, match="usd_per_hour"):
        Offer(purchase=Purchase.ON_DEMAND, usd_per_hour=-1.0, gpus_per_instance=1,
              interruption_bucket=None, **common)


# --- provenance and isolation -----------------------------------------------------------

def test_script_regenerates_the_bundled_csv(tmp_path: Path) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"../shared/data not found: {SHARED_DATA} (the derivation reads it)")
    out = tmp_path / "gpu_offers.csv"
    subprocess.run([sys.executable, str(SCRIPT), "--data-dir", str(SHARED_DATA),
                    "--out", str(out)], check=True, capture_output=True, text=True)
    assert out.read_bytes() == BUNDLED.read_bytes()


def test_pricing_imports_nothing_else_from_gridshift() -> None:
    code = ("import sys, pricing.catalog, pricing.catalog_csv, pricing.spot, pricing.mig, "
            "pricing.onprem, pricing.egress, pricing.sources.refresh; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'carbon', 'planner', 'app', 'forecasting'}); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, env={"PYTHONPATH": str(REPO)}, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- coverage, sizes, optional columns ----------------------------------------------------

def test_every_bundled_row_has_vcpus_and_memory(bundled: Catalog) -> None:
    assert all(o.vcpus and o.memory_gib for o in bundled.offers)
    p5 = bundled.cheapest(provider="aws", region="us-east-1", accelerator="H100",
                          purchase=Purchase.ON_DEMAND)
    assert p5 is not None and (p5.vcpus, p5.memory_gib) in {(16, 256), (192, 2048)}


def test_aws_sizes_match_the_spot_advisor(shared_data: Path) -> None:
    import json

    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import derive_price_catalog as script
    finally:
        sys.path.pop(0)
    advisor = json.loads((shared_data / "pricing" / "aws_spot_advisor_2025-06-28.json")
                         .read_text(encoding="utf-8"))["instance_types"]
    checked = 0
    for itype, (vcpus, memory) in script.AWS_SPECS.items():
        if itype in advisor:
            assert (advisor[itype]["cores"], advisor[itype]["ram_gb"]) == (vcpus, memory), itype
            checked += 1
    assert checked >= len(script.AWS_SPECS) - 1  # p5.4xlarge is newer than the feed


def test_aws_covers_many_regions_per_accelerator(bundled: Catalog) -> None:
    regions = {a: {r for p, r in bundled.regions("aws") if a in
                   bundled.accelerators_in(provider=p, region=r)} for a in ACCELERATORS}
    minimum = {"T4": 19, "A10G": 17, "L4": 14, "L40S": 11, "H100": 12, "A100-40GB": 12,
               "A100-80GB": 5}
    for accelerator, n in minimum.items():
        assert len(regions[accelerator]) >= n, (accelerator, sorted(regions[accelerator]))
    assert {"us-west-2", "eu-central-1", "ap-northeast-1"} <= regions["A100-40GB"]


def test_every_azure_and_gcp_snapshot_region_is_covered(shared_data: Path,
                                                        bundled: Catalog) -> None:
    import csv as csvlib

    canon = {"A100": "A100-40GB", "A100-80GB": "A100-80GB", "H100": "H100", "T4": "T4"}
    with open(shared_data / "pricing" / "azure_gpu_offers_2026-04-22.csv", newline="",
              encoding="utf-8") as f:
        wanted = {(r["Region"], canon[r["AcceleratorName"]]) for r in csvlib.DictReader(f)
                  if r["AcceleratorName"] in canon and r["Price"]}
    have = {(r, a) for p, r in bundled.regions("azure")
            for a in bundled.accelerators_in(provider=p, region=r)}
    assert wanted <= have, sorted(wanted - have)[:5]
    with open(shared_data / "pricing" / "gcp_gpu_offers_2026-04-28.csv", newline="",
              encoding="utf-8") as f:
        rows = list(csvlib.DictReader(f))
    hosts = {r["Region"] for r in rows
             if r["InstanceType"].startswith(("a2-", "a3-high", "a3-mega", "a3-edge", "g2-"))}
    gpus = {r["Region"] for r in rows if not r["InstanceType"]
            and r["AcceleratorName"] in {"A100", "A100-80GB", "H100", "H100-MEGA", "L4"}}
    # a region needs both halves (host + accelerator row) to be priced; europe-west8
    # lists a3 hosts without an H100 row in this snapshot
    assert hosts & gpus <= {r for _, r in bundled.regions("gcp")}
    t4 = {r["Region"] for r in rows if not r["InstanceType"] and r["AcceleratorName"] == "T4"}
    assert t4 == {r for p, r in bundled.regions("gcp")
                  if "T4" in bundled.accelerators_in(provider=p, region=r)}


def test_spot_is_at_least_one_percent_below_on_demand(bundled: Catalog) -> None:
    on_demand = {(o.provider, o.region, o.instance_type): o.usd_per_hour
                 for o in bundled.offers if o.purchase is Purchase.ON_DEMAND}
    for o in bundled.offers:
        if o.purchase is Purchase.SPOT:
            assert o.usd_per_hour < 0.99 * on_demand[(o.provider, o.region, o.instance_type)]


def test_optional_columns_and_currency(tmp_path: Path) -> None:
    header = HEADER + ",vcpus,memory_gib,currency"
    good = GOOD + ",4,16,USD"
    catalog = load_catalog(write_csv(tmp_path, good, header=header))
    assert {(o.vcpus, o.memory_gib) for o in catalog.offers} == {(4.0, 16.0)}
    with pytest.raises(CatalogError, match=r"row 3 .*field 'currency' is 'EUR', not USD"):
        load_catalog(write_csv(tmp_path, good, good.replace("us-east-1", "eu-west-3")
                               .replace("USD", "EUR"), header=header))
    with pytest.raises(CatalogError, match=r"row 2 .*field 'vcpus' must be > 0"):
        load_catalog(write_csv(tmp_path, GOOD + ",0,16,USD", header=header))
    with pytest.raises(CatalogError, match="unknown column.*gpu_model"):
        load_catalog(write_csv(tmp_path, GOOD + ",x", header=HEADER + ",gpu_model"))
    assert ",".join(COLUMNS).startswith("provider,region,accelerator,instance_type,"
                                        "gpus_per_instance,vcpus,memory_gib,")


def test_onprem_rows_load_from_a_csv(tmp_path: Path) -> None:
    row = "onprem,dc1,H100,onprem-8xH100,8,12.23,,,,user-declared,2026-01-15"
    catalog = load_catalog(write_csv(tmp_path, row))
    assert catalog.accelerators_in(provider="onprem", region="dc1") == {"H100"}


def test_select_and_merge(bundled: Catalog) -> None:
    spot_h100 = bundled.select(accelerator="H100", purchase=Purchase.SPOT, provider="aws")
    assert spot_h100 and all(o.accelerator == "H100" and o.purchase is Purchase.SPOT
                             and o.provider == "aws" for o in spot_h100)
    prices = [o.usd_per_gpu_hour for o in spot_h100]
    assert prices == sorted(prices)
    assert bundled.select(region="nowhere") == ()
    first = bundled.offers[0]
    with pytest.raises(CatalogError, match="already in the catalog"):
        bundled.merged([first], label="dup")
    assert ("aws", "us-east-1") in bundled.regions("aws")
    assert first.age_days(datetime.date(2026, 5, 1)) in (None, *range(400))
