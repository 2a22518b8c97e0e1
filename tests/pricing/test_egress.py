"""pricing.egress: USD/GB between regions and providers, with where each figure comes from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pricing.egress import (
    INTERNET_EGRESS_USD_PER_GB,
    EgressBasis,
    load_egress_table,
    parse_egress_csv,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def table():
    return load_egress_table()


def q(table, a, b, c, d, **kw):
    return table.quote(from_provider=a, from_region=b, to_provider=c, to_region=d, **kw)


def test_same_region_is_free(table) -> None:
    quote = q(table, "aws", "us-east-1", "aws", "us-east-1")
    assert quote.usd_per_gb == 0 and quote.basis is EgressBasis.SAME_REGION


def test_aws_and_azure_charge_by_source_region(table) -> None:
    assert q(table, "aws", "us-east-1", "aws", "us-east-2").usd_per_gb == 0.01
    assert q(table, "aws", "ap-northeast-1", "aws", "us-east-1").usd_per_gb == 0.09
    assert q(table, "aws", "us-east-1", "aws", "ap-northeast-1").usd_per_gb == 0.02
    quote = q(table, "azure", "westeurope", "azure", "northeurope")  # ARM names
    assert quote.usd_per_gb == 0.02 and quote.basis is EgressBasis.MATRIX
    assert "greendcc_azure" in quote.source
    assert q(table, "azure", "brazilsouth", "azure", "eastus").usd_per_gb == 0.16


def test_gcp_is_symmetric_by_continent_pair(table) -> None:
    there = q(table, "gcp", "us-east1", "gcp", "europe-west1").usd_per_gb
    back = q(table, "gcp", "europe-west1", "gcp", "us-east1").usd_per_gb
    assert there == back == 0.05
    assert q(table, "gcp", "us-east1", "gcp", "asia-east1").usd_per_gb == 0.08
    assert q(table, "gcp", "us-east1", "gcp", "us-west1").usd_per_gb == 0.02


def test_defaults_across_providers_and_for_unlisted_regions(table) -> None:
    out = q(table, "aws", "us-east-1", "gcp", "us-east1")
    assert out.usd_per_gb == INTERNET_EGRESS_USD_PER_GB["aws"] == 0.09
    assert out.basis is EgressBasis.INTERNET_DEFAULT and "assumed" in out.source
    assert q(table, "gcp", "europe-west2", "gcp", "us-east1").basis is \
        EgressBasis.INTERNET_DEFAULT  # europe-west2 is not in the matrix
    assert q(table, "onprem", "dc1", "azure", "eastus").usd_per_gb == 0.0
    user = q(table, "onprem", "dc1", "aws", "us-east-1", default_usd_per_gb=0.03)
    assert user.usd_per_gb == 0.03 and user.basis is EgressBasis.USER
    assert out.cost_usd(500) == pytest.approx(45.0)
    with pytest.raises(ValueError, match="no egress default"):
        q(table, "oracle", "x", "aws", "us-east-1")


def test_bad_table_rows_are_named() -> None:
    head = "provider,from_region,to_region,usd_per_gb,source\n"
    with pytest.raises(ValueError, match="row 2: field 'usd_per_gb' is not a number"):
        parse_egress_csv(head + "aws,a,b,cheap,s\n", "t.csv")
    with pytest.raises(ValueError, match="row 3: duplicates"):
        parse_egress_csv(head + "aws,a,b,0.1,s\naws,a,b,0.2,s\n", "t.csv")


def test_script_regenerates_the_bundled_table(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "egress.csv"
    subprocess.run([sys.executable, str(REPO / "scripts" / "derive_egress_table.py"),
                    "--data-dir", str(shared_data), "--out", str(out)], check=True,
                   capture_output=True, text=True)
    assert out.read_bytes() == (REPO / "pricing" / "data" /
                                "egress_inter_region_usd_per_gb.csv").read_bytes()
