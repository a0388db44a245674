"""What every source returns: layers in the feature schema, plus optional base data and networks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from ..schema import Provenance
from ..store import BuildParameters, InputEntry

__all__ = ["MapFn", "NetworkData", "SourceResult", "TableData"]

#: ``map(fn, items)``: ``fn`` of each item, the results in the items' order (the builtin ``map``
#: in one process, :func:`geo.distributed.dask_map` on a cluster).
MapFn = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


@dataclass
class TableData:
    """A municipal statistics table: ``municipality`` (code), optional ``year``, value columns."""

    frame: pd.DataFrame
    provenance: Provenance
    what: str = ""


@dataclass
class NetworkData:
    """A street network for one mode.

    ``nodes``: ``node`` (int64), ``x``, ``y`` (lon/lat, EPSG:4326).
    ``edges``: ``u``, ``v`` (node ids), ``length`` (metres), optional ``highway``, ``maxspeed``
    (km/h), ``oneway``. Edges are directed as stored; walk/bike networks store both directions.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    provenance: Provenance


@dataclass
class SourceResult:
    """Everything one source contributed to a build.

    Attributes
    ----------
    name
        Short label of the source for logs and progress ("pack blekinge-open-data", "OSM pbf").
    layers
        Layer key -> features in the feature schema (:func:`geo.schema.conform`).
    provenance
        Layer key -> provenance entries for the layer (one per file or query).
    localities
        Localities in the locality schema, if this source provides them.
    tables
        Statistics tables by name.
    networks
        Mode (``walk``, ``bike``, ``drive``) -> network.
    boundary
        A region boundary this source knows (packs may carry one), else None.
    notes
        Messages for the user (what was skipped and why).
    drops
        Origin (file or source label) -> reason (``no_coordinates``) -> rows dropped on reading.
    inputs
        The manifest's ``inputs`` entries of what was read (name -> fingerprint), set by the
        source registry (:mod:`geo.sources.registry`); empty when the source contributed nothing.
    parameters
        Build parameters this source was read with (``gtfs``: the departure window).
    strict_origins
        Origins whose every feature lost to clipping counts against them (the user's files).
    """

    name: str
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    provenance: dict[str, list[Provenance]] = field(default_factory=dict)
    localities: gpd.GeoDataFrame | None = None
    localities_provenance: Provenance | None = None
    tables: dict[str, TableData] = field(default_factory=dict)
    networks: dict[str, NetworkData] = field(default_factory=dict)
    boundary: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)
    drops: dict[str, dict[str, int]] = field(default_factory=dict)
    inputs: dict[str, InputEntry] = field(default_factory=dict)
    parameters: BuildParameters = field(default_factory=lambda: BuildParameters())
    strict_origins: set[str] = field(default_factory=set)

    def add_layer(self, key: str, gdf: gpd.GeoDataFrame, prov: Provenance) -> None:
        """Append features to layer ``key`` and record their provenance."""
        if key in self.layers and len(self.layers[key]):
            self.layers[key] = gpd.GeoDataFrame(
                pd.concat([self.layers[key], gdf], ignore_index=True), crs=gdf.crs
            )
        else:
            self.layers[key] = gdf
        self.provenance.setdefault(key, []).append(prov)
