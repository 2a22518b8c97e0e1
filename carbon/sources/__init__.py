"""Carbon-intensity sources behind one interface, and a fallback chain over them.

- ``base``: ``IntensityQuery``, the ``IntensitySource`` protocol, the error tree;
- ``electricitymaps``, ``watttime``, ``ukgrid``: the live APIs (HTTP, injectable session);
- ``trace``: CSV/Parquet files; ``embedded``: the bundled defaults;
- ``cache``: the disk cache; ``chain``: fallback over sources; ``credentials``: keys from
  the environment or a config file.

``default_chain()`` builds the usual chain: Electricity Maps (when a token is set) ->
UK Carbon Intensity API (GB only, no key) -> trace files (if given) -> embedded default.
WattTime is added only with ``marginal=True``: its MOER is a marginal signal, good for
steering and wrong for an inventory footprint. Base URLs can be overridden with
``GRIDSHIFT_ELECTRICITYMAPS_URL``, ``GRIDSHIFT_WATTTIME_URL`` and ``GRIDSHIFT_UKGRID_URL``
(a proxy, a mirror, or a test server).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import requests

from carbon.sources.base import (
    AuthError,
    BadResponse,
    IntensityQuery,
    IntensitySource,
    NotCovered,
    RateLimited,
    SourceError,
    SourceUnavailable,
)
from carbon.sources.cache import DiskCache
from carbon.sources.chain import ChainPolicy, IntensityChain, NoIntensityError
from carbon.sources.credentials import Credentials, Secret, load_credentials
from carbon.sources.electricitymaps import DEFAULT_BASE as EM_BASE
from carbon.sources.electricitymaps import ElectricityMapsSource
from carbon.sources.embedded import EmbeddedDefaultSource
from carbon.sources.trace import TraceFile, TraceFormat, TraceSource
from carbon.sources.ukgrid import DEFAULT_BASE as UK_BASE
from carbon.sources.ukgrid import UKGridSource
from carbon.sources.watttime import DEFAULT_BASE as WT_BASE
from carbon.sources.watttime import WattTimeSource

__all__ = [
    "AuthError",
    "BadResponse",
    "ChainPolicy",
    "Credentials",
    "DiskCache",
    "ElectricityMapsSource",
    "EmbeddedDefaultSource",
    "IntensityChain",
    "IntensityQuery",
    "IntensitySource",
    "NoIntensityError",
    "NotCovered",
    "RateLimited",
    "Secret",
    "SourceError",
    "SourceUnavailable",
    "TraceFile",
    "TraceFormat",
    "TraceSource",
    "UKGridSource",
    "WattTimeSource",
    "default_cache_dir",
    "default_chain",
    "load_credentials",
]


def default_cache_dir() -> Path:
    """``$GRIDSHIFT_CACHE_DIR/carbon``, else ``~/.cache/gridshift/carbon``."""
    base = os.environ.get("GRIDSHIFT_CACHE_DIR") or "~/.cache/gridshift"
    return Path(base).expanduser() / "carbon"


def default_chain(*, session: requests.Session | None = None,
                  credentials: Credentials | None = None, traces: Sequence[TraceFile] = (),
                  cache_dir: Path | None = None, marginal: bool = False,
                  policy: ChainPolicy | None = None,
                  clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> IntensityChain:
    """The usual chain (module docstring); credentials default to ``load_credentials()``."""
    session = session or requests.Session()
    creds = credentials if credentials is not None else load_credentials()
    env = os.environ
    sources: list[IntensitySource] = []
    if creds.electricitymaps_token:
        sources.append(ElectricityMapsSource(
            session, token=creds.electricitymaps_token, clock=clock,
            base_url=env.get("GRIDSHIFT_ELECTRICITYMAPS_URL") or EM_BASE))
    if marginal and creds.watttime_username and creds.watttime_password:
        sources.append(WattTimeSource(
            session, username=creds.watttime_username, password=creds.watttime_password,
            clock=clock, base_url=env.get("GRIDSHIFT_WATTTIME_URL") or WT_BASE))
    sources.append(UKGridSource(session, clock=clock,
                                base_url=env.get("GRIDSHIFT_UKGRID_URL") or UK_BASE))
    if traces:
        sources.append(TraceSource(traces))
    sources.append(EmbeddedDefaultSource())
    return IntensityChain(sources, cache=DiskCache(cache_dir or default_cache_dir(), clock=clock),
                          policy=policy, clock=clock)
