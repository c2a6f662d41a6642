"""Live loaders: World Bank WDI, IMF (WEO, Direct Investment Positions), UN Comtrade.

Each source is one module with three steps, so everything but the download is tested on
recorded responses without the network:

- ``fetch`` (network only, through :mod:`~analysis.data.loaders.transport`): the raw bodies;
- ``parse``: raw body -> DataFrame, failing with a :class:`FetchError` that names the
  source, the query and the fault (truncated JSON, an SDMX error message, a missing field);
- ``normalise``: -> the partner panel's long format ``iso3, year, indicator, value, unit,
  source, vintage`` (+ ``note``), money in US$ billion, the panel's indicator codes.

:func:`refresh` downloads into the cache (``data/cache/``, git-ignored; ``MITRA_FETCH_CACHE``
moves it) and commits only what parsed; :func:`fetched_frame` returns the cached values for
the panel, :func:`fetched_positions` the DIP positions for the gravity model.
``mitra data fetch [SOURCE...] [--offline]`` is the command line.
"""

from analysis.data.loaders.cache import FetchCache
from analysis.data.loaders.refresh import (
    SOURCES,
    FetchOutcome,
    fetched_frame,
    fetched_positions,
    refresh,
    snapshot_vintages,
)
from analysis.data.loaders.transport import FetchError

__all__ = [
    "SOURCES",
    "FetchCache",
    "FetchError",
    "FetchOutcome",
    "fetched_frame",
    "fetched_positions",
    "refresh",
    "snapshot_vintages",
]
