"""The layer registry: one declarative spec per theme, iterated over by the UI, the CLI and scoring.

>>> from layers import get_layer
>>> [i.key for i in get_layer("schools").indicators][:2]
['schools.preschool', 'schools.primary']
"""

from __future__ import annotations

import difflib
import hashlib

from . import culture, housing, nature, schools, services, transit, workplaces
from .errors import LivabilityError, UnknownLayerError
from .personas import PERSONAS, Persona, get_persona
from .spec import Indicator, LayerSpec, OsmRule

__all__ = [
    "LAYERS",
    "PERSONAS",
    "Indicator",
    "LayerSpec",
    "LivabilityError",
    "OsmRule",
    "Persona",
    "UnknownLayerError",
    "all_indicators",
    "departures_layer",
    "get_indicator",
    "get_layer",
    "get_persona",
    "kind_rules_digest",
    "layer_keys",
    "residential_layer",
]

#: Theme layers in display order.
LAYERS: dict[str, LayerSpec] = {
    m.SPEC.key: m.SPEC
    for m in (housing, schools, transit, nature, workplaces, services, culture)
}


def kind_rules_digest() -> str:
    """SHA-256 of the rules that give features their kinds (every layer's OSM rules, pack hints
    and name rules): recorded by a build, so a version whose rules differ knows the store is
    stale although no input changed (:func:`geo.sources.registry.check_inputs`)."""
    rules = [(k, [(r.key, r.value, r.kind) for r in s.osm], list(s.pack_kind_hints),
              list(s.name_kinds)) for k, s in sorted(LAYERS.items())]
    return hashlib.sha256(repr(rules).encode()).hexdigest()


def layer_keys() -> list[str]:
    """Return the registered layer keys in display order."""
    return list(LAYERS)


def _unknown(kind: str, key: str, known: list[str]) -> UnknownLayerError:
    close = difflib.get_close_matches(key, known, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return UnknownLayerError(f"No {kind} {key!r}.{hint} Known {kind}s: {', '.join(known)}")


def get_layer(key: str) -> LayerSpec:
    """Return the spec of layer ``key``.

    Raises
    ------
    UnknownLayerError
        Listing the known layers and the closest matches.
    """
    try:
        return LAYERS[key]
    except KeyError:
        raise _unknown("layer", key, layer_keys()) from None


def residential_layer() -> LayerSpec | None:
    """The layer of homes (the spec declaring ``residential=True``), or None when none does."""
    return next((spec for spec in LAYERS.values() if spec.residential), None)


def departures_layer() -> LayerSpec | None:
    """The layer of timetabled stops (the spec declaring ``departures=True``: GTFS feeds it), or
    None when none does."""
    return next((spec for spec in LAYERS.values() if spec.departures), None)


def all_indicators() -> list[Indicator]:
    """Return every indicator of every layer, in registry order."""
    return [ind for spec in LAYERS.values() for ind in spec.indicators]


def get_indicator(key: str) -> Indicator:
    """Return the indicator ``key`` (``transit.rail``)."""
    for ind in all_indicators():
        if ind.key == key:
            return ind
    raise _unknown("indicator", key, [i.key for i in all_indicators()])
