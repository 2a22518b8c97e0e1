"""The embedded default as a source: always answers for known zones, kind DEFAULT.

It is the last link of a chain: typical-day-per-month profiles (or a flat annual mean)
bundled with the package (``carbon.intensity.embedded_default``), so planning works with
no network and no keys, and every series says it is a default, not data.
"""

from __future__ import annotations

from carbon.intensity import IntensitySeries, UnknownZoneError, embedded_default
from carbon.sources.base import IntensityQuery, NotCovered

__all__ = ["EmbeddedDefaultSource"]


class EmbeddedDefaultSource:
    name = "embedded-default"

    def _series(self, query: IntensityQuery) -> IntensitySeries:
        try:
            return embedded_default(query.zone, start=query.start, hours=query.hours)
        except UnknownZoneError as exc:
            raise NotCovered(self.name, str(exc)) from None

    def actual(self, query: IntensityQuery) -> IntensitySeries:
        return self._series(query)

    def forecast(self, query: IntensityQuery) -> IntensitySeries:
        return self._series(query)
