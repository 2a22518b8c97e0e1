"""Loaders that turn where usage history lives into the frame ``unique_id, ds, y``.

    files       CSV / Parquet tables, with column names mapped onto the contract
    usage       job tables (start, end, GPUs) -> time-weighted GPUs in use per step
    prometheus  Prometheus HTTP API ``query_range`` (injected ``requests.Session``)
    traces      the public traces in shared/data (Alibaba GPU pods and LoRA requests,
                Electricity Maps hourly carbon intensity)

Loaders do I/O and shape conversion only; repairs (gaps, duplicates, ...) happen once, in
``forecasting.frame.prepare``, so they are reported the same way whatever the source.
"""
