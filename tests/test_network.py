"""StreetGraph: exact distances on tiny hand-made networks, and networkx agreement on Helsinki."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.errors import DataSourceError
from geo.network import CAR_REFERENCE_KMH, StreetGraph, minutes


def line_graph(mode: str = "walk") -> StreetGraph:
    """0 --100-- 1 --100-- 2 --100-- 3, plus an isolated node 4 (metric coordinates)."""
    nodes = pd.DataFrame({"node": [10, 11, 12, 13, 14], "x": [0.0, 100, 200, 300, 5000],
                          "y": [0.0, 0, 0, 0, 5000]})
    edges = pd.DataFrame({"u": [10, 11, 12], "v": [11, 12, 13], "length": [100.0, 100, 100]})
    return StreetGraph.from_frames(nodes, edges, mode=mode, projected=True)


def test_single_source_distances_exact() -> None:
    g = line_graph()
    d = g.distances_from(np.array([0]))
    assert d[:4].tolist() == [0.0, 100.0, 200.0, 300.0]
    assert np.isinf(d[4])  # unreachable


def test_walk_graph_is_undirected() -> None:
    d = line_graph().distances_from(np.array([3]))
    assert d[:4].tolist() == [300.0, 200.0, 100.0, 0.0]


def test_min_over_sources_and_which() -> None:
    g = line_graph()
    d, which = g.nearest_from(np.array([0, 3]))
    assert d[:4].tolist() == [0.0, 100.0, 100.0, 0.0]
    assert which[0] == 0 and which[3] == 1
    assert which[1] == 0 and which[2] == 1
    assert which[4] == -1


def test_offsets_added_and_decide_nearest() -> None:
    g = line_graph()
    # source 0 sits 5 m off node 0, source 1 sits 120 m off node 3
    d, which = g.nearest_from(np.array([0, 3]), np.array([5.0, 120.0]))
    assert d[:4].tolist() == [5.0, 105.0, 205.0, 120.0]
    assert which[:4].tolist() == [0, 0, 0, 1]
    assert np.isinf(d[4]) and which[4] == -1


def test_duplicate_source_nodes_keep_smallest_offset() -> None:
    g = line_graph()
    d, which = g.nearest_from(np.array([1, 1]), np.array([50.0, 7.0]))
    assert d[1] == 7.0 and which[1] == 1
    assert d[0] == 107.0


def test_limit_cuts_search() -> None:
    d = line_graph().distances_from(np.array([0]), limit=150.0)
    assert d[:2].tolist() == [0.0, 100.0]
    assert np.isinf(d[2]) and np.isinf(d[3])


def test_parallel_edges_keep_shortest() -> None:
    nodes = pd.DataFrame({"node": [1, 2], "x": [0.0, 10.0], "y": [0.0, 0.0]})
    edges = pd.DataFrame({"u": [1, 1, 2], "v": [2, 2, 1], "length": [80.0, 60.0, 70.0]})
    g = StreetGraph.from_frames(nodes, edges, projected=True)
    assert g.distances_from(np.array([0]))[1] == 60.0
    assert g.distances_from(np.array([1]))[0] == 60.0


def test_snap_returns_node_and_distance() -> None:
    g = line_graph()
    idx, dist = g.snap(np.array([90.0, 310.0]), np.array([0.0, 30.0]))
    assert idx.tolist() == [1, 3]
    assert dist[0] == pytest.approx(10.0)
    assert dist[1] == pytest.approx(np.hypot(10, 30))


def test_car_cost_by_speed_and_direction() -> None:
    nodes = pd.DataFrame({"node": [1, 2, 3], "x": [0.0, 1000, 2000], "y": [0.0, 0, 0]})
    edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "length": [1000.0, 1000.0],
                          "highway": ["motorway", "residential"], "maxspeed": [100, None]})
    g = StreetGraph.from_frames(nodes, edges, mode="drive", projected=True)
    # cost = length * 50 / speed: 1000 m at 100 km/h = 500; residential 40 km/h = 1250
    d = g.distances_from(np.array([2]))  # travel TO node 2 (index 2)
    assert d.tolist() == pytest.approx([500.0 + 1250.0, 1250.0, 0.0])
    # one-way: nothing can drive from node 3 towards node 1
    assert np.isinf(g.distances_from(np.array([0]))[2])
    assert minutes(1000.0, "car") == pytest.approx(1000.0 / (CAR_REFERENCE_KMH * 1000 / 60))


def test_lonlat_projection() -> None:
    # two points 0.01 degrees of latitude apart are about 1,113 m apart in SWEREF 99 TM
    nodes = pd.DataFrame({"node": [1, 2], "x": [15.0, 15.0], "y": [56.0, 56.01]})
    edges = pd.DataFrame({"u": [1], "v": [2], "length": [1113.0]})
    g = StreetGraph.from_frames(nodes, edges)
    assert np.hypot(*(g.xy[1] - g.xy[0])) == pytest.approx(1113, abs=3)


def test_bad_frames_raise() -> None:
    with pytest.raises(DataSourceError, match="length"):
        StreetGraph.from_frames(pd.DataFrame({"node": [1], "x": [0], "y": [0]}),
                                pd.DataFrame({"u": [1], "v": [1]}))
    with pytest.raises(DataSourceError, match="none joins"):
        StreetGraph.from_frames(pd.DataFrame({"node": [1], "x": [0.0], "y": [0.0]}),
                                pd.DataFrame({"u": [7], "v": [8], "length": [1.0]}))


@pytest.fixture(scope="module")
def helsinki_walk(helsinki_pbf):  # type: ignore[no-untyped-def]
    from geo.sources.osm import osm_from_pbf

    return osm_from_pbf(helsinki_pbf, layers=[], modes=("walk",)).networks["walk"]


def test_helsinki_matches_networkx(helsinki_walk) -> None:  # type: ignore[no-untyped-def]
    import networkx as nx

    nodes, edges = helsinki_walk.nodes, helsinki_walk.edges
    g = StreetGraph.from_frames(nodes, edges, mode="walk")
    G = nx.Graph()
    for u, v, length in zip(edges["u"], edges["v"], edges["length"]):
        if u == v:
            continue
        if not G.has_edge(u, v) or G[u][v]["length"] > length:
            G.add_edge(u, v, length=float(length))
    rng = np.random.default_rng(42)
    ids = g.node_ids
    checked = 0
    for s in rng.choice(len(ids), size=40, replace=False):
        d = g.distances_from(np.array([s]))
        t = int(rng.integers(len(ids)))
        if ids[s] not in G or ids[t] not in G:
            continue
        try:
            expected = nx.shortest_path_length(G, ids[s], ids[t], weight="length")
        except nx.NetworkXNoPath:
            assert np.isinf(d[t])
            continue
        assert d[t] == pytest.approx(expected, abs=1.0)
        checked += 1
        if checked >= 20:
            break
    assert checked >= 15


def test_counts_within_budget_with_offsets() -> None:
    g = line_graph()
    # three sources: two share node 0 (offsets 0 and 60), one at node 3
    c = g.counts_within(np.array([0, 0, 3]), 150.0, np.array([0.0, 60.0, 0.0]))
    # node 0: both node-0 sources (0, 60); node 1: 100 and 160 -> 1, plus node 3 at 200 -> no
    assert c.tolist() == [2, 1, 1, 1, 0]
