"""The project's base exception and the registry's lookup error.

They live here, in the bottom package, so that :mod:`layers` imports nothing from :mod:`geo`;
:mod:`geo.errors` re-exports both (``geo.errors.LivabilityError is layers.errors.LivabilityError``),
so every ``except LivabilityError`` of the engine, the CLI and the app catches them.
"""

from __future__ import annotations

__all__ = ["LivabilityError", "UnknownLayerError"]


class LivabilityError(Exception):
    """Base class of every error this project raises on purpose."""


class UnknownLayerError(LivabilityError, KeyError):
    """A layer, indicator or persona key that is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""
