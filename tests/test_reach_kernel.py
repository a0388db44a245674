"""The sparse bounded-search kernels of :mod:`geo.reach` against brute force (scipy full Dijkstra).

Small random graphs (directed like the car, undirected like walk/bike), snap offsets, duplicate
sources, unreachable parts, ties exactly at the budget (``<=`` counts), budget 0 and a huge budget,
several budgets at once, counts at some nodes only (``at=``, from either side), and the engine's
``count_within_rings`` equal to one ``count_within`` per budget. The benchmark's dense reference
(today's former implementation) is compared on the synthetic network.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geo import reach
from geo.network import StreetGraph


def _random_graph(seed: int, directed: bool, n: int = 60, integer: bool = False) -> StreetGraph:
    """A random sparse graph with an unreachable island (the last 8 nodes) and some ties."""
    rng = np.random.default_rng(seed)
    main = n - 8
    m = 3 * main
    u, v = rng.integers(0, main, m), rng.integers(0, main, m)
    iu, iv = rng.integers(main, n, 6), rng.integers(main, n, 6)  # the island, joined to nothing
    u, v = np.concatenate([u, iu]), np.concatenate([v, iv])
    w = (rng.integers(1, 6, len(u)).astype(float) * 10.0 if integer
         else np.round(rng.uniform(0.0, 100.0, len(u)), 2))
    ok = u != v
    u, v, w = u[ok], v[ok], w[ok]
    if not directed:
        u, v, w = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w])
    mat = sparse.coo_matrix((w, (u, v)), shape=(n, n)).tocsr()  # duplicates summed: fine
    xy = rng.uniform(0, 1000, (n, 2))
    return StreetGraph(np.arange(n) + 100, xy, mat, "car" if directed else "walk")


def _brute(g: StreetGraph, sources: np.ndarray, offsets: np.ndarray, budget: float) -> np.ndarray:
    """Counts from the full distance matrix: cost from each node to each source."""
    d = dijkstra(g.matrix, directed=True)  # d[v, s]: cost from v to s along the edges
    return ((d[:, sources] + offsets[None, :]) <= budget).sum(axis=1)


CASES = [(seed, directed, integer) for seed in range(6) for directed in (False, True)
         for integer in (False, True)]


@pytest.mark.parametrize(("seed", "directed", "integer"), CASES)
def test_counts_match_brute_force(seed: int, directed: bool, integer: bool) -> None:
    g = _random_graph(seed, directed, integer=integer)
    rng = np.random.default_rng(100 + seed)
    sources = np.concatenate([rng.integers(0, g.n_nodes, 25), [3, 3, g.n_nodes - 1]])
    offsets = np.round(rng.uniform(0, 40, len(sources)), 1)
    offsets[:5] = 0.0
    for budget in (0.0, 35.0, 80.0, 150.0, 1e12):
        expected = _brute(g, sources, offsets, budget)
        assert np.array_equal(g.counts_within(sources, budget, offsets), expected), budget
        at = rng.integers(0, g.n_nodes, 7)  # fewer than the sources: searched from the targets
        assert np.array_equal(g.counts_within(sources, budget, offsets, at=at), expected[at])
        many = np.arange(g.n_nodes)  # more than the sources: searched from the sources
        assert np.array_equal(g.counts_within(sources[:4], budget, offsets[:4], at=many),
                              _brute(g, sources[:4], offsets[:4], budget))


def test_budget_zero_counts_only_sources_on_the_node_without_offset() -> None:
    g = _random_graph(1, True)
    got = g.counts_within(np.array([5, 5, 7, 9]), 0.0, np.array([0.0, 0.0, 0.0, 1.0]))
    expected = np.zeros(g.n_nodes, dtype=np.int64)
    expected[5], expected[7] = 2, 1  # node 9's source has a positive offset: out
    # zero-cost edges do not exist here (weights >= 0.01), so nothing else is reached
    assert got.tolist() == expected.tolist()


def test_huge_budget_counts_every_source_of_the_component_and_none_on_the_island() -> None:
    g = _random_graph(2, False)
    sources = np.array([0, 1, 2, g.n_nodes - 2])  # three in the main part, one on the island
    reach_all = np.isfinite(dijkstra(g.matrix, directed=True)[:, sources])
    got = g.counts_within(sources, 1e15, np.full(4, 5.0))
    assert got.tolist() == reach_all.sum(axis=1).tolist()
    assert got[g.n_nodes - 2] >= 1  # the island source counts on its own node
    assert got[:g.n_nodes - 8].max() <= 3  # the main part never reaches the island's source


def test_ties_exactly_at_the_budget_count() -> None:
    # a path 0 -10- 1 -10- 2 -10- 3 (undirected); a source at node 3 with offset 5
    mat = sparse.csr_matrix((np.full(6, 10.0), ([0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2])),
                            shape=(4, 4))
    g = StreetGraph(np.arange(4), np.zeros((4, 2)), mat, "walk")
    assert g.counts_within(np.array([3]), 25.0, np.array([5.0])).tolist() == [0, 1, 1, 1]
    assert g.counts_within(np.array([3]), 24.99, np.array([5.0])).tolist() == [0, 0, 1, 1]
    assert g.counts_within(np.array([3]), 25.0, np.array([5.0]),
                           at=np.array([1, 0])).tolist() == [1, 0]


def test_directed_counts_follow_the_edges_towards_the_source() -> None:
    # one-way 0 -> 1 -> 2 (car): from 0 the source at 2 is reachable, from 2 the one at 0 is not
    mat = sparse.csr_matrix((np.array([100.0, 100.0]), ([0, 1], [1, 2])), shape=(3, 3))
    g = StreetGraph(np.arange(3), np.zeros((3, 2)), mat, "car")
    assert g.counts_within(np.array([2]), 250.0).tolist() == [1, 1, 1]
    assert g.counts_within(np.array([0]), 250.0).tolist() == [1, 0, 0]
    assert g.counts_within(np.array([2, 2]), 150.0, at=np.array([0])).tolist() == [0]


def test_rings_equal_one_search_per_budget() -> None:
    g = _random_graph(3, True)
    rng = np.random.default_rng(5)
    sources = rng.integers(0, g.n_nodes, 30)
    offsets = rng.uniform(0, 30, 30)
    rings = np.linspace(40.0, 160.0, 4)
    got = g.counts_within_rings(sources, rings, offsets)
    assert got.shape == (4, g.n_nodes)
    for k, b in enumerate(rings):
        assert np.array_equal(got[k], _brute(g, sources, offsets, b))
    at = np.array([0, 4, 4, 9])
    assert np.array_equal(g.counts_within_rings(sources, rings, offsets, at=at), got[:, at])


def test_kernel_rejects_descending_budgets_and_bad_nodes() -> None:
    m = sparse.csr_matrix((np.ones(1), ([0], [1])), shape=(2, 2))
    with pytest.raises(ValueError, match="ascending"):
        reach.counts_from_sources(m.indptr, m.indices, m.data, [0], [0.0], [5.0, 1.0])
    with pytest.raises(IndexError, match="out of range"):
        reach.counts_from_sources(m.indptr, m.indices, m.data, [2], [0.0], [1.0])
    with pytest.raises(ValueError, match="offsets"):
        StreetGraph(np.arange(2), np.zeros((2, 2)), m, "walk").counts_within(
            np.array([0, 1]), 1.0, np.array([0.0]))


def test_group_items_sorts_offsets_per_node() -> None:
    nodes, bounds, off = reach.group_items(np.array([4, 1, 4, 4]), np.array([3.0, 1.0, 0.5, 2.0]),
                                           5)
    assert nodes.tolist() == [1, 4]
    assert bounds.tolist() == [0, 1, 4]
    assert off.tolist() == [1.0, 0.5, 2.0, 3.0]


def test_engine_rings_equal_count_within_per_budget() -> None:
    import pandas as pd

    from geo.access import Amenities, DistanceEngine

    rng = np.random.default_rng(9)
    n = 400
    side = 20
    ii, jj = np.divmod(np.arange(n), side)
    nodes = pd.DataFrame({"node": np.arange(n) + 1, "x": ii * 100.0, "y": jj * 100.0})
    e = [(a, a + 1) for a in range(n) if (a + 1) % side] + [(a, a + side) for a in range(n - side)]
    u, v = np.array(e).T
    edges = pd.DataFrame({"u": u + 1, "v": v + 1, "length": rng.uniform(100, 130, len(u))})
    graph = StreetGraph.from_frames(nodes, edges, mode="walk", projected=True)
    points = rng.uniform(0, 1900, (50, 2))
    eng = DistanceEngine(points, graphs={"walk": graph})
    amen_xy = rng.uniform(0, 1900, (80, 2))
    amen = Amenities(xy=amen_xy, feature=np.arange(80), anchor=amen_xy,
                     table=pd.DataFrame({"value": np.ones(80)}))
    rings = [150.0, 400.0, 800.0]
    got = eng.count_within_rings("walk", amen, rings)
    assert got.shape == (3, 50)
    for k, b in enumerate(rings):
        assert np.array_equal(got[k], eng.count_within("walk", amen, b))
    # against brute force: node distances plus the amenity's snap offset, point snap <= budget
    pnode, psnap = graph.snap(points[:, 0], points[:, 1])
    anode, asnap = graph.snap(amen_xy[:, 0], amen_xy[:, 1])
    d = dijkstra(graph.matrix, directed=True)[np.ix_(pnode, anode)] + asnap[None, :]
    for k, b in enumerate(rings):
        assert got[k].tolist() == np.where(psnap <= b, (d <= b).sum(axis=1), 0).tolist()


def test_dense_reference_equals_the_kernel_on_the_synthetic_network() -> None:
    from benchmarks.reach import _count_within_dense
    from benchmarks.synthetic import synthetic_network

    net = synthetic_network(0.02)
    g = StreetGraph.from_frames(net.nodes, net.edges, mode="car")
    rng = np.random.default_rng(3)
    src = rng.integers(0, g.n_nodes, 60)
    off = rng.uniform(0, 80, 60)
    at = rng.integers(0, g.n_nodes, 25)
    for budget in (0.0, 3000.0, 25000.0):
        assert np.array_equal(g.counts_within(src, budget, off),
                              _count_within_dense(g, src, budget, off))
        assert np.array_equal(g.counts_within(src, budget, off, at=at),
                              _count_within_dense(g, src, budget, off, at=at))


@pytest.mark.slow  # a benchmark quick run (about 20 s): make test runs it, make test-fast does not
def test_reach_benchmark_quick_rows_agree_and_say_synthetic() -> None:
    from benchmarks.__main__ import SUITES, disagreements
    from benchmarks.reach import run

    assert "reach" in SUITES
    rows = run(quick=True)
    # two indicator quadruples (old, new with the hierarchy built, read from a stored file,
    # cached) + the all-node pair
    assert len(rows) == 4 + 4 + 2
    assert disagreements(rows) == []
    new = [r for r in rows if ", new (" in r.name]
    assert len(new) == 7 and all(r.extra["agree"] is True for r in new)
    assert all("SYNTHETIC" in r.data for r in rows)
    assert sum("EXTRAPOLATED" in r.data for r in rows) == 4
    assert all(r.times and r.median > 0 for r in rows)
    assert [r.target for r in new] == [">= 10x", ">= 10x", "", "", "", "", ""]
    assert "hierarchy built in the timed region" in new[0].name
    assert "stored with the network, read in the timed region" in new[1].name
    assert "build + first score is" in new[1].note
    assert "counts equal at every origin" in new[0].note
    assert all(isinstance(r.extra["auto_takes_ch"], bool) for r in new[:6])


def test_no_sources_and_no_targets() -> None:
    g = _random_graph(4, False)
    none = np.array([], dtype=np.int64)
    assert g.counts_within(none, 100.0).tolist() == [0] * g.n_nodes
    assert g.counts_within(np.array([1, 2]), 100.0, at=none).tolist() == []
    assert g.counts_within_rings(none, [1.0, 2.0], at=np.array([0, 1])).tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize("directed", [False, True])
def test_threads_do_not_change_the_counts(directed: bool) -> None:
    g = _random_graph(7, directed, n=120)
    rng = np.random.default_rng(11)
    sources = rng.integers(0, g.n_nodes, 90)
    offsets = rng.uniform(0, 20, 90)
    rings = [30.0, 90.0, 200.0]
    one = g.counts_within_rings(sources, rings, offsets, threads=1)
    assert np.array_equal(g.counts_within_rings(sources, rings, offsets, threads=3), one)
    for k, b in enumerate(rings):
        assert np.array_equal(one[k], _brute(g, sources, offsets, b))
    at = rng.integers(0, g.n_nodes, 40)  # fewer distinct than the sources: from the targets
    assert np.array_equal(g.counts_within_rings(sources, rings, offsets, at=at, threads=3),
                          one[:, at])


def test_split_uses_at_most_one_thread_per_eight_origins() -> None:
    assert reach._split(0, 4) == [(0, 0)]
    assert reach._split(15, 4) == [(0, 15)]
    assert reach._split(40, 3) == [(0, 13), (13, 27), (27, 40)]
    assert reach._split(100, 1) == [(0, 100)]


# -- contraction hierarchy (geo.ch) ----------------------------------------------------------
@pytest.mark.parametrize(("seed", "directed", "integer"), CASES)
def test_ch_counts_match_brute_force(seed: int, directed: bool, integer: bool) -> None:
    g = _random_graph(seed, directed, integer=integer)
    rng = np.random.default_rng(200 + seed)
    sources = np.concatenate([rng.integers(0, g.n_nodes, 30), [3, 3, 3, g.n_nodes - 1]])
    offsets = (rng.integers(0, 4, len(sources)) * 10.0 if integer
               else np.round(rng.uniform(0, 40, len(sources)), 1))
    offsets[:5] = 0.0
    at = np.concatenate([rng.integers(0, g.n_nodes, 20), [0, 0, g.n_nodes - 2]])
    for budget in (0.0, 35.0, 80.0, 150.0, 1e12):
        expected = _brute(g, sources, offsets, budget)[at]
        got = g.counts_within(sources, budget, offsets, at=at)  # auto: small, plain searches
        assert np.array_equal(g.counts_within_rings(sources, [budget], offsets, at=at,
                                                    method="ch")[0], expected), budget
        assert np.array_equal(got, expected)


def test_ch_rings_match_brute_force_with_duplicates() -> None:
    g = _random_graph(8, True, n=120)
    rng = np.random.default_rng(21)
    sources = np.repeat(rng.integers(0, g.n_nodes, 25), 3)  # every source three times
    offsets = rng.uniform(0, 30, len(sources))
    at = rng.integers(0, g.n_nodes, 60)
    rings = np.linspace(40.0, 200.0, 4)
    got = g.counts_within_rings(sources, rings, offsets, at=at, method="ch")
    for k, b in enumerate(rings):
        assert np.array_equal(got[k], _brute(g, sources, offsets, b)[at])


def test_ch_ties_at_the_budget_are_recounted_exactly() -> None:
    from geo import ch

    # integer costs: many hierarchy distances land exactly on the budget (every one recounted)
    g = _random_graph(2, False, integer=True)
    rng = np.random.default_rng(4)
    sources = rng.integers(0, g.n_nodes, 40)
    offsets = rng.integers(0, 3, 40) * 10.0
    at = np.arange(g.n_nodes)
    m = g._forward
    got, recounted = ch.counts_at(g.hierarchy(), m.indptr, m.indices, m.data, g._rank[at],
                                  g._rank[sources], offsets, np.array([60.0]))
    assert recounted > 0
    assert np.array_equal(got[0], _brute(g, sources, offsets, 60.0)[at])
    # the ties test's path: 0 -10- 1 -10- 2 -10- 3, source at 3 with offset 5
    mat = sparse.csr_matrix((np.full(6, 10.0), ([0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2])),
                            shape=(4, 4))
    p = StreetGraph(np.arange(4), np.zeros((4, 2)), mat, "walk")
    everywhere = np.arange(4)
    assert p.counts_within_rings(np.array([3]), [24.99, 25.0], np.array([5.0]), at=everywhere,
                                 method="ch").tolist() == [[0, 0, 1, 1], [0, 1, 1, 1]]


def test_ch_tolerance_covers_float_reassociation() -> None:
    from geo import ch

    assert ch.tolerance(1000, 25000.0) == pytest.approx(25000.0 * 1e-9)
    big = ch.tolerance(10_000_000, 25000.0)  # 8 n 2**-53 exceeds 1e-9 from ~1.1M nodes
    assert big == pytest.approx(8 * 10_000_000 * 2.0**-53 * 25000.0)
    assert ch.tolerance(10, 0.0) == pytest.approx(1e-9)


def test_ch_hierarchy_is_built_once_and_ranks_every_node() -> None:
    g = _random_graph(5, True)
    h = g.hierarchy()
    assert g.hierarchy() is h
    assert sorted(h.rank.tolist()) == list(range(g.n_nodes))
    up_tail = np.repeat(np.arange(g.n_nodes), np.diff(h.up_ptr))
    assert (h.rank[h.up_idx] > h.rank[up_tail]).all()
    dn_head = np.repeat(np.arange(g.n_nodes), np.diff(h.dn_ptr))
    assert (h.rank[h.dn_idx] > h.rank[dn_head]).all()


def test_ch_rejects_unknown_method() -> None:
    g = _random_graph(1, False)
    with pytest.raises(ValueError, match="method 'x' is not one of auto, ch, search"):
        g.counts_within_rings(np.array([1]), [5.0], at=np.array([0]), method="x")


def test_ch_equals_the_dense_reference_on_the_synthetic_network() -> None:
    from benchmarks.reach import _count_within_dense
    from benchmarks.synthetic import synthetic_network

    net = synthetic_network(0.02)
    for mode in ("car", "walk"):
        g = StreetGraph.from_frames(net.nodes, net.edges, mode=mode)
        rng = np.random.default_rng(6)
        src = rng.integers(0, g.n_nodes, 300)
        off = np.round(rng.uniform(0, 50, 300), 2)
        at = rng.integers(0, g.n_nodes, 250)
        for budget in (0.0, 3000.0, 25000.0):
            assert np.array_equal(g.counts_within_rings(src, [budget], off, at=at, method="ch")[0],
                                  _count_within_dense(g, src, budget, off, at=at)), (mode, budget)
            assert np.array_equal(g.counts_within(src, budget, off, at=at),  # auto, after a CH
                                  _count_within_dense(g, src, budget, off, at=at)), (mode, budget)


def test_auto_builds_a_hierarchy_only_when_the_searches_would_cost_more(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from geo import network

    g = _random_graph(3, False, n=300)
    src, at = np.arange(0, 300, 1), np.arange(0, 300, 1)
    assert not g._ch_pays(at, src, 300, 300, 1.0)  # a tiny budget: searches settle ~1 node
    assert not g._ch_pays(at[:50], src, 50, 300, 1e12)  # fewer than CH_MIN_NODES origins
    monkeypatch.setattr(network, "_CH_BUILD_S_PER_NODE", 1e-12)  # a hierarchy for free
    assert g._ch_pays(at, src, 300, 300, 1e12)
    g.counts_within(src, 1e12, at=at)
    assert g._hierarchy is not None
    monkeypatch.setattr(network, "_CH_BUILD_S_PER_NODE", 1e3)  # built already: always used
    assert g._ch_pays(at, src, 300, 300, 1.0)


def _ch_distances(h: Any) -> np.ndarray:
    """All-pairs distances through a hierarchy: min over meeting nodes of up + down."""
    n = len(h.rank)
    up_tail = np.repeat(np.arange(n), np.diff(h.up_ptr))
    up = sparse.csr_matrix((h.up_w, (up_tail, h.up_idx)), shape=(n, n))
    dn_head = np.repeat(np.arange(n), np.diff(h.dn_ptr))
    # downward edges x -> v stored by head v: searched backwards from v
    back = sparse.csr_matrix((h.dn_w, (dn_head, h.dn_idx)), shape=(n, n))
    fwd = dijkstra(up, directed=True)  # fwd[s, x]: s up to x
    bwd = dijkstra(back, directed=True)  # bwd[t, x]: x down to t
    return np.asarray(np.min(fwd[:, None, :] + bwd[None, :, :], axis=2))


BUILD_MODES = [{}, {"onepass": True}, {"hop_rule": (0.0, 2.0)}, {"hop_rule": (1e9,)},
               {"compact": False}, {"resimulate": True},
               {"witness_limit": 2, "simulation_limit": 1}]


@pytest.mark.parametrize("mode", BUILD_MODES, ids=lambda m: ",".join(m) or "default")
@pytest.mark.parametrize(("seed", "directed", "integer"),
                         [(0, False, True), (1, True, True), (2, True, False), (3, False, False)])
def test_ch_build_modes_keep_every_distance(mode: dict[str, Any], seed: int, directed: bool,
                                            integer: bool) -> None:
    from geo import ch

    # 300 nodes: the uncontracted nodes are renumbered (compacted) at 150 and 75 left
    g = _random_graph(seed, directed, n=300, integer=integer)
    m = g._forward  # the internal order, whose hierarchy g keeps
    h = ch.build(m.indptr, m.indices, m.data, **mode)
    assert sorted(h.rank.tolist()) == list(range(g.n_nodes))
    up_tail = np.repeat(np.arange(g.n_nodes), np.diff(h.up_ptr))
    assert (h.rank[h.up_idx] > h.rank[up_tail]).all()
    exact = dijkstra(m, directed=True)
    got = _ch_distances(h)
    assert np.array_equal(np.isinf(got), np.isinf(exact))
    fin = np.isfinite(exact)
    if integer:  # sums of multiples of 10: no rounding, ties everywhere
        assert np.array_equal(got[fin], exact[fin])
    else:
        np.testing.assert_allclose(got[fin], exact[fin], rtol=1e-12, atol=0)
    rng = np.random.default_rng(seed)
    sources = rng.integers(0, g.n_nodes, 40)
    offsets = rng.integers(0, 3, 40) * 10.0
    at = np.arange(g.n_nodes)
    g._hierarchy = h
    for budget in (0.0, 60.0, 150.0):
        assert np.array_equal(g.counts_within_rings(sources, [budget], offsets, at=at,
                                                    method="ch")[0],
                              _brute(g, sources, offsets, budget)), (mode, budget)
