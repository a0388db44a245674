"""``scaling`` suite: how cost grows with network nodes and with grid cells (SYNTHETIC inputs).

Two series, each size run in its own child process (``multiprocessing`` spawn), so that every
row's memory is that size's own:

- **nodes** (20k, 150k, 600k, 1.5M): the SYNTHETIC street network of :mod:`benchmarks.synthetic`
  at that size; timed: the graph build (``StreetGraph.from_frames``), the nearest kernel
  (``distances_from`` 50 random nodes to every node) and build_model-like indicator work
  (``DistanceEngine`` on 2,000 fixed points: ``nearest`` for 6 amenity kinds placed on random
  nodes in proportion to the network, plus ``count_within`` a 1,200 m walk for one workplace per
  2,000 nodes);
- **cells** (2k, 12k, 80k, 500k): SYNTHETIC localities (points, a third with outline footprints),
  housing (points, a few residential polygons, 5 % rural) and municipality squares laid over an
  area growing with the size; timed: ``build_grid`` at resolution 9 and ``score`` (random theme
  weights) on a model holding those cells and SYNTHETIC indicator scores for every indicator.

Time: the median of the runs. Memory (the ``peak MiB`` column): the peak RSS of the child during
the timed work (``VmHWM`` after resetting it through ``/proc/self/clear_refs`` once the inputs
are built), so it includes the inputs held in memory but not their generation; where the reset
is refused it is the child's ``getrusage`` peak and the note says so. Each series ends with a
row giving the fitted exponent: least squares on log time against log size over its sizes.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .harness import Row, measure

__all__ = ["CELL_SIZES", "NODE_SIZES", "fit_exponent", "run", "synthetic_grid_inputs"]

log = logging.getLogger(__name__)

#: Network sizes (nodes) of the full run and of ``--quick``.
NODE_SIZES = (20_000, 150_000, 600_000, 1_500_000)
QUICK_NODES = (2_000, 6_000)
#: Grid sizes (cells) of the full run and of ``--quick``.
CELL_SIZES = (2_000, 12_000, 80_000, 500_000)
QUICK_CELLS = (300, 1_200)

_CELL_KM2 = 0.1053  # average H3 resolution-9 cell
_LAT0, _LON0 = 56.0, 14.4  # south-west corner of the synthetic area (Blekinge's)
_KINDS = 6  # amenity kinds of the nearest indicators
_POINTS = 2_000  # the points (cells) of the build_model-like work


def fit_exponent(sizes: list[float], seconds: list[float]) -> float:
    """Slope of the least-squares line through ``(log size, log seconds)``: cost ~ size^slope."""
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(seconds, dtype=float))
    return float(np.polyfit(x, y, 1)[0])


# -- inputs ------------------------------------------------------------------------------------
def synthetic_grid_inputs(n_cells: int, seed: int = 11) -> tuple[Any, Any, Any, Any]:
    """SYNTHETIC inputs of :func:`geo.grid.build_grid` for about ``n_cells`` resolution-9 cells.

    Returns
    -------
    tuple
        ``(localities, housing, footprints, municipalities)`` GeoDataFrames (EPSG:4326), every
        code starting with ``S`` (synthetic), housing marked ``synthetic``.
    """
    import geopandas as gpd
    import shapely
    from shapely import affinity
    from shapely.geometry import box

    rng = np.random.default_rng(seed)
    side_km = np.sqrt(n_cells * _CELL_KM2 / 0.35)  # localities and housing cover about 35 %
    dlat = side_km / 111.2
    dlon = side_km / (111.2 * np.cos(np.radians(_LAT0 + dlat / 2)))
    n_loc = max(3, n_cells // 60)
    lon = _LON0 + rng.random(n_loc) * dlon
    lat = _LAT0 + rng.random(n_loc) * dlat
    area_ha = rng.lognormal(np.log(30), 0.9, n_loc) * _CELL_KM2 * 100
    nm = max(1, int(np.sqrt(n_loc / 20)))
    squares = [box(_LON0 + i * dlon / nm, _LAT0 + j * dlat / nm,
                   _LON0 + (i + 1) * dlon / nm, _LAT0 + (j + 1) * dlat / nm)
               for i in range(nm) for j in range(nm)]
    munis = gpd.GeoDataFrame({"code": [f"SM{k:04d}" for k in range(len(squares))]},
                             geometry=squares, crs="EPSG:4326")
    col = np.minimum(((lon - _LON0) / dlon * nm).astype(int), nm - 1)
    row = np.minimum(((lat - _LAT0) / dlat * nm).astype(int), nm - 1)
    loc = gpd.GeoDataFrame({"code": [f"SL{k:06d}" for k in range(n_loc)],
                            "name": [f"synthetic {k}" for k in range(n_loc)],
                            "population": rng.integers(50, 20_000, n_loc), "area_ha": area_ha,
                            "municipality": munis["code"].to_numpy()[col * nm + row]},
                           geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    met = loc.to_crs("EPSG:3006")
    mx, my = met.geometry.x.to_numpy(), met.geometry.y.to_numpy()
    pick = rng.random(n_loc) < 0.33  # outline footprints (ellipses) for a third
    radius = np.sqrt(area_ha * 1e4 / np.pi)
    ellipses = [affinity.scale(p.buffer(1.0, 8), r * 1.4, r * 0.7)
                for p, r in zip(met.geometry[pick], radius[pick])]
    footprints = gpd.GeoDataFrame({"code": loc["code"][pick].to_numpy(),
                                   "footprint_source": "outline"},
                                  geometry=ellipses, crs="EPSG:3006").to_crs("EPSG:4326")
    nh = int(n_cells * 1.5)
    owner = rng.integers(0, n_loc, nh)
    rr = radius[owner] * np.sqrt(rng.random(nh)) * 1.1
    th = rng.random(nh) * 2 * np.pi
    hx, hy = mx[owner] + rr * np.cos(th), my[owner] + rr * np.sin(th)
    nr = max(1, nh // 20)
    rural = gpd.GeoSeries(gpd.points_from_xy(_LON0 + rng.random(nr) * dlon,
                                             _LAT0 + rng.random(nr) * dlat),
                          crs="EPSG:4326").to_crs("EPSG:3006")
    hx, hy = np.r_[hx, rural.x.to_numpy()], np.r_[hy, rural.y.to_numpy()]
    geoms = list(shapely.points(hx, hy))
    kinds = list(rng.choice(["house", "apartments", "residential_building"], len(geoms)))
    for k in rng.integers(0, len(hx), max(1, nh // 50)):
        s = rng.uniform(50, 900)
        geoms.append(box(hx[k], hy[k], hx[k] + s, hy[k] + s * 0.6))
        kinds.append("residential_area")
    housing = gpd.GeoDataFrame({"kind": kinds, "synthetic": True}, geometry=geoms,
                               crs="EPSG:3006").to_crs("EPSG:4326")
    return loc, housing, footprints, munis


def _synthetic_model(cells: pd.DataFrame, loc: Any, rng: np.random.Generator) -> Any:
    """A :class:`geo.scoring.ScoreModel` over ``cells`` with SYNTHETIC indicator scores."""
    from scipy import sparse

    from geo.access import IndicatorResult
    from geo.placetypes import locality_types, point_types
    from geo.scoring import ScoreModel
    from layers import LAYERS, all_indicators

    loc = pd.DataFrame(loc.drop(columns="geometry")).assign(
        lon=loc.geometry.x.to_numpy(), lat=loc.geometry.y.to_numpy()).reset_index(drop=True)
    ltypes = locality_types(loc)
    cells = cells.assign(place_type=point_types(cells["locality"], loc["code"], ltypes))
    cells.index = pd.Index(cells["h3"].to_numpy(dtype=object))
    inds = all_indicators()
    keys = [i.key for i in inds]
    arr = rng.uniform(0, 100, (len(cells), len(inds)))
    arr[rng.random(arr.shape) < 0.05] = np.nan
    li = pd.Index(loc["code"]).get_indexer(cells["locality"].where(cells["locality"].notna(),
                                                                   None))
    w = cells["weight"].to_numpy(dtype=float) + 1e-9
    ok = li >= 0
    tot = np.bincount(li[ok], weights=w[ok], minlength=len(loc))
    rollup = sparse.csr_matrix((w[ok] / tot[li[ok]], (li[ok], np.flatnonzero(ok))),
                               shape=(len(loc), len(cells)))
    ok_arr = ~np.isnan(arr)
    num, den = rollup @ np.where(ok_arr, arr, 0.0), rollup @ ok_arr.astype(float)
    loc_arr = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    localities = pd.DataFrame({
        "code": loc["code"], "name": loc["name"], "municipality": loc["municipality"],
        "municipality_name": loc["municipality"], "population": loc["population"],
        "place_type": ltypes, "lon": loc["lon"], "lat": loc["lat"]}).set_axis(
        pd.Index(loc["code"]))
    themes = list(LAYERS)
    return ScoreModel(
        region="synthetic", region_name="SYNTHETIC", resolution=9, decay=None, cells=cells,
        localities=localities, indicators=inds,
        results={i.key: IndicatorResult(i.key, i.measure, i.mode) for i in inds},
        cell_scores=pd.DataFrame(arr, index=cells.index, columns=keys),
        loc_scores=pd.DataFrame(loc_arr, index=localities.index, columns=keys),
        rollup=rollup, themes=themes,
        ind_theme=np.array([themes.index(i.layer) for i in inds], dtype=np.int64),
        ind_weight=np.array([i.weight for i in inds], dtype=float),
        loc_missing=[""] * len(localities))


# -- memory of the child ---------------------------------------------------------------------
def _reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux ``clear_refs``); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_mib() -> float:
    """This process's peak RSS in MiB (``VmHWM``, else ``getrusage`` maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[[], Any], runs: int) -> list[float]:
    """Seconds of ``runs`` calls (no warm-up: the big sizes run for seconds)."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


# -- jobs (run in a child process) -----------------------------------------------------------
def node_job(n_nodes: int, runs: int) -> dict[str, Any]:
    """Time graph build, nearest kernel and indicator work on a SYNTHETIC network (child)."""
    from geo.access import Amenities, DistanceEngine
    from geo.network import StreetGraph

    from .synthetic import synthetic_network

    t0 = time.perf_counter()
    net = synthetic_network(nodes=n_nodes)
    rng = np.random.default_rng(n_nodes)
    n = net.n_nodes
    pts = net.xy[rng.choice(n, size=min(_POINTS, n), replace=False)]
    pts = pts + rng.uniform(-60, 60, size=pts.shape)
    per_kind = max(3, round(300 * n / 148_299))

    def amenities(count: int, kind: str) -> Amenities:
        xy = net.xy[rng.choice(n, size=count, replace=False)]
        table = pd.DataFrame({"name": [f"synthetic {kind} {i}" for i in range(count)],
                              "kind": kind, "uid": [f"s-{kind}-{i}" for i in range(count)],
                              "value": 1.0, "coverage": "complete"})
        return Amenities(xy, np.arange(count), table, xy)

    kinds = [amenities(per_kind, f"k{k}") for k in range(_KINDS)]
    work = amenities(max(3, n // 2000), "workplace")
    sources = rng.choice(n, size=50, replace=False)
    gen_s = time.perf_counter() - t0
    reset = _reset_peak()
    build = _timed(lambda: StreetGraph.from_frames(net.nodes, net.edges, mode="walk"), runs)
    g = StreetGraph.from_frames(net.nodes, net.edges, mode="walk")
    near = measure(lambda: g.distances_from(sources), runs, warmup=1)

    def indicators() -> None:
        engine = DistanceEngine(pts, graphs={"walk": g})
        for a in kinds:
            engine.nearest("walk", a)
        engine.count_within("walk", work, 1200.0)

    ind = _timed(indicators, runs)
    return {"n": n, "edges": net.n_edges, "build": build, "nearest": near, "indicators": ind,
            "per_kind": per_kind, "workplaces": len(work), "peak_mib": _peak_mib(),
            "peak_reset": reset, "gen_s": gen_s}


def cell_job(n_cells: int, runs: int) -> dict[str, Any]:
    """Time ``build_grid`` and ``score`` on SYNTHETIC cells (child)."""
    from geo.grid import build_grid
    from geo.scoring import score

    from .rescore import random_weights

    t0 = time.perf_counter()
    loc, housing, fps, munis = synthetic_grid_inputs(n_cells)
    small = synthetic_grid_inputs(200, seed=3)
    build_grid(small[0], housing=small[1], footprints=small[2], municipalities=small[3])
    gen_s = time.perf_counter() - t0
    reset = _reset_peak()
    cells: list[pd.DataFrame] = []

    def grid() -> None:
        cells[:] = [build_grid(loc, resolution=9, housing=housing, footprints=fps,
                               municipalities=munis)]

    t_grid = _timed(grid, runs)
    grid_peak = _peak_mib()
    rng = np.random.default_rng(n_cells)
    model = _synthetic_model(cells[0], loc, rng)
    t_score = measure(lambda: score(model, random_weights(model.themes, rng)),
                      max(runs, 5), warmup=1)
    return {"n": len(cells[0]), "localities": len(loc), "housing": len(housing),
            "grid": t_grid, "score": t_score, "grid_peak_mib": grid_peak,
            "peak_mib": _peak_mib(), "peak_reset": reset, "gen_s": gen_s}


def _in_child(job: Callable[[int, int], dict[str, Any]], size: int, runs: int) -> dict[str, Any]:
    """Run ``job(size, runs)`` in a fresh spawned process; return its result."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(job, (size, runs))


