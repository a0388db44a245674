"""Exception classes. Every message names the bad value and the way out."""

from __future__ import annotations

from layers.errors import LivabilityError, Renderable, UnknownLayerError  # there: layers needs no geo

__all__ = [
    "DataSourceError",
    "LimitError",
    "LivabilityError",
    "OfflineError",
    "RegionNotFoundError",
    "Renderable",
    "StoreError",
    "UnknownLayerError",
]


class RegionNotFoundError(LivabilityError, LookupError):
    """A region name or code that matches no known county, municipality or place."""


class DataSourceError(LivabilityError, ValueError):
    """An input file or feed that cannot be read: broken, empty, wrong format, missing columns."""


class StoreError(LivabilityError, RuntimeError):
    """A snapshot that is missing, half-written or corrupted, or a write that could not finish."""


class OfflineError(LivabilityError, ConnectionError):
    """A source that needs the network was asked for while offline (or the network is down)."""


class LimitError(LivabilityError, ValueError):
    """A parameter outside its documented range (README "Limits"): resolution, weight, name."""
