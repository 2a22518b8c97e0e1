"""Pure carbon and pricing maths, memoised by argument tuple for the planner's hot loops.

At fleet scale the options of thousands of workloads repeat the same few arguments (a job
shape on an offer's interruption bucket; an accelerator, GPU count, utilisation and PUE):
measured at 10,000 workloads, recomputing them was most of building the options. The
functions are pure, so a cached call returns exactly what a fresh one would; ``typed``
keeps 1 and 1.0 apart, and the caches are bounded.
"""

from __future__ import annotations

import functools

from carbon import energy
from pricing import spot

_SIZE = 1 << 16

spot_risk = functools.lru_cache(maxsize=_SIZE, typed=True)(spot.spot_risk)
energy_kwh = functools.lru_cache(maxsize=_SIZE, typed=True)(energy.energy_kwh)
embodied_kg_co2e = functools.lru_cache(maxsize=_SIZE, typed=True)(energy.embodied_kg_co2e)
