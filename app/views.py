"""Page registry: page key -> render function (the order is the navigation order)."""

from __future__ import annotations

from collections.abc import Callable

from . import view_compare, view_data, view_export, view_map, view_profile
from .common import Ctx

__all__ = ["VIEWS"]

VIEWS: dict[str, Callable[[Ctx], None]] = {
    "map": view_map.render,
    "profile": view_profile.render,
    "compare": view_compare.render,
    "export": view_export.render,
    "data": view_data.render,
}
