"""HTTP API and Kubernetes admission webhooks (``gridshift serve``).

    server.py      create_app(state): routes, lifespan loops, uvicorn with TLS
    webhook.py     /mutate, /validate: AdmissionReview wire format, fail-open, dry-run
    decide.py      the decision for one request (planned / placed on arrival / unchanged; budgets)
    serving_parts.py  which part of a serving workload's plan a new Pod takes (deficit rule)
    objects.py     Pod / Job -> workload name, team, GPUs, opt-in, arrival annotations
    patch.py       assignment -> RFC 6902 JSON Patch (affinity, capacity type, MIG, gates)
    plan_cache.py  the served plan in memory, refreshed from the store
    v1.py          /v1/plans, /v1/forecasts, /v1/footprint, /v1/measurements
    auth.py        bearer token for /v1
    config.py      webhook settings file (opt-in namespaces, budgets, label styles, zones)
    metrics.py     Prometheus metrics
    state.py       what one server holds; arrival placement with its lock and ticket
"""
