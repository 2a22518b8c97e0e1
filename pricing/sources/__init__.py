"""Where prices come from at refresh time: vendor formats in, offers out.

    pricing.sources.skypilot           SkyPilot catalog CSV (vms.csv) -> offers (pure)
    pricing.sources.azure_retail       Azure Retail Prices API (paged, OData filter)
    pricing.sources.aws_spot_advisor   AWS Spot Instance Advisor JSON -> buckets
    pricing.sources.http               one GET with bounded retries (429 Retry-After, 5xx)
    pricing.sources.cache              raw payloads on disk with their fetch time
    pricing.sources.refresh            live -> cache -> bundled, labelled with origin and age

HTTP goes through an injected ``requests.Session``; nothing here runs at import time.
"""
