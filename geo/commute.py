"""My commute: the travel time from every locality and grid cell to one target (work or school).

One search per target, not one per origin: along a street network the search starts at the target
and runs over the graph's *search* matrix (:class:`geo.network.StreetGraph`), which for the
directed car network is the reversed graph, so the cost found at a node is the cost of driving
*from* that node *to* the target (the morning trip; one-way streets make the evening trip
differ). Walking and cycling networks are undirected, so the two directions are equal.

Costs follow :class:`geo.access.DistanceEngine`:

- **Network** (the store holds one for the mode, in the fallback order of
  :attr:`layers.vocab.Mode.networks`: ``bike`` falls back to the walking network, ``car`` uses
  ``drive``): network cost between the snapped nodes plus the two snap distances (metres, as
  the distance engine adds them). Nodes the target cannot reach give NaN.
- **Approximate** (no network for the mode): straight-line distance x
  :attr:`layers.vocab.Mode.detour` (1.3 on foot and by bike, 1.4 by car), flagged
  ``approximate``.

Minutes are ``cost / speed`` with the mode's speed (:func:`geo.network.minutes`: walk 4.8 km/h,
bike 15 km/h, car costs in metres-equivalent at the 50 km/h reference speed).

Where a target may be
---------------------
Inside the region's boundary or at most :data:`OUTSIDE_BUFFER_M` (30 km) from it: people commute
across county borders (Sölvesborg to Kristianstad, about 20 km beyond the border, is a daily
trip), but farther out the straight-line estimate and a network cut at the region's edge both stop
meaning much. Farther targets raise :class:`geo.errors.LivabilityError` with the message
``commute_outside`` (English and Swedish). The boundary is the snapshot's; given only a score
model, the convex hull of its cells and localities stands for it.

Origins: each locality is measured from its centre (the point its map marker shows), each cell
from its centre. A snapshot alone gives localities only (the grid is the score model's).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from layers.vocab import MODES, Mode

from .errors import LivabilityError
from .messages import Message
from .network import StreetGraph, minutes, project_lonlat
from .settings import STORE_CRS, WORK_CRS

__all__ = ["OUTSIDE_BUFFER_M", "CommuteEngine", "CommuteTimes", "travel_times"]

log = logging.getLogger(__name__)

#: A target may lie at most this far outside the region's boundary (metres).
OUTSIDE_BUFFER_M = 30_000.0
#: With only a score model (no municipality polygons), the target's municipality is that of the
#: nearest cell when the cell's centre is at most this far away (about an H3 resolution-9 cell).
_CELL_MUNICIPALITY_M = 400.0


@dataclass(frozen=True)
class CommuteTimes:
    """Travel times to one target by one mode.

    Attributes
    ----------
    lat, lon
        The target (WGS84).
    mode
        ``walk``, ``bike`` or ``car``.
    localities
        Minutes from each locality's centre, indexed by locality code (NaN: not reachable).
    cells
        Minutes from each grid cell's centre, indexed by H3 id (empty for a snapshot alone).
    approximate
        True when the times are straight line x detour / speed (no network for the mode).
    method
        How the times were measured, as a message (``commute_network``, ``network_fallback`` or
        ``no_network``); render it with :func:`geo.messages.render`.
    network
        The street network used (``walk``, ``bike``, ``drive``), None when approximate.
    municipality
        The code of the municipality the target lies in, None when outside every municipality.
    outside_m
        How far the target lies outside the region's boundary (0 inside).
    """

    lat: float
    lon: float
    mode: str
    localities: pd.Series
    cells: pd.Series
    approximate: bool
    method: Message
    network: str | None = None
    municipality: str | None = None
    outside_m: float = 0.0
    seconds: float = field(default=0.0, compare=False)

    def within(self, max_minutes: float) -> pd.Series:
        """Locality codes -> True when the target is at most ``max_minutes`` away (NaN: False)."""
        return self.localities.le(float(max_minutes)).fillna(False).astype(bool)


def _is_model(source: Any) -> bool:
    return hasattr(source, "cells") and hasattr(source, "localities") and \
        isinstance(source.localities, pd.DataFrame) and hasattr(source, "rollup")


class CommuteEngine:
    """Origins (locality and cell centres), the region's outline and the street graphs, built once.

    Build one per snapshot or model and ask :meth:`times` for each target: the graphs are built
    on first use per mode and the origins are snapped to them once.

    Parameters
    ----------
    source
        A :class:`geo.scoring.ScoreModel` (localities and cells) or a
        :class:`geo.store.Snapshot` (localities only).
    snapshot
        The snapshot the model was built from: its boundary, municipalities and networks (taken
        from ``source`` itself when that is a snapshot). Without one, the times are approximate.
    graphs
        Ready street graphs by travel mode (tests, callers that already hold them); ``None``
        entries mean "no network for this mode".
    """

    def __init__(self, source: Any, *, snapshot: Any | None = None,
                 graphs: dict[str, StreetGraph | None] | None = None) -> None:
        self.snapshot = snapshot if snapshot is not None or _is_model(source) else source
        if _is_model(source):
            loc = source.localities
            self.loc_codes = pd.Index(loc.index.astype(str), name=None)
            self.loc_xy = project_lonlat(loc["lon"].to_numpy(), loc["lat"].to_numpy()) \
                if len(loc) else np.zeros((0, 2))
            cells = source.cells
            self.cell_ids = pd.Index(cells.index.astype(str), name=None)
            self.cell_xy = cells[["x", "y"]].to_numpy(dtype=float) if len(cells) \
                else np.zeros((0, 2))
            self._cell_munis = cells["municipality"].astype(object).to_numpy() \
                if "municipality" in cells else np.full(len(cells), None, dtype=object)
        else:
            loc = source.localities()
            pts = loc.geometry.representative_point() if len(loc) else loc.geometry
            self.loc_codes = pd.Index(loc["code"].astype(str).to_numpy(), name=None)
            self.loc_xy = project_lonlat(pts.x.to_numpy(), pts.y.to_numpy()) if len(loc) \
                else np.zeros((0, 2))
            self.cell_ids = pd.Index([], dtype=object)
            self.cell_xy = np.zeros((0, 2))
            self._cell_munis = np.zeros(0, dtype=object)
        self._to_work = Transformer.from_crs(STORE_CRS, WORK_CRS, always_xy=True)
        self._graphs: dict[str, StreetGraph | None] = dict(graphs or {})
        self._network_name: dict[str, str | None] = {}
        self._snaps: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._outline: BaseGeometry | None = None
        self._munis: Any = None
        self.region_name = str(getattr(self.snapshot, "region_name", None)
                               or getattr(source, "region_name", "") or "")

    # -- what the engine is built from ----------------------------------------------------------
    def graph(self, mode: str) -> StreetGraph | None:
        """The street graph ``mode`` travels on (built on first use), None without one."""
        if mode in self._graphs:
            return self._graphs[mode]
        g = None
        name = None
        for net in Mode(mode).networks:
            frames = self.snapshot.network(net) if self.snapshot is not None else None
            if frames is not None and len(frames[0]) and len(frames[1]):
                g = StreetGraph.from_frames(frames[0], frames[1], mode=mode)
                name = net
                break
        self._graphs[mode] = g
        self._network_name[mode] = name
        return g

    def _method(self, mode: str, g: StreetGraph | None) -> tuple[Message, str | None]:
        m = Mode(mode)
        if g is None:
            return Message("no_network", {"mode": mode, "network": m.networks[0],
                                          "factor": m.detour}), None
        name = self._network_name.get(mode) or m.networks[0]
        if name != m.networks[0]:
            return Message("network_fallback", {"mode": mode, "network": name}), name
        return Message("commute_network", {"network": name}), name

    def outline(self) -> BaseGeometry:
        """The region's outline in the work CRS (the boundary, or the hull of the origins)."""
        if self._outline is None:
            geom: BaseGeometry | None = None
            if self.snapshot is not None:
                try:
                    b = self.snapshot.boundary()
                except LivabilityError:
                    b = None
                if b is not None and len(b):
                    geom = shapely.union_all(b.to_crs(WORK_CRS).geometry.to_numpy())
            if geom is None or geom.is_empty:
                pts = np.vstack([self.loc_xy, self.cell_xy])
                geom = shapely.convex_hull(shapely.multipoints(pts)) if len(pts) \
                    else shapely.Point()
            shapely.prepare(geom)  # point-in-region tests per target
            self._outline = geom
        return self._outline

    def municipality_at(self, lon: float, lat: float, xy: np.ndarray) -> str | None:
        """The code of the municipality holding the target, None when none does."""
        if self.snapshot is not None:
            if self._munis is None:
                munis = self.snapshot.municipalities()
                self._munis = munis if len(munis) and "code" in munis else False
                if self._munis is not False:
                    shapely.prepare(self._munis.geometry.to_numpy())
            if self._munis is not False:
                inside = shapely.covers(self._munis.geometry.to_numpy(), shapely.Point(lon, lat))
                codes = self._munis["code"].astype(str).to_numpy()[inside]
                return str(codes[0]) if len(codes) else None
        if len(self.cell_xy):
            d = np.hypot(self.cell_xy[:, 0] - xy[0], self.cell_xy[:, 1] - xy[1])
            i = int(np.argmin(d))
            m = self._cell_munis[i]
            if d[i] <= _CELL_MUNICIPALITY_M and m is not None and m == m:
                return str(m)
        return None

    # -- the query ------------------------------------------------------------------------------
    def _check(self, lat: float, lon: float, mode: str) -> tuple[np.ndarray, float]:
        if mode not in MODES:
            raise LivabilityError(message=Message("commute_mode", {"mode": str(mode)[:20],
                                                                   "modes": list(MODES)}))
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                and -180 <= lon <= 180):
            raise LivabilityError(message=Message("commute_bad_point", {"lat": str(lat)[:20],
                                                                        "lon": str(lon)[:20]}))
        x, y = self._to_work.transform(lon, lat)  # one transformer per engine (20 ms to make)
        xy = np.array([float(x), float(y)])
        outline = self.outline()
        point = shapely.Point(*xy)
        outside = 0.0 if outline.is_empty or outline.covers(point) \
            else float(outline.distance(point))
        if outside > OUTSIDE_BUFFER_M:
            raise LivabilityError(message=Message("commute_outside", {
                "lat": round(lat, 4), "lon": round(lon, 4), "km": round(outside / 1000.0),
                "region": self.region_name, "buffer_km": round(OUTSIDE_BUFFER_M / 1000.0)}))
        return xy, outside

    def _costs(self, mode: str, g: StreetGraph | None, xy: np.ndarray,
               origins: np.ndarray, key: str) -> np.ndarray:
        """Cost (metres or car metres-equivalent) from each origin to the target at ``xy``."""
        if len(origins) == 0:
            return np.zeros(0)
        if g is None:
            d = np.hypot(origins[:, 0] - xy[0], origins[:, 1] - xy[1])
            return np.asarray(d * Mode(mode).detour)
        skey = f"{mode}:{key}"
        if skey not in self._snaps:
            self._snaps[skey] = g.snap(origins[:, 0], origins[:, 1])
        onode, osnap = self._snaps[skey]
        tnode, tsnap = g.snap(np.array([xy[0]]), np.array([xy[1]]))
        # the search matrix runs edges backwards on a directed graph: cost from each node TO it
        dnode = g.distances_from(tnode, tsnap)
        cost = dnode[onode] + osnap
        return np.where(np.isfinite(cost), cost, np.nan)

    def times(self, lat: float, lon: float, mode: str) -> CommuteTimes:
        """Travel times by ``mode`` from every locality and cell to the target at ``lat``, ``lon``.

        Raises
        ------
        LivabilityError
            When the mode is unknown, the point is not a coordinate, or the target lies more
            than :data:`OUTSIDE_BUFFER_M` outside the region (message ``commute_outside``).
        """
        t0 = time.perf_counter()
        lat, lon = float(lat), float(lon)
        xy, outside = self._check(lat, lon, mode)
        g = self.graph(mode)
        method, network = self._method(mode, g)
        loc_min = minutes(self._costs(mode, g, xy, self.loc_xy, "loc"), mode)
        cell_min = minutes(self._costs(mode, g, xy, self.cell_xy, "cell"), mode)
        out = CommuteTimes(
            lat=lat, lon=lon, mode=mode,
            localities=pd.Series(np.asarray(loc_min, dtype=float), index=self.loc_codes,
                                 name="minutes"),
            cells=pd.Series(np.asarray(cell_min, dtype=float), index=self.cell_ids,
                            name="minutes"),
            approximate=g is None, method=method, network=network,
            municipality=self.municipality_at(lon, lat, xy), outside_m=outside,
            seconds=time.perf_counter() - t0)
        log.info("commute %s to %.5f,%.5f: %d localities, %d cells, %s in %.3f s", mode, lat,
                 lon, len(out.localities), len(out.cells),
                 "approximate" if out.approximate else f"along {network}", out.seconds)
        return out


def travel_times(source: Any, lat: float, lon: float, mode: str, *,
                 snapshot: Any | None = None,
                 engine: CommuteEngine | None = None) -> CommuteTimes:
    """Travel times by ``mode`` from every locality and cell of ``source`` to ``lat``, ``lon``.

    Parameters
    ----------
    source
        A :class:`geo.scoring.ScoreModel` (localities and cells) or a
        :class:`geo.store.Snapshot` (localities only).
    lat, lon
        The target (WGS84 degrees).
    mode
        ``walk``, ``bike`` or ``car``.
    snapshot
        The model's snapshot (boundary, municipalities, street networks); see
        :class:`CommuteEngine`.
    engine
        A :class:`CommuteEngine` built before (reuse it for many targets: graphs and snaps are
        kept); ``source`` and ``snapshot`` are then ignored.

    Returns
    -------
    CommuteTimes
        Minutes per locality code and per cell, the approximate flag, the method, the target's
        municipality.

    Raises
    ------
    LivabilityError
        For an unknown mode, a point that is not a coordinate, or a target more than
        :data:`OUTSIDE_BUFFER_M` outside the region.
    """
    eng = engine if engine is not None else CommuteEngine(source, snapshot=snapshot)
    return eng.times(lat, lon, mode)
