"""Workplaces within 30 min by car: cumulative opportunities at every node, before and after.

"Before" is the former engine implementation, kept here as :func:`_count_within_dense` (one
bounded ``scipy.sparse.csgraph.dijkstra`` per distinct workplace node, ``chunk`` searches per call,
each writing a dense row of the whole network). "After" is today's
:meth:`geo.network.StreetGraph.counts_within` (:mod:`geo.reach`: a numba bounded Dijkstra per
origin that pushes only reached nodes and resets only the entries it touched).

Inputs are SYNTHETIC: the car network of :func:`benchmarks.synthetic.synthetic_network` at
``scale=1`` (~148,000 nodes) and ``scale=10`` (~1.5M nodes, same extent, denser), workplaces on
seeded uniformly random nodes with seeded snap offsets of 0-50 m. Budget: 30 min at the car's
reference speed, in metres-equivalent. The counts of old and new are compared element by element
(every node); a difference makes the row disagree (``make bench`` exits 1).

At 1.5M nodes and 30,000 workplaces both versions are timed on a sample of the workplaces and
extrapolated linearly in the number of distinct workplace nodes (each search is independent); the
rows say so.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy.sparse.csgraph import dijkstra

from geo.network import MODE_SPEEDS_KMH, StreetGraph

from .harness import Row, measure
from .synthetic import synthetic_network

__all__ = ["BUDGET_MIN", "run"]

#: The workplaces indicator's budget (layers/workplaces.py: car, 30 min).
BUDGET_MIN = 30.0
_MAX_SNAP_M = 50.0


def _count_within_dense(g: StreetGraph, sources: np.ndarray, budget: float,
                        offsets: np.ndarray | None = None, chunk: int = 16,
                        at: np.ndarray | None = None) -> np.ndarray:
    """The former ``StreetGraph.counts_within`` (dense scipy rows), kept as the reference."""
    sources = np.asarray(sources, dtype=np.int64)
    off = np.zeros(len(sources)) if offsets is None else np.asarray(offsets, dtype=float)
    if at is not None:
        at = np.asarray(at, dtype=np.int64)
        if len(np.unique(at)) < len(np.unique(sources)):
            return _dense_from_targets(g, sources, off, budget, at, chunk)
    n = g.n_nodes
    counts = np.zeros(n, dtype=np.int64)
    uniq, inv = np.unique(g._rank[sources], return_inverse=True)
    by_node = np.argsort(inv, kind="stable")
    inv_sorted, off_sorted = inv[by_node], off[by_node]
    first = np.searchsorted(inv_sorted, np.arange(len(uniq) + 1))
    for start in range(0, len(uniq), chunk):
        nodes = uniq[start:start + chunk]
        d = dijkstra(g._search, directed=True, indices=nodes, limit=budget)
        row, col = np.nonzero(np.isfinite(d))
        dist = d[row, col]
        group = row + start
        mult = first[group + 1] - first[group]
        if mult.max(initial=0) > 1:
            pair = np.repeat(np.arange(len(row)), mult)
            ends = np.cumsum(mult)
            within = np.arange(len(pair)) - np.repeat(ends - mult, mult)
            src_off = off_sorted[first[group[pair]] + within]
            col, dist = col[pair], dist[pair]
        else:
            src_off = off_sorted[first[group]]
        counts += np.bincount(col[dist + src_off <= budget], minlength=n)
    counts = counts[g._rank]
    return counts if at is None else counts[at]


def _dense_from_targets(g: StreetGraph, sources: np.ndarray, off: np.ndarray, budget: float,
                        at: np.ndarray, chunk: int) -> np.ndarray:
    uniq, inv = np.unique(g._rank[at], return_inverse=True)
    src = g._rank[sources]
    out = np.zeros(len(uniq), dtype=np.int64)
    for start in range(0, len(uniq), chunk):
        nodes = uniq[start:start + chunk]
        d = dijkstra(g._forward, directed=True, indices=nodes, limit=budget)
        out[start:start + len(nodes)] = ((d[:, src] + off[None, :]) <= budget).sum(axis=1)
    return out[inv]


def _workplaces(g: StreetGraph, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC workplaces: distinct random nodes and snap offsets (seeded)."""
    rng = np.random.default_rng(seed)
    return (rng.choice(g.n_nodes, size=min(count, g.n_nodes), replace=False),
            np.round(rng.uniform(0.0, _MAX_SNAP_M, min(count, g.n_nodes)), 2))


def _budget(mode: str = "car", minutes: float = BUDGET_MIN) -> float:
    return minutes * MODE_SPEEDS_KMH[mode] * 1000.0 / 60.0


def _graph(scale: float, mode: str = "car") -> tuple[StreetGraph, str]:
    net = synthetic_network(scale)
    g = StreetGraph.from_frames(net.nodes, net.edges, mode=mode)
    return g, f"synthetic {mode} network {g.n_nodes:,} nodes ({g.matrix.nnz:,} edges)"


def _thread_counts() -> list[int]:
    """1 (the engine default, like for like with the old version) and every CPU if more."""
    from geo.reach import default_threads

    return sorted({1, default_threads()})