# -- rows ------------------------------------------------------------------------------------
def _series(name: str, unit: str, results: list[dict[str, Any]], key: str, what: str,
            peak_key: str = "peak_mib") -> list[Row]:
    rows = []
    for r in results:
        mem = "peak RSS of the child during the timed work (inputs resident)" if r["peak_reset"] \
            else "peak RSS of the child incl. input generation (clear_refs refused)"
        rows.append(Row(f"scaling {name}", f"SYNTHETIC {r['n']:,} {unit}", list(r[key]),
                        peak_rss_mb=r[peak_key], note=f"{what}; peak RSS: {mem}",
                        extra={"series": name, "size": r["n"], "peak_rss_mib": r[peak_key]}))
    sizes = [r["n"] for r in results]
    meds = [statistics.median(r[key]) for r in results]
    if len(results) >= 2 and min(meds) > 0:
        e = fit_exponent(sizes, meds)
        rows.append(Row(f"scaling {name}: time ~ {unit}^{e:.2f}", f"SYNTHETIC {sizes[0]:,}-"
                        f"{sizes[-1]:,} {unit}", note=f"time ~ {unit}^{e:.2f} (least squares on "
                        f"log median time vs log size, {len(sizes)} sizes)",
                        extra={"series": name, "exponent": e, "sizes": sizes, "medians": meds}))
    return rows


