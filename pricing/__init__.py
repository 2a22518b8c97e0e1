"""GPU prices and spot risk for the planner (no network at runtime).

    pricing.catalog  offers per (provider, region, accelerator, purchase); load_catalog()
                     reads the bundled pricing/data/gpu_offers.csv or a user CSV
    pricing.spot     interruption bucket -> hazard -> expected runtime of a
                     checkpointed job on spot capacity

pricing/ depends on nothing else in gridshift (not carbon/, planner/ or app/).
"""