def _new_row(what: str, data: str, times: list[float], t_old: float, threads: int,
             target: bool, note: str, extra: dict[str, Any]) -> Row:
    ratio = t_old / float(np.median(times))
    return Row(f"reach: {what}, new (sparse numba, {threads} thread{'s' if threads > 1 else ''})",
               data, times, ratio=ratio, ratio_vs="old/new", target=">= 10x" if target else "",
               met=(ratio >= 10.0) if target else None, note=note, extra=extra)


def _pair(g: StreetGraph, label: str, count: int, runs: int, target: bool,
          minutes: float = BUDGET_MIN) -> list[Row]:
    """Old and new on ``count`` workplaces, every node counted, agreement checked."""
    budget = _budget(g.mode, minutes)
    what = (f"{'workplaces' if g.mode == 'car' else 'amenities'} within {minutes:.0f} min "
            f"{g.mode}")
    src, off = _workplaces(g, count, seed=count)
    old_out: dict[str, Any] = {}
    t_old = measure(lambda: old_out.update(c=_count_within_dense(g, src, budget, off)), runs,
                    warmup=0)
    g.counts_within(src[:2], budget, off[:2])  # numba: load the cached machine code (untimed)
    data = f"{label}, {len(src):,} SYNTHETIC {what.split()[0]}"
    rows = [Row(f"reach: {what}, old (dense scipy rows)", data, t_old)]
    for threads in _thread_counts():
        out: dict[str, Any] = {}
        t_new = measure(lambda t=threads, o=out: o.update(  # type: ignore[misc]
            c=g.counts_within_rings(src, [budget], off, threads=t)[0]), runs, warmup=0)
        agree = bool(np.array_equal(old_out["c"], out["c"]))
        reached = float(out["c"].sum()) / max(1, len(src)) / g.n_nodes
        common = (f"{g.mode} {minutes:.0f} min = {budget:,.0f} m(-equivalent), counts at all "
                  f"nodes; each search reaches {reached:.2%} of the nodes on average")
        rows[0].note = f"{common}; the former counts_within, one scipy dijkstra per source node"
        rows.append(_new_row(what, data, t_new, float(np.median(t_old)), threads, target,
                             f"{common}; counts {'equal' if agree else 'DIFFERENT'} at every "
                             f"node (old vs new); numba machine code cached on disk, loaded by "
                             f"an untimed 2-workplace call",
                             {"agree": agree, "reached_fraction": reached, "threads": threads}))
    return rows


def _extrapolated(g: StreetGraph, label: str, count: int, sample_old: int,
                  sample_new: int) -> list[Row]:
    """Both versions on samples of ``count`` workplaces, extrapolated to all of them."""
    budget = _budget(g.mode)
    what = f"workplaces within {BUDGET_MIN:.0f} min {g.mode}"
    src, off = _workplaces(g, count, seed=count)
    so, oo = src[:sample_old], off[:sample_old]
    sn, on = src[:sample_new], off[:sample_new]
    g.counts_within(sn[:2], budget, on[:2])  # numba: load the cached machine code
    t0 = time.perf_counter()
    old = _count_within_dense(g, so, budget, oo)
    t_old = (time.perf_counter() - t0) * count / len(so)
    agree = bool(np.array_equal(old, g.counts_within(so, budget, oo)))
    data = f"{label}, {count:,} SYNTHETIC workplaces (EXTRAPOLATED from samples)"
    rows = [Row(f"reach: {what}, old (dense scipy rows)", data, [t_old],
                note=f"EXTRAPOLATION: {len(so):,} workplaces timed, x {count / len(so):,.0f} "
                     f"(one independent search per workplace node)")]
    for threads in _thread_counts():
        t0 = time.perf_counter()
        g.counts_within_rings(sn, [budget], on, threads=threads)
        t_new = (time.perf_counter() - t0) * count / len(sn)
        rows.append(_new_row(
            what, data, [t_new], t_old, threads, False,
            f"EXTRAPOLATION: {len(sn):,} workplaces timed, x {count / len(sn):,.0f}; counts "
            f"{'equal' if agree else 'DIFFERENT'} (old vs new on the {len(so):,} workplaces the "
            f"old version ran)", {"agree": agree, "threads": threads}))
    return rows


def run(quick: bool = False) -> list[Row]:
    """Run the suite (``quick``: a ~3,000-node network, 36 and 360 workplaces, one run).

    Besides the car rows, one contrast row: 3,600 amenities within 15 min on foot at the same
    network (a budget whose searches reach a small part of it).
    """
    if quick:
        g, label = _graph(0.02)
        walk, wlabel = _graph(0.02, "walk")
        return (_pair(g, label, 36, 1, False) + _pair(g, label, 360, 1, True)
                + _extrapolated(g, label, 1000, 20, 50) + _pair(walk, wlabel, 360, 1, False, 15.0))
    g, label = _graph(1.0)
    rows = _pair(g, label, 360, 3, False) + _pair(g, label, 3600, 1, True)
    del g
    walk, wlabel = _graph(1.0, "walk")
    rows += _pair(walk, wlabel, 3600, 3, False, 15.0)
    del walk
    big, label = _graph(10.0)
    rows += _extrapolated(big, label, 30_000, 60, 200)
    return rows
