"""GPU prices, spot risk, MIG partitions and data movement for the planner.

    pricing.catalog       offers per (provider, region, accelerator, purchase); load_catalog()
                          reads the bundled pricing/data/gpu_offers.csv or a user CSV
                          (rows validated by pricing.catalog_csv)
    pricing.spot          interruption bucket -> hazard -> expected runtime, cost, extra
                          energy and P(finish by a deadline); no checkpoint -> no spot
    pricing.mig           MIG profiles, placements, the layouts one GPU holds, their shares
    pricing.onprem        on-premises clusters priced by amortised cost per GPU-hour
    pricing.egress        USD/GB between regions and providers
    pricing.sources.*     importers (SkyPilot CSV, Azure Retail Prices API, AWS Spot
                          Advisor) and the live -> cache -> bundled refresh chain

No network at import time; HTTP only in pricing.sources, through an injected session.
pricing/ depends on nothing else in gridshift (not carbon/, planner/ or app/).
"""
