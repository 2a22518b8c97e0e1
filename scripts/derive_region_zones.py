#!/usr/bin/env python3
"""Build carbon/data/region_zones.csv and zone_annual_means.csv from ../shared/data.

Usage (from the repo root)::

    python scripts/derive_region_zones.py --data-dir ../shared/data [--out-dir carbon/data]

No authoritative public mapping from cloud regions to grid zones exists (SOURCES.md,
section 5: the mappings in public repositories live in code and disagree). This script
makes one, row by row, and says how sure it is.

Method
------
1. **Which regions.** Every region that offers GPUs in the price snapshots:
   GCP and Azure = regions with a non-empty ``AcceleratorName`` in
   ``pricing/{gcp,azure}_gpu_offers_*.csv``; AWS = regions of the Spot Instance Advisor
   feed (``pricing/aws_spot_advisor_2025-06-28.json``) that list at least one GPU
   instance family (p2, p3, p3dn, p4d, p4de, p5, p5e, p5en, p6, g3, g4dn, g4ad, g5, g5g,
   g6, g6e, g6f, gr6).
2. **Where each region is.** Country / state / city from the region metadata, in this
   order: GCP: codecarbon 3.3.2 ``impact.csv`` (city, state) and Google's
   region-carbon ``Location``; AWS and Azure: codecarbon 2.0.0 ``impact.csv`` (city,
   state) and the CCF grid-factor files (country, NERC region, Azure location).
   codecarbon 2.0.0's ``countryIsoCode`` is wrong for most non-US AWS rows (it says
   USA), so ISO codes come from the country name (ISO 3 via codecarbon's
   ``global_energy_mix.json``). Where the files disagree with the provider's published
   region location, or have no row (27 newer regions), ``SITE_FIX`` below gives the
   city and says why; those rows are at most ``medium`` confidence (``low`` when the
   location is not in shared/data at all).
3. **Coordinates.** ``CITY_LATLON``: approximate city-centre WGS84 coordinates typed
   from public gazetteers, 2 decimals (about 1 km). They locate the metro area, not the
   data centre (which can be tens of km away); WattTime's ``region-from-loc`` and
   codecarbon use them.
4. **Which zone.** Electricity Maps zone keys (checked against the zone files of
   electricitymaps/electricitymaps-contrib ``config/zones/*.yaml``). A country that
   Electricity Maps models as one zone gets the country code. Split countries
   (US, CA, JP, IN, AU, BR, IT, SE, NO, MY, MX, CL) take the zone of the balancing
   authority / bidding zone / regional grid that serves the city (``CITY_ZONE``, each
   with its reason). For the US the zone is the balancing authority (BA), not the
   NERC region CCF gives (e.g. N. Virginia is NERC SERC but BA PJM).
5. **Confidence.** ``high``: location in shared/data and one zone covers the whole
   metro area (or the whole country); ``medium``: the zone depends on which utility
   serves the site, or a sub-national location had to be corrected; ``low``: the
   serving BA is genuinely unclear. A row whose location is not in shared/data at all
   goes one level down (high -> medium, medium -> low). Anything but ``high`` is an uncertain row: fleets should
   check it and override (``carbon.zones.zone_for(..., overrides=...)``).

``zone_annual_means.csv`` gives each mapped zone without an hourly profile in
``intensity_profiles.csv`` one flat annual mean, the embedded default of last resort:
(a) the mean of Google's 2023 "Grid carbon intensity" of the GCP GPU regions in the
zone (region-carbon-info @ 49f3f26b); else (b) for US zones the EPA eGRID2023 state
CO2e output rate (lbs/MWh x 0.45359237) of the states of the zone's regions (via
codecarbon 3.3.2); else (c) the country's carbon intensity from codecarbon 3.3.2
``global_energy_mix.json`` (year per row). These figures are not on one basis
(direct vs life-cycle) and have no daily shape: a prior, labelled as such.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "carbon" / "data"
KG_PER_LB = 0.45359237

GCP_OFFERS = "pricing/gcp_gpu_offers_2026-04-28.csv"
AZURE_OFFERS = "pricing/azure_gpu_offers_2026-04-22.csv"
AWS_SPOT = "pricing/aws_spot_advisor_2025-06-28.json"
CC3 = "region_metadata/codecarbon_3.3.2_cloud_impact.csv"
CC2 = "region_metadata/codecarbon_2.0.0_cloud_impact.csv"
GOOGLE = "region_metadata/google_cloud_region_carbon_2023.csv"
CCF = "region_metadata/ccf_grid_emissions_factors_{}.csv"
MIX = "region_metadata/codecarbon_3.3.2_global_energy_mix.json"
EGRID = "region_metadata/codecarbon_3.3.2_usa_emissions_2023.json"
PROFILES = "intensity_profiles.csv"
AWS_GPU_FAMILIES = {"p2", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6", "g3", "g4dn",
                    "g4ad", "g5", "g5g", "g6", "g6e", "g6f", "gr6"}

# country name as written in the metadata files -> (ISO 3166 alpha-2, alpha-3)
COUNTRY = {
    "USA": ("US", "USA"), "United States": ("US", "USA"), "Canada": ("CA", "CAN"),
    "Brazil": ("BR", "BRA"), "Chile": ("CL", "CHL"), "Mexico": ("MX", "MEX"),
    "United Kingdom": ("GB", "GBR"), "England": ("GB", "GBR"), "Ireland": ("IE", "IRL"),
    "France": ("FR", "FRA"), "Germany": ("DE", "DEU"), "Netherlands": ("NL", "NLD"),
    "Belgium": ("BE", "BEL"), "Switzerland": ("CH", "CHE"), "Italy": ("IT", "ITA"),
    "Spain": ("ES", "ESP"), "Sweden": ("SE", "SWE"), "Norway": ("NO", "NOR"),
    "Finland": ("FI", "FIN"), "Poland": ("PL", "POL"), "Israel": ("IL", "ISR"),
    "Qatar": ("QA", "QAT"), "Saudi Arabia": ("SA", "SAU"), "Bahrain": ("BH", "BHR"),
    "United Arab Emirates": ("AE", "ARE"), "South Africa": ("ZA", "ZAF"),
    "India": ("IN", "IND"), "Singapore": ("SG", "SGP"), "Indonesia": ("ID", "IDN"),
    "Malaysia": ("MY", "MYS"), "Hong Kong": ("HK", "HKG"), "Taiwan": ("TW", "TWN"),
    "Japan": ("JP", "JPN"), "Korea": ("KR", "KOR"), "South Korea": ("KR", "KOR"),
    "Australia": ("AU", "AUS"),
}

# (provider, region) -> (city, state, country, why): corrections and regions with no metadata.
# "nometa" in why = not in any shared/data file (location from the provider's public region
# page); the row is then at most low confidence.
SITE_FIX: dict[tuple[str, str], tuple[str, str, str, str]] = {
    ("gcp", "asia-east2"): ("Hong Kong", "", "Hong Kong",
                           ("codecarbon says country China; Google Location is Hong Kong, a "
                           "separate grid")),
    ("aws", "ap-east-1"): ("Hong Kong", "", "Hong Kong",
                           "codecarbon says country China; CCF says Hong Kong, a separate grid"),
    ("aws", "us-west-2"): ("Boardman", "Oregon", "USA",
                           ("codecarbon says Portland; AWS's Oregon data centres are in "
                           "Morrow/Umatilla County (Boardman), east of Portland")),
    ("aws", "af-south-1"): ("Cape Town", "Western Cape", "South Africa",
                            "no codecarbon row; CCF gives South Africa, AWS names Cape Town"),
    ("aws", "me-south-1"): ("Manama", "", "Bahrain", "no codecarbon row; CCF gives Bahrain"),
    ("aws", "eu-south-1"): ("Milan", "Lombardy", "Italy",
                            "no codecarbon row; CCF gives Italy, AWS names Milan"),
    ("aws", "ap-southeast-3"): ("Jakarta", "", "Indonesia", "nometa: AWS region name Jakarta"),
    ("aws", "ap-southeast-5"): ("Kuala Lumpur", "", "Malaysia",
                                "nometa: AWS region name Malaysia; city assumed Kuala Lumpur"),
    ("aws", "eu-central-2"): ("Zurich", "", "Switzerland", "nometa: AWS region name Zurich"),
    ("aws", "eu-south-2"): ("Zaragoza", "Aragon", "Spain", ("nometa: AWS region name Spain "
                            "(Aragon)")),
    ("aws", "il-central-1"): ("Tel Aviv", "", "Israel", "nometa: AWS region name Tel Aviv"),
    ("aws", "me-central-1"): ("Dubai", "", "United Arab Emirates",
                              "nometa: AWS region name UAE; city assumed Dubai"),
    ("azure", "uksouth"): ("London", "England", "United Kingdom",
                           "codecarbon says Midhurst; CCF and Azure say London"),
    ("azure", "ukwest"): ("Cardiff", "Wales", "United Kingdom",
                          "codecarbon says Wallasey (England); CCF and Azure say Cardiff"),
    ("azure", "francecentral"): ("Paris", "Ile-de-France", "France",
                                 "codecarbon says Huriel; CCF and Azure say Paris"),
    ("azure", "centralindia"): ("Pune", "Maharashtra", "India",
                                "codecarbon says Lohogaon (a Pune suburb); CCF says Pune"),
    ("azure", "southindia"): ("Chennai", "Tamil Nadu", "India",
                              "codecarbon says Pallavaram (a Chennai suburb); CCF says Chennai"),
    ("azure", "westcentralus"): ("Cheyenne", "Wyoming", "USA",
                                 ("codecarbon says Mountain View (and doubts its own grid); Azure "
                                 "West Central US is reported in Cheyenne")),
    ("azure", "eastasia"): ("Hong Kong", "", "Hong Kong", "codecarbon city Wan Chai"),
    ("azure", "westus3"): ("Phoenix", "Arizona", "USA", "nometa: Azure says Phoenix"),
    ("azure", "chilecentral"): ("Santiago", "", "Chile", "nometa: Azure says Santiago"),
    ("azure", "germanynorth"): ("Berlin", "", "Germany", "nometa: Azure says Berlin"),
    ("azure", "germanywestcentral"): ("Frankfurt", "Hesse", "Germany",
                                      "not in codecarbon; CCF says Frankfurt"),
    ("azure", "indonesiacentral"): ("Jakarta", "", "Indonesia", "nometa: Azure says Jakarta"),
    ("azure", "israelcentral"): ("Tel Aviv", "", "Israel",
                                 "nometa: Azure says Israel; city assumed Tel Aviv"),
    ("azure", "italynorth"): ("Milan", "Lombardy", "Italy", "nometa: Azure says Milan"),
    ("azure", "jioindiacentral"): ("Nagpur", "Maharashtra", "India", "nometa: Azure says Nagpur"),
    ("azure", "jioindiawest"): ("Jamnagar", "Gujarat", "India", "nometa: Azure says Jamnagar"),
    ("azure", "malaysiawest"): ("Kuala Lumpur", "", "Malaysia",
                                "nometa: Azure says Kuala Lumpur"),
    ("azure", "mexicocentral"): ("Queretaro", "Queretaro", "Mexico",
                                 "nometa: Azure says Queretaro"),
    ("azure", "norwayeast"): ("Oslo", "", "Norway", "nometa: Azure says Oslo"),
    ("azure", "norwaywest"): ("Stavanger", "", "Norway", "nometa: Azure says Stavanger"),
    ("azure", "polandcentral"): ("Warsaw", "", "Poland", "nometa: Azure says Warsaw"),
    ("azure", "qatarcentral"): ("Doha", "", "Qatar", "nometa: Azure says Doha"),
    ("azure", "spaincentral"): ("Madrid", "", "Spain", "nometa: Azure says Madrid"),
    ("azure", "swedencentral"): ("Gavle", "", "Sweden", "not in codecarbon; CCF says Gavle"),
    ("azure", "switzerlandnorth"): ("Zurich", "", "Switzerland", "nometa: Azure says Zurich"),
    ("azure", "switzerlandwest"): ("Geneva", "", "Switzerland", "nometa: Azure says Geneva"),
    ("azure", "uaecentral"): ("Abu Dhabi", "", "United Arab Emirates",
                              "nometa: Azure says Abu Dhabi"),
    ("azure", "uaenorth"): ("Dubai", "", "United Arab Emirates", "nometa: Azure says Dubai"),
}

CITY_LATLON: dict[str, tuple[float, float]] = {
    "Ashburn": (39.04, -77.49), "Columbus": (39.96, -83.00), "San Francisco": (37.77, -122.42),
    "Boardman": (45.84, -119.70), "Council Bluffs": (41.26, -95.86),
    "Moncks Corner": (33.20, -80.01), "The Dalles": (45.60, -121.18),
    "Los Angeles": (34.05, -118.24), "Salt Lake City": (40.76, -111.89),
    "Las Vegas": (36.17, -115.14), "Dallas": (32.78, -96.80), "Des Moines": (41.59, -93.62),
    "Blue Ridge": (37.38, -79.81), "Boydton": (36.67, -78.39), "Chicago": (41.88, -87.63),
    "San Antonio": (29.42, -98.49), "Cheyenne": (41.14, -104.82), "Quincy": (47.23, -119.85),
    "Phoenix": (33.45, -112.07), "Toronto": (43.65, -79.38), "Montreal": (45.50, -73.57),
    "Quebec": (46.81, -71.21), "Sao Paulo": (-23.55, -46.63), "Santiago": (-33.45, -70.67),
    "Queretaro": (20.59, -100.39), "Dublin": (53.35, -6.26), "London": (51.51, -0.13),
    "Cardiff": (51.48, -3.18), "Paris": (48.86, 2.35), "Frankfurt": (50.11, 8.68),
    "Frankfurt am Main": (50.11, 8.68), "Berlin": (52.52, 13.40), "Zurich": (47.37, 8.54),
    "Geneva": (46.20, 6.15), "Milan": (45.46, 9.19), "Madrid": (40.42, -3.70),
    "Zaragoza": (41.65, -0.88), "Stockholm": (59.33, 18.07), "Gavle": (60.67, 17.14),
    "Oslo": (59.91, 10.75), "Stavanger": (58.97, 5.73), "Warsaw": (52.23, 21.01),
    "Hamina": (60.57, 27.20), "St. Ghislain": (50.45, 3.82), "Eemshaven": (53.44, 6.83),
    "Amsterdam": (52.37, 4.90), "Tel Aviv": (32.08, 34.78), "Doha": (25.29, 51.53),
    "Dammam": (26.43, 50.10), "Dubai": (25.20, 55.27), "Abu Dhabi": (24.45, 54.38),
    "Manama": (26.23, 50.59), "Cape Town": (-33.92, 18.42), "Johannesburg": (-26.20, 28.05),
    "Pretoria": (-25.75, 28.19), "Stellenbosch": (-33.93, 18.86), "Mumbai": (19.08, 72.88),
    "Pune": (18.52, 73.86), "Chennai": (13.08, 80.27), "Delhi": (28.61, 77.21),
    "Nagpur": (21.15, 79.09), "Jamnagar": (22.47, 70.06), "Singapore": (1.35, 103.82),
    "Jurong West": (1.34, 103.71), "Jakarta": (-6.21, 106.85), "Kuala Lumpur": (3.14, 101.69),
    "Hong Kong": (22.32, 114.17), "Changhua County": (24.08, 120.54), "Tokyo": (35.68, 139.69),
    "Osaka": (34.69, 135.50), "Osaka-shi": (34.69, 135.50), "Seoul": (37.57, 126.98),
    "Busan": (35.18, 129.08), "Sydney": (-33.87, 151.21), "Melbourne": (-37.81, 144.96),
    "Forrest": (-35.32, 149.13), "Sao Paulo ": (-23.55, -46.63),
}

# US state of a city, where the metadata leaves the state empty (codecarbon uses the state
# as its offline "region" in the US; eGRID rates are per state).
US_CITY_STATE = {"Ashburn": "Virginia", "Columbus": "Ohio", "San Francisco": "California",
                 "Dallas": "Texas", "Boardman": "Oregon"}

# Countries that Electricity Maps models as one zone: the zone is the ISO-2 code.
NATIONAL = {"GB", "IE", "FR", "DE", "NL", "BE", "CH", "ES", "FI", "PL", "IL", "QA", "SA", "BH",
            "AE", "ZA", "SG", "ID", "HK", "TW", "KR"}

# Split countries: city -> (zone, confidence, reason).
CITY_ZONE: dict[str, tuple[str, str, str]] = {
    "Ashburn": ("US-MIDA-PJM", "high", ("Loudoun County VA is served by Dominion Energy, a "
                "member of the PJM balancing authority (CCF's NERC region SERC is the "
                "reliability region, not the BA)")),
    "Blue Ridge": ("US-MIDA-PJM", "medium", ("western Virginia (Appalachian Power) and the "
                   "Boydton area are both in PJM; the exact site is not public")),
    "Boydton": ("US-MIDA-PJM", "medium", ("Mecklenburg County VA lies in the PJM BA "
                "(Dominion zone); the exact site and utility are not in shared/data")),
    "Columbus": ("US-MIDA-PJM", "high", "central Ohio (AEP Ohio) is in PJM"),
    "Chicago": ("US-MIDA-PJM", "medium", ("Chicago (ComEd) is in PJM; a suburban site could "
                "be served by another utility")),
    "San Francisco": ("US-CAL-CISO", "medium", ("Bay Area utilities (PG&E, SVP) sit in the "
                      "CAISO BA; Silicon Valley Power is in CAISO, but the site is not public")),
    "Los Angeles": ("US-CAL-LDWP", "low", ("the city of LA is LADWP's own BA; a site in the "
                    "wider metro area would be in CAISO (US-CAL-CISO) instead")),
    "Boardman": ("US-NW-BPAT", "medium", ("Morrow/Umatilla County OR utilities (Umatilla "
                 "Electric Co-op) are in the Bonneville (BPAT) BA")),
    "The Dalles": ("US-NW-BPAT", "high", ("The Dalles OR (Northern Wasco PUD) is in the "
                   "Bonneville (BPAT) BA")),
    "Quincy": ("US-NW-GCPD", "medium", "Quincy WA is served by Grant County PUD, its own BA"),
    "Council Bluffs": ("US-MIDW-MISO", "medium", ("Council Bluffs IA is served by MidAmerican "
                       "Energy, a MISO member")),
    "Des Moines": ("US-MIDW-MISO", "medium", "central Iowa (MidAmerican Energy) is in MISO"),
    "Moncks Corner": ("US-CAR-SC", "medium", ("Berkeley County SC (Santee Cooper) is the "
                      "South Carolina Public Service Authority BA")),
    "Salt Lake City": ("US-NW-PACE", "high", ("Salt Lake City (Rocky Mountain Power) is in the "
                       "PacifiCorp East BA")),
    "Las Vegas": ("US-NW-NEVP", "high", "Las Vegas (NV Energy) is in the Nevada Power BA"),
    "Dallas": ("US-TEX-ERCO", "high", "Dallas is in ERCOT"),
    "San Antonio": ("US-TEX-ERCO", "high", "San Antonio (CPS Energy) is in ERCOT"),
    "Cheyenne": ("US-NW-WACM", "low", ("Cheyenne WY utilities are in the WAPA Rocky Mountain "
                 "(WACM) BA; the site and the CCF/codecarbon rows are vague")),
    "Phoenix": ("US-SW-SRP", "low", ("the Phoenix metro is split between SRP and APS "
                "(US-SW-AZPS); the site's utility is not in shared/data")),
    "Montreal": ("CA-QC", "high", "Quebec's grid (Hydro-Quebec)"),
    "Quebec": ("CA-QC", "high", "Quebec's grid (Hydro-Quebec)"),
    "Toronto": ("CA-ON", "high", "Ontario's grid (IESO)"),
    "Sao Paulo": ("BR-CS", "high", "Sao Paulo is in Brazil's Central-South subsystem"),
    "Santiago": ("CL-SEN", "high", "Santiago is on Chile's national grid (SEN)"),
    "Queretaro": ("MX-OC", "low", ("Queretaro is in CENACE's Occidental control area as we "
                  "read it; not verified against CENACE maps")),
    "Milan": ("IT-NO", "high", "Lombardy is in Italy's North bidding zone"),
    "Stockholm": ("SE-SE3", "high", "Stockholm is in bidding zone SE3"),
    "Gavle": ("SE-SE3", "medium", "Gavle is in bidding zone SE3, close to the SE2 border"),
    "Oslo": ("NO-NO1", "high", "Oslo is in bidding zone NO1"),
    "Stavanger": ("NO-NO2", "high", "Stavanger is in bidding zone NO2"),
    "Tokyo": ("JP-TK", "high", "Tokyo Electric Power area"),
    "Osaka": ("JP-KN", "high", "Kansai Electric Power area"),
    "Osaka-shi": ("JP-KN", "high", "Kansai Electric Power area"),
    "Mumbai": ("IN-WE", "high", "Maharashtra is in India's Western regional grid"),
    "Pune": ("IN-WE", "high", "Maharashtra is in India's Western regional grid"),
    "Nagpur": ("IN-WE", "high", "Maharashtra is in India's Western regional grid"),
    "Jamnagar": ("IN-WE", "high", "Gujarat is in India's Western regional grid"),
    "Chennai": ("IN-SO", "high", "Tamil Nadu is in India's Southern regional grid"),
    "Delhi": ("IN-NO", "high", "Delhi is in India's Northern regional grid"),
    "Sydney": ("AU-NSW", "high", "NSW region of the NEM"),
    "Forrest": ("AU-NSW", "medium", "Canberra (ACT) is part of the NEM's NSW region"),
    "Melbourne": ("AU-VIC", "high", "VIC region of the NEM"),
    "Kuala Lumpur": ("MY-WM", "medium", "Peninsular (West) Malaysia grid; city assumed"),
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _ccf(data: Path, provider: str) -> dict[str, dict[str, str]]:
    out = {}
    with (data / CCF.format(provider)).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    for r in rows[1:]:  # the Azure file has a trailing extra field on one line: ignore extras
        rec = dict(zip(head, r))
        out[rec["Region"].replace(" ", "").lower() if provider == "azure" else rec["Region"]] = rec
    return out


def gpu_regions(data: Path) -> list[tuple[str, str]]:
    regions = set()
    for provider, f in (("gcp", GCP_OFFERS), ("azure", AZURE_OFFERS)):
        regions |= {(provider, r["Region"]) for r in _rows(data / f) if r["AcceleratorName"]}
    spot = json.loads((data / AWS_SPOT).read_text(encoding="utf-8"))
    for region, by_os in spot["spot_advisor"].items():
        if any(t.split(".")[0] in AWS_GPU_FAMILIES for t in by_os.get("Linux", {})):
            regions.add(("aws", region))
    return sorted(regions)


def _site(data: Path, provider: str, region: str, meta: dict) -> tuple[str, str, str, str, bool]:
    """(city, state, country, location_source, in_shared_data)."""
    used = []
    if provider == "gcp":
        cc = meta["cc3"].get(region)
        if cc:
            used.append(f"codecarbon 3.3.2 impact.csv ({cc['city']}, {cc['country_name']})")
        g = meta["google"].get(region)
        if g:
            used.append(f"Google region-carbon 2023 Location ({g['Location']})")
    else:
        cc = meta["cc2"].get((provider, region))
        if cc:
            used.append(f"codecarbon 2.0.0 impact.csv ({cc['city']}, {cc['countryName']})")
    ccf = meta["ccf"][provider].get(region)
    if ccf:
        where = ccf.get("Location") or ccf.get("Country")
        nerc = f", NERC {ccf['NERC Region']}" if ccf.get("NERC Region") else ""
        used.append(f"CCF {provider} grid factors ({where}{nerc})")
    fix = SITE_FIX.get((provider, region))
    if fix:
        city, state, country, why = fix
        used.append(f"corrected: {why}")
        return city, state, country, "; ".join(used), "nometa" not in why
    if not cc:
        raise SystemExit(f"{provider} {region}: no location in shared/data and no SITE_FIX entry")
    country = cc.get("country_name") or cc["countryName"]
    return cc["city"], cc["state"], country, "; ".join(used), True


def derive_rows(data: Path) -> list[list[str]]:
    meta = {
        "cc3": {r["region"]: r for r in _rows(data / CC3)},
        "cc2": {(r["provider"], r["region"]): r for r in _rows(data / CC2)},
        "google": {r["Google Cloud Region"]: r for r in _rows(data / GOOGLE)},
        "ccf": {p: _ccf(data, p) for p in ("aws", "gcp", "azure")},
    }
    rows = []
    for provider, region in gpu_regions(data):
        city, state, country, loc_src, in_data = _site(data, provider, region, meta)
        city = city.strip()
        if city == "Sao Paulo" or city.startswith("S\u00e3o"):
            city = "Sao Paulo"
        if country not in COUNTRY:
            raise SystemExit(f"{provider} {region}: country {country!r} not in COUNTRY")
        iso2, iso3 = COUNTRY[country]
        if iso2 == "US":
            state = "Virginia" if state == "Northern Virginia" else (state or US_CITY_STATE[city])
        if city not in CITY_LATLON:
            raise SystemExit(f"{provider} {region}: city {city!r} has no coordinates")
        lat, lon = CITY_LATLON[city]
        if iso2 in NATIONAL:
            zone, conf = iso2, "high"
            why = f"{country} is one Electricity Maps zone"
        elif city in CITY_ZONE:
            zone, conf, why = CITY_ZONE[city]
        else:
            raise SystemExit(f"{provider} {region}: no zone rule for {city}, {country}")
        if not in_data:  # location not cross-checked in shared/data: one level down
            conf = {"high": "medium"}.get(conf, "low")
        elif "corrected" in loc_src and conf == "high" and iso2 not in NATIONAL:
            conf = "medium"
        rows.append([provider, region, zone, iso2, iso3, state, city, f"{lat:.2f}", f"{lon:.2f}",
                     conf, loc_src + "; coordinates: approximate city centre",
                     why])
    return rows


def derive_annual_means(data: Path, rows: list[list[str]], hourly: set[str]) -> list[list[str]]:
    google = {r["Google Cloud Region"]: float(r["Grid carbon intensity (gCO2eq / kWh)"])
              for r in _rows(data / GOOGLE)}
    egrid = json.loads((data / EGRID).read_text(encoding="utf-8"))
    mix = json.loads((data / MIX).read_text(encoding="utf-8"))
    by_zone: dict[str, list[list[str]]] = {}
    for r in rows:
        by_zone.setdefault(r[2], []).append(r)
    out = []
    for zone in sorted(by_zone):
        if zone in hourly:
            continue
        zr = by_zone[zone]
        gcp = sorted({r[1] for r in zr if r[0] == "gcp" and r[1] in google})
        states = sorted({r[5].lower() for r in zr if r[3] == "US" and r[5].lower() in egrid})
        if gcp:
            g = sum(google[x] for x in gcp) / len(gcp)
            src = (f"Google Cloud region carbon 2023, grid carbon intensity of {', '.join(gcp)} "
                   "(region-carbon-info@49f3f26b)")
            year = "2023"
        elif states:
            g = sum(egrid[s]["emissions"] for s in states) / len(states) * KG_PER_LB
            src = (f"EPA eGRID2023 state CO2e output rate of {', '.join(states)} (lbs/MWh x "
                   "0.45359237; via codecarbon 3.3.2)")
            year = "2023"
        else:
            iso3 = zr[0][4]
            e = mix[iso3]
            g, year = float(e["carbon_intensity"]), str(e["year"])
            src = (f"country {iso3} carbon intensity, codecarbon 3.3.2 global_energy_mix.json "
                   f"({e['year']})")
        out.append([zone, f"{g:.1f}", year, src])
    return out


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True, help="path to shared/data")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if not (args.data_dir / "SOURCES.md").is_file():
        print(f"--data-dir {args.data_dir}: SOURCES.md not found; give the path to shared/data",
              file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    rows = derive_rows(args.data_dir)
    _write(args.out_dir / "region_zones.csv",
           ["provider", "cloud_region", "zone", "country_iso2", "country_iso3", "subdivision",
            "city", "lat", "lon", "confidence", "location_source", "zone_basis"], rows)
    with (DEFAULT_OUT / PROFILES).open(encoding="utf-8", newline="") as fh:
        hourly = {r["zone"] for r in csv.DictReader(fh)}
    _write(args.out_dir / "zone_annual_means.csv", ["zone", "g_per_kwh", "year", "source"],
           derive_annual_means(args.data_dir, rows, hourly))
    print(f"wrote {len(rows)} regions to {args.out_dir / 'region_zones.csv'} and "
          f"zone_annual_means.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
