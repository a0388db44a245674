"""Exception classes. Every message names the bad value and the way out."""

from __future__ import annotations

__all__ = [
    "DataSourceError",
    "LimitError",
    "LivabilityError",
    "OfflineError",
    "RegionNotFoundError",
    "StoreError",
    "UnknownLayerError",
]


class LivabilityError(Exception):
    """Base class of every error this package raises on purpose."""


class RegionNotFoundError(LivabilityError, LookupError):
    """A region name or code that matches no known county, municipality or place."""


class UnknownLayerError(LivabilityError, KeyError):
    """A layer or indicator key that is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class DataSourceError(LivabilityError, ValueError):
    """An input file or feed that cannot be read: broken, empty, wrong format, missing columns."""


class StoreError(LivabilityError, RuntimeError):
    """A snapshot that is missing, half-written or corrupted, or a write that could not finish."""


class OfflineError(LivabilityError, ConnectionError):
    """A source that needs the network was asked for while offline (or the network is down)."""


class LimitError(LivabilityError, ValueError):
    """A parameter outside its documented range (README "Limits"): resolution, weight, name."""
