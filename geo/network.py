"""The accessibility kernel: a street network as a sparse matrix and multi-source shortest paths.

A :class:`StreetGraph` holds one travel mode's network projected to the metric work CRS
(:data:`geo.settings.WORK_CRS`, SWEREF 99 TM) as a ``scipy.sparse`` CSR matrix of travel *cost*.

Cost units
----------
Every cost is in **metres** or, for the car, **metres-equivalent**:

- ``walk`` and ``bike``: the edge length in metres. Both networks are treated as undirected (the
  cheaper of the two directions is kept), because people walk and cycle both ways along a street.
- ``car`` (alias ``drive``): ``length * CAR_REFERENCE_KMH / speed``, where ``speed`` is the edge's
  ``maxspeed`` (km/h) when stated, else the typical speed of its ``highway`` class
  (:data:`CAR_SPEEDS_KMH`). A cost of 1,000 therefore means "as long as driving 1 km at 50 km/h"
  (72 s). Car networks keep their direction (one-way streets).

Travel time in minutes for any mode is ``cost / speed`` with :data:`MODE_SPEEDS_KMH`
(see :func:`minutes`).

Shortest paths run from *all* sources at once (one Dijkstra pass): without offsets through
``scipy.sparse.csgraph.dijkstra(min_only=True)``; with per-source offsets (the distance from an
amenity to the node it was snapped to) through a virtual super-source joined to every source node by
an edge as long as its offset. The searches run on a copy of the matrix whose nodes are renumbered
once by reverse Cuthill-McKee (neighbouring nodes close together in memory, which makes Dijkstra
15-35 % faster on an OSM-ordered network); every public index and array stays in the order of the
input node frame.

:meth:`StreetGraph.counts_within` (cumulative opportunities) counted at some nodes only (``at=``:
the scored cells and localities) shares the work between the searches: a contraction hierarchy of
the graph (:mod:`geo.ch`; read from the snapshot when ``livability build`` stored one for this
graph, else built once per graph; kept on it) and bucket many-to-many searches
pruned at the budget, exact (decisions within a tolerance of the budget are recounted by an exact
search). Counted at every node, or for fewer than :data:`CH_MIN_NODES` distinct nodes on a side,
it runs one bounded search per distinct node of the smaller side (:mod:`geo.reach`'s numba
kernels, whose cost grows with the nodes each search reaches).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra, reverse_cuthill_mckee

from layers.vocab import CAR_REFERENCE_KMH, MODES, Mode, NetworkMode, parse_maxspeed

from .errors import DataSourceError
from .settings import STORE_CRS, WORK_CRS

if TYPE_CHECKING:  # scipy.spatial is imported where a tree is made (not on the app's map page)
    from scipy.spatial import cKDTree

__all__ = [
    "CAR_REFERENCE_KMH",
    "CAR_SPEEDS_KMH",
    "CH_MIN_NODES",
    "MODE_SPEEDS_KMH",
    "StreetGraph",
    "minutes",
    "project_lonlat",
]

log = logging.getLogger(__name__)

#: Speeds used to turn costs into minutes (walk 4.8 km/h, bike 15 km/h, car reference speed), by
#: travel mode and network name (:attr:`layers.vocab.Mode.speed_kmh`).
MODE_SPEEDS_KMH: dict[str, float] = ({m.value: m.speed_kmh for m in Mode}
                                     | {n.value: n.travel_mode.speed_kmh for n in NetworkMode})
#: Typical speeds per OSM ``highway`` class (Swedish defaults), used when ``maxspeed`` is unknown.
CAR_SPEEDS_KMH: dict[str, float] = {
    "motorway": 110.0, "motorway_link": 70.0, "trunk": 90.0, "trunk_link": 60.0,
    "primary": 80.0, "primary_link": 50.0, "secondary": 70.0, "secondary_link": 50.0,
    "tertiary": 60.0, "tertiary_link": 40.0, "unclassified": 50.0, "residential": 40.0,
    "living_street": 15.0, "service": 20.0, "road": 40.0, "track": 20.0,
}
_DEFAULT_CAR_KMH = 40.0
#: Fewer distinct origins or sources than this: plain bounded searches, no contraction hierarchy.
CH_MIN_NODES = 200
#: Cost model of ``counts_within(at=...)``'s choice (seconds, measured at 44k-148k nodes on the
#: shared 2-core machine, load 2-6): a bounded search per settled node, and a hierarchy build per
#: node (16-20 us at 148k nodes after the compact-core build; kept on the high side).
_SEARCH_S_PER_SETTLED = 0.22e-6
_CH_BUILD_S_PER_NODE = 22e-6
_CH_SAMPLE = 8
_MODE_ALIASES = {n.value: n.travel_mode.value for n in NetworkMode if n.value != n.travel_mode}


def minutes(cost_m: np.ndarray | float, mode: str) -> np.ndarray | float:
    """Travel time in minutes for a cost in metres(-equivalent) of ``mode``."""
    speed = MODE_SPEEDS_KMH[mode] * 1000.0 / 60.0  # metres per minute
    return np.asarray(cost_m, dtype=float) / speed if np.ndim(cost_m) else float(cost_m) / speed


def project_lonlat(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Project lon/lat (EPSG:4326) to the metric work CRS; returns an ``(n, 2)`` array."""
    from pyproj import Transformer

    tr = Transformer.from_crs(STORE_CRS, WORK_CRS, always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def _highway_class(v: Any) -> str:
    if isinstance(v, (list, tuple, np.ndarray)):
        v = v[0] if len(v) else ""
    return "" if v is None else str(v)


_HOMOGENEOUS = {"string", "empty", "floating", "integer", "mixed-integer-float", "boolean",
                "decimal"}


def _first_items(col: pd.Series) -> pd.Series:
    """List-like entries replaced by their first item (empty ones by None); others unchanged."""
    if col.dtype != object or pd.api.types.infer_dtype(col, skipna=True) in _HOMOGENEOUS:
        return col  # no list can hide in it
    return col.map(lambda v: (v[0] if len(v) else None)
                   if isinstance(v, (list, tuple, np.ndarray)) else v)


def _as_tuples(col: pd.Series) -> pd.Series:
    """List-like entries replaced by tuples of all their items (hashable); others unchanged."""
    if col.dtype != object or pd.api.types.infer_dtype(col, skipna=True) in _HOMOGENEOUS:
        return col
    return col.map(lambda v: tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else v)


def _per_value(col: pd.Series, fn: Any, missing: float,
               distinct: Any = _first_items) -> np.ndarray:
    """``fn(v)`` per row, evaluated once per distinct value (NA -> ``missing``).

    ``distinct`` makes the values hashable: :func:`_first_items` (the default) keeps the first
    item of a list-like, so ``fn`` must itself take the first item of one (as
    :func:`_highway_class` does); :func:`_as_tuples` keeps every item.
    """
    try:
        codes, uniq = pd.factorize(distinct(col), use_na_sentinel=True)
    except TypeError:  # unhashable items (nested lists): the plain per-row path
        return np.array([fn(v) for v in col], dtype=float)
    table = np.array([fn(v) for v in uniq] + [missing], dtype=float)
    return np.asarray(table[codes])  # code -1 (NA) picks the trailing ``missing``


def car_speeds(edges: pd.DataFrame) -> np.ndarray:
    """Speed (km/h) per edge: ``maxspeed`` when stated, else the ``highway`` class default.

    ``maxspeed`` may be numeric, or text such as ``"50"``, ``"50;70"``, ``"30 mph"``, or lists,
    read by :func:`layers.vocab.parse_maxspeed` (the lower of several values, mph converted; words
    such as ``none`` give the class default). Vectorised: numeric columns are taken as they are,
    anything else is parsed once per distinct value.
    """
    n = len(edges)
    speed = np.full(n, np.nan)
    if "maxspeed" in edges.columns:
        col = edges["maxspeed"]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            speed = col.to_numpy(dtype=float, na_value=np.nan).copy()
        else:
            speed = _per_value(col, parse_maxspeed, np.nan, _as_tuples)
    if "highway" in edges.columns:
        by_class = _per_value(
            edges["highway"],
            lambda v: CAR_SPEEDS_KMH.get(_highway_class(v), _DEFAULT_CAR_KMH), _DEFAULT_CAR_KMH)
    else:
        by_class = np.full(n, _DEFAULT_CAR_KMH)
    bad = ~np.isfinite(speed) | (speed <= 0)
    speed[bad] = by_class[bad]
    return speed


def _csr(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, n: int) -> sparse.csr_matrix:
    """CSR matrix from unique ``(row, col)`` pairs, explicit zeros kept (zero-cost edges)."""
    order = np.argsort(rows.astype(np.int64) * n + cols, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(rows, minlength=n))
    return sparse.csr_matrix((data[order], cols[order].astype(np.int32), indptr), shape=(n, n))


class StreetGraph:
    """One travel mode's street network as a CSR matrix of travel cost (metres or car-equivalent).

    Build with :meth:`from_frames`. Attributes: ``n_nodes``, ``node_ids`` (original ids),
    ``xy`` (``(n, 2)`` metric coordinates), ``mode``, ``matrix`` (cost from row to column).

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"node": [1, 2, 3], "x": [15.0, 15.001, 15.002], "y": [56.0] * 3})
    >>> edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "length": [60.0, 70.0]})
    >>> g = StreetGraph.from_frames(nodes, edges)
    >>> g.distances_from(np.array([0])).tolist()
    [0.0, 60.0, 130.0]
    """

    def __init__(self, node_ids: np.ndarray, xy: np.ndarray, matrix: sparse.csr_matrix,
                 mode: str) -> None:
        self.node_ids = np.asarray(node_ids)
        self.xy = np.asarray(xy, dtype=float)
        self.n_nodes = len(self.node_ids)
        self.mode = _MODE_ALIASES.get(mode, mode)
        self.matrix = matrix.tocsr()
        self.directed = Mode(self.mode).directed
        # Internally the searches run on a copy of the matrix whose nodes are renumbered by reverse
        # Cuthill-McKee (neighbours close together in memory: 15-35 % faster Dijkstra on an
        # OSM-ordered network). Callers never see that order: every public index and array is in
        # the order of ``node_ids`` (``_rank`` maps public -> internal, ``_perm`` internal -> public).
        n = self.n_nodes
        coo = self.matrix.tocoo()
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        if self.directed:
            shape = sparse.csr_matrix((np.ones(2 * len(rows)), (np.concatenate([rows, cols]),
                                                                np.concatenate([cols, rows]))),
                                      shape=(n, n))
        else:
            shape = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        self._perm = np.asarray(reverse_cuthill_mckee(shape, symmetric_mode=True), dtype=np.int64)
        self._rank = np.empty(n, dtype=np.int64)
        self._rank[self._perm] = np.arange(n, dtype=np.int64)
        ri, ci = self._rank[rows], self._rank[cols]
        #: cost from row to column, internal order (the reversed search of counts_within)
        self._forward = _csr(ri, ci, coo.data, n)
        # distances "to the nearest amenity" follow edges backwards on a directed graph
        self._search = _csr(ci, ri, coo.data, n) if self.directed else self._forward
        self._tree: cKDTree | None = None
        self._hierarchy: Any = None  # geo.ch.Hierarchy of _forward, built on first use
        #: wall seconds the last :meth:`hierarchy` build took (0 until one was built)
        self.hierarchy_seconds = 0.0
        #: where a stored hierarchy comes from (:meth:`use_stored_hierarchy`), None: none
        self._stored: Callable[[], tuple[Any, str] | None] | None = None
        self._fingerprint: str | None = None

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_frames(cls, nodes: pd.DataFrame, edges: pd.DataFrame, *, mode: str = "walk",
                    projected: bool = False) -> StreetGraph:
        """Build from the store's node and edge frames.

        Parameters
        ----------
        nodes
            ``node`` (int64), ``x``, ``y`` (lon/lat, or metric when ``projected``).
        edges
            ``u``, ``v`` (node ids), ``length`` (m); optional ``highway``, ``maxspeed`` (km/h).
        mode
            ``walk``, ``bike``, ``car`` (or ``drive``): decides the cost (see the module docstring).
        projected
            True when ``x``/``y`` are already in the work CRS (tests, benchmarks).

        Raises
        ------
        DataSourceError
            When columns are missing or no edge joins two known nodes.
        """
        for frame, cols, what in ((nodes, ("node", "x", "y"), "nodes"),
                                  (edges, ("u", "v", "length"), "edges")):
            miss = [c for c in cols if c not in frame.columns]
            if miss:
                raise DataSourceError(
                    f"street network {what} lack column(s) {', '.join(miss)}; "
                    "rebuild the region so the network is stored with node, x, y / u, v, length"
                )
        mode = _MODE_ALIASES.get(mode, mode)
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)} (drive)")
        directed = Mode(mode).directed
        ids = nodes["node"].to_numpy(dtype=np.int64)
        if projected:
            xy = nodes[["x", "y"]].to_numpy(dtype=float)
        else:
            xy = project_lonlat(nodes["x"].to_numpy(), nodes["y"].to_numpy())
        index = pd.Index(ids)
        ui = index.get_indexer(edges["u"].to_numpy(dtype=np.int64))
        vi = index.get_indexer(edges["v"].to_numpy(dtype=np.int64))
        length = pd.to_numeric(edges["length"], errors="coerce").to_numpy(dtype=float)
        cost = length.copy()
        if directed:  # the car: metres-equivalent at the reference speed
            cost = length * CAR_REFERENCE_KMH / car_speeds(edges)
        ok = (ui >= 0) & (vi >= 0) & np.isfinite(cost) & (ui != vi)
        if not ok.any():
            raise DataSourceError(
                f"the {mode} network has {len(edges)} edges but none joins two of its "
                f"{len(nodes)} nodes; rebuild the region"
            )
        ui, vi, cost = ui[ok], vi[ok], np.maximum(cost[ok], 0.0)
        if not directed:  # both directions
            ui, vi = np.concatenate([ui, vi]), np.concatenate([vi, ui])
            cost = np.concatenate([cost, cost])
        # parallel edges: keep the cheapest (a COO->CSR conversion would add them up)
        n = len(ids)
        by_cost = np.argsort(cost, kind="stable")  # then by (u, v), stable: cheapest first
        key = ui.astype(np.int64) * n + vi
        order = by_cost[np.argsort(key[by_cost], kind="stable")]
        ui, vi, cost, key = ui[order], vi[order], cost[order], key[order]
        first = np.ones(len(ui), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        ui, vi, cost = ui[first], vi[first], cost[first]
        indptr = np.zeros(n + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(ui, minlength=n))
        mat = sparse.csr_matrix((cost, vi.astype(np.int32), indptr), shape=(n, n))
        log.info("%s network: %d nodes, %d directed edges", mode, n, len(cost))
        return cls(ids, xy, mat, mode)

    # -- queries --------------------------------------------------------------------------
    @property
    def tree(self) -> cKDTree:
        """KD-tree over the node coordinates (built on first use)."""
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.xy)
        return self._tree

    def snap(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node to each metric point: ``(node index, snap distance in m)``."""
        pts = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
        if len(pts) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        dist, idx = self.tree.query(pts)
        return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=float)

    def _with_super_source(self, sources: np.ndarray, offsets: np.ndarray) -> sparse.csr_matrix:
        """The internal search matrix plus node ``n`` joined to ``sources`` (internal ids)."""
        m = self._search
        n = self.n_nodes
        indptr = np.concatenate([m.indptr, [m.indptr[-1] + len(sources)]])
        indices = np.concatenate([m.indices, sources.astype(m.indices.dtype)])
        data = np.concatenate([m.data, offsets.astype(float)])
        return sparse.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))

    def _sources(self, sources: np.ndarray) -> np.ndarray:
        sources = np.asarray(sources, dtype=np.int64)
        if len(sources) and (sources.min() < 0 or sources.max() >= self.n_nodes):
            raise IndexError(f"source node index out of range 0..{self.n_nodes - 1}; "
                             "pass indices returned by StreetGraph.snap")
        return sources

    def nearest_from(self, sources: np.ndarray, offsets: np.ndarray | None = None,
                     limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Cost to the nearest source from every node, and which source it is.

        Parameters
        ----------
        sources
            Node indices (``0 .. n_nodes-1``) of the sources; duplicates allowed.
        offsets
            Extra cost per source (e.g. the amenity's snap distance), default 0.
        limit
            Stop searching beyond this cost; farther nodes get ``inf``.

        Returns
        -------
        dist, which
            ``(n_nodes,)`` cost to the nearest source plus its offset (``inf`` when unreachable),
            and the position in ``sources`` of that source (``-1`` when unreachable). When two
            sources are exactly equally near, either may be named.
        """
        sources = self._sources(sources)
        n = self.n_nodes
        if len(sources) == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        if offsets is None:
            offsets = np.zeros(len(sources))
        offsets = np.asarray(offsets, dtype=float)
        # per node keep the source with the smallest offset
        order = np.lexsort((offsets, sources))
        keep = np.ones(len(order), dtype=bool)
        keep[1:] = sources[order][1:] != sources[order][:-1]
        pos = order[keep]
        src, off = self._rank[sources[pos]], offsets[pos]  # internal node ids from here on
        if not off.any():
            dist, _, which_node = dijkstra(self._search, directed=True, indices=src,
                                           limit=limit, min_only=True, return_predecessors=True)
            which_node = np.asarray(which_node, dtype=np.int64)
        else:
            g = self._with_super_source(src, off)
            dist, pred = dijkstra(g, directed=True, indices=n, limit=limit,
                                  return_predecessors=True)
            dist = dist[:n]
            pred = np.asarray(pred[:n], dtype=np.int64)
            # follow predecessors to the source node (pointer jumping, log(depth) rounds)
            root = np.where((pred == n) | (pred < 0), np.arange(n), pred)
            while True:
                nxt = root[root]
                if np.array_equal(nxt, root):
                    break
                root = nxt
            which_node = np.where(np.isfinite(dist), root, -1)
        lookup = np.full(n, -1, dtype=np.int64)
        lookup[src] = pos
        which = np.where(which_node >= 0, lookup[np.maximum(which_node, 0)], -1)
        rank = self._rank  # back to the public node order
        return np.asarray(dist, dtype=float)[rank], which[rank]

    def distances_from(self, sources: np.ndarray, offsets: np.ndarray | None = None,
                       limit: float = np.inf) -> np.ndarray:
        """Cost from every node to the nearest of ``sources`` (plus its offset); see :meth:`nearest_from`."""
        return self.nearest_from(sources, offsets, limit)[0]

    def counts_within(self, sources: np.ndarray, budget: float,
                      offsets: np.ndarray | None = None, chunk: int = 16,
                      at: np.ndarray | None = None) -> np.ndarray:
        """Number of sources reachable within ``budget`` from every node (cumulative opportunities).

        Source ``i`` counts at node ``v`` when the cost from ``v`` to ``sources[i]`` plus
        ``offsets[i]`` is at most ``budget``. One budget of :meth:`counts_within_rings`.

        Parameters
        ----------
        sources
            Node indices of the sources (e.g. workplaces); duplicates allowed.
        budget
            Cost budget (metres or car metres-equivalent).
        offsets
            Extra cost per source (its snap distance), default 0.
        chunk
            Unused (kept for callers of the former dense implementation, which ran ``chunk``
            scipy searches per call).
        at
            Optional node indices: count only at these nodes and return ``(len(at),)``.

        Returns
        -------
        numpy.ndarray
            ``(n_nodes,)`` int64 counts, or ``(len(at),)`` when ``at`` is given.
        """
        del chunk
        return np.asarray(self.counts_within_rings(sources, [budget], offsets, at=at)[0])

    def fingerprint(self) -> str:
        """SHA-256 of what the contraction hierarchy depends on: the mode, the node count and the
        search graph's arrays (internal order, costs). A stored hierarchy is used only when its
        fingerprint is this graph's."""
        if self._fingerprint is None:
            m = self._forward
            h = hashlib.sha256(f"{self.mode}:{self.n_nodes}:".encode())
            for a, dt in ((m.indptr, np.int64), (m.indices, np.int64), (m.data, np.float64)):
                h.update(np.ascontiguousarray(a, dtype=dt).tobytes())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def use_stored_hierarchy(self, load: Callable[[], tuple[Any, str] | None]) -> None:
        """Take the contraction hierarchy from ``load`` (called on first need) instead of building it.

        ``load`` returns ``(hierarchy, fingerprint)`` (e.g. read from the snapshot, where
        ``livability build`` stored it) or None. A hierarchy whose fingerprint is not
        :meth:`fingerprint` (the network or the cost model changed since) is not used: the
        graph builds its own, as without a stored one.
        """
        self._stored = load

    def _load_stored(self) -> bool:
        """Whether a stored hierarchy was taken (tried once)."""
        load, self._stored = self._stored, None
        if load is None:
            return False
        got = load()
        if got is None:
            return False
        h, fp = got
        if fp != self.fingerprint() or h.n_nodes != self.n_nodes:
            log.warning("%s network: the stored contraction hierarchy is of another network "
                        "(fingerprint differs): building a new one", self.mode)
            return False
        self._hierarchy = h
        log.info("%s network: stored contraction hierarchy of %d nodes taken", self.mode,
                 self.n_nodes)
        return True

    def hierarchy(self) -> Any:
        """The contraction hierarchy of this graph (:class:`geo.ch.Hierarchy`), built once.

        Taken from the snapshot when one was stored for this very graph
        (:meth:`use_stored_hierarchy`); otherwise built on first use. Kept on the graph, so
        every count/gravity indicator (and every ring) of one build that uses this mode shares
        it.
        """
        if self._hierarchy is None and not self._load_stored():
            import time

            from .ch import build

            t0 = time.perf_counter()
            m = self._forward
            self._hierarchy = build(m.indptr, m.indices, m.data)
            self.hierarchy_seconds = time.perf_counter() - t0
            log.info("%s network: contraction hierarchy of %d nodes, %d shortcuts in %.2f s",
                     self.mode, self.n_nodes, self._hierarchy.shortcuts,
                     self.hierarchy_seconds)
        return self._hierarchy

    def counts_within_rings(self, sources: np.ndarray, budgets: Any,
                            offsets: np.ndarray | None = None,
                            at: np.ndarray | None = None,
                            threads: int | None = 1, method: str = "auto") -> np.ndarray:
        """:meth:`counts_within` for several ascending budgets at once.

        Counts at some nodes only (``at``, the scored origins) come from the graph's contraction
        hierarchy (:mod:`geo.ch`: bucket many-to-many, pruned at the largest budget; the
        hierarchy is built on the first such call and kept, see :meth:`hierarchy`) when both
        sides have at least :data:`CH_MIN_NODES` distinct nodes and, while no hierarchy is
        built yet, the searches (estimated from a few sample searches) would cost more than
        building one; otherwise, and for counts at every node, one bounded search
        (:mod:`geo.reach`, numba) per distinct node of the smaller side, proportional to what
        it reaches, spread over ``threads`` (default 1; ``None``: every CPU this process may
        use). The counts are the same either way (ties
        included: see :mod:`geo.ch`).

        Parameters
        ----------
        method
            ``"auto"`` (as above), ``"ch"`` (the hierarchy whenever ``at`` is given) or
            ``"search"`` (never the hierarchy).

        Returns
        -------
        numpy.ndarray
            ``(len(budgets), n_nodes)`` int64 counts, or ``(len(budgets), len(at))``.
        """
        from .reach import counts_at_origins, counts_from_sources  # numba: imported on first use

        if method not in ("auto", "ch", "search"):
            raise ValueError(f"method {method!r} is not one of auto, ch, search")
        sources = self._sources(sources)
        off = np.zeros(len(sources)) if offsets is None else np.asarray(offsets, dtype=float)
        b = np.asarray(budgets, dtype=float).reshape(-1)
        if len(off) != len(sources):
            raise ValueError(f"{len(off)} offsets for {len(sources)} sources; pass one per source")
        if at is not None:
            at = self._sources(at)
            n_at, n_src = len(np.unique(at)), len(np.unique(sources))
            m = self._forward  # from the targets along the edges, to the sources
            if method == "ch" or (method == "auto" and self._ch_pays(at, sources, n_at, n_src,
                                                                   float(b.max()))):
                from .ch import counts_at

                got, _ = counts_at(self.hierarchy(), m.indptr, m.indices, m.data,
                                   self._rank[at], self._rank[sources], off, b)
                return got
            if n_at < n_src:
                return counts_at_origins(m.indptr, m.indices, m.data, self._rank[at],
                                         self._rank[sources], off, b, threads)
        m = self._search  # from the sources against the edges
        counts = counts_from_sources(m.indptr, m.indices, m.data, self._rank[sources], off, b,
                                     threads)
        counts = counts[:, self._rank]
        return counts if at is None else counts[:, at]

    def _ch_pays(self, at: np.ndarray, sources: np.ndarray, n_at: int, n_src: int,
                 limit: float) -> bool:
        """Whether the hierarchy beats one bounded search per node of the smaller side.

        Always once it is built or a stored one is taken (and both sides have
        :data:`CH_MIN_NODES` distinct nodes); otherwise when the searches, estimated from
        :data:`_CH_SAMPLE` sample searches, would cost more than building it.
        """
        if min(n_at, n_src) < CH_MIN_NODES:
            return False
        if self._hierarchy is not None or self._load_stored():
            return True
        from .reach import reached

        side = np.unique(at) if n_at <= n_src else np.unique(sources)
        m = self._forward if n_at <= n_src else self._search
        sample = side[np.linspace(0, len(side) - 1, _CH_SAMPLE).astype(int)]
        settled = float(reached(m.indptr, m.indices, m.data, self._rank[sample], limit).mean())
        searches = len(side) * settled * _SEARCH_S_PER_SETTLED
        return searches > self.n_nodes * _CH_BUILD_S_PER_NODE

    def __repr__(self) -> str:
        return f"StreetGraph({self.mode}, {self.n_nodes} nodes, {self.matrix.nnz} edges)"
