"""Data sources. Each returns a :class:`~geo.sources.base.SourceResult` in the common schema.

The kinds a build reads, behind one protocol, are in :mod:`geo.sources.registry`.
"""

from __future__ import annotations

from .base import SourceResult

__all__ = ["SourceResult"]
