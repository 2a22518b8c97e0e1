"""Regenerate pricing/data/egress_inter_region_usd_per_gb.csv from the green-dcc matrices.

    python scripts/derive_egress_table.py [--data-dir ../shared/data] [--out PATH]

Reads shared ``region_metadata/greendcc_{aws,azure,gcp}_transfer_cost_usd_per_gb.csv``
(HewlettPackard/green-dcc @ 3f6ea95, ``data/network_cost/``) and writes one row per
ordered pair of distinct regions. AWS and Azure: ``matrix[from][to]`` (rows are
constant: the source region sets the price). GCP: ``max(matrix[a][b], matrix[b][a])``
(the matrix follows one endpoint's continent; GCP bills the continent pair). Azure
display names become ARM names (lower case, spaces removed). See pricing/egress.py.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "pricing" / "data" / "egress_inter_region_usd_per_gb.csv"
FILES = {p: f"region_metadata/greendcc_{p}_transfer_cost_usd_per_gb.csv"
         for p in ("aws", "azure", "gcp")}
SOURCE = "green-dcc@3f6ea95 data/network_cost (shared {file})"


def arm_name(provider: str, name: str) -> str:
    return name.lower().replace(" ", "") if provider == "azure" else name


def read_matrix(path: Path) -> tuple[list[str], dict[tuple[str, str], float]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    columns = [c.strip() for c in rows[0][1:]]
    matrix = {}
    for r in rows[1:]:
        if not r or not r[0].strip():
            continue
        for col, cell in zip(columns, r[1:], strict=True):
            matrix[(r[0].strip(), col)] = float(cell)
    return columns, matrix


def derive(data_dir: Path) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["provider", "from_region", "to_region", "usd_per_gb", "source"])
    for provider, file in FILES.items():
        path = data_dir / file
        if not path.is_file():
            raise SystemExit(f"{path}: not found; fix: pass --data-dir pointing at shared/data")
        columns, matrix = read_matrix(path)
        rows = sorted({a for a, _ in matrix})
        for a in rows:
            for b in columns:
                if a == b or (a, b) not in matrix:
                    continue
                usd = matrix[(a, b)]
                if provider == "gcp" and (b, a) in matrix:
                    usd = max(usd, matrix[(b, a)])
                writer.writerow([provider, arm_name(provider, a), arm_name(provider, b),
                                 f"{usd:g}", SOURCE.format(file=file)])
    return buf.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    text = derive(args.data_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10)) - 1} pairs to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