def run(quick: bool = False) -> list[Row]:
    """Run both series (``quick``: two tiny sizes each) and return their rows."""
    node_sizes, cell_sizes = (QUICK_NODES, QUICK_CELLS) if quick else (NODE_SIZES, CELL_SIZES)

    def runs_for(i: int, sizes: tuple[int, ...]) -> int:
        return 2 if quick else (3 if i < len(sizes) - 1 else 2)

    nodes = []
    for i, n in enumerate(node_sizes):
        t0 = time.perf_counter()
        nodes.append(_in_child(node_job, n, runs_for(i, node_sizes)))
        log.info("scaling nodes %d: %.1f s", n, time.perf_counter() - t0)
    cells = []
    for i, n in enumerate(cell_sizes):
        t0 = time.perf_counter()
        cells.append(_in_child(cell_job, n, runs_for(i, cell_sizes)))
        log.info("scaling cells %d: %.1f s", n, time.perf_counter() - t0)
    r0 = nodes[0]
    rows = _series("graph build", "nodes", nodes, "build",
                   "StreetGraph.from_frames (walk), node and edge frames to CSR")
    rows += _series("nearest kernel", "nodes", nodes, "nearest",
                    "StreetGraph.distances_from 50 random nodes to every node")
    rows += _series("indicators", "nodes", nodes, "indicators",
                    f"DistanceEngine on {_POINTS:,} points: nearest x {_KINDS} kinds "
                    f"({r0['per_kind']:,}+ per kind, growing with the network) + count_within "
                    "1,200 m walk (one workplace per 2,000 nodes); graph prebuilt")
    rows += _series("build_grid", "cells", cells, "grid",
                    "geo.grid.build_grid at resolution 9 (localities, outlines, housing, "
                    "municipalities)", peak_key="grid_peak_mib")
    rows += _series("score", "cells", cells, "score",
                    "geo.scoring.score, random theme weights, SYNTHETIC indicator scores")
    return rows
