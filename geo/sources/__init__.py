"""Data sources. Each returns a :class:`~geo.sources.base.SourceResult` in the common schema."""

from __future__ import annotations

from .base import SourceResult

__all__ = ["SourceResult"]
