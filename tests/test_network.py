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


# -- node reordering, vectorised car speeds, counts_within against brute force ----------------------
def random_network(seed: int, n: int = 120, car: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SYNTHETIC test network: random points joined to near neighbours, shuffled ids and rows.

    With ``car`` about a third of the links are one-way (stored in one direction only), the others
    in both directions with different speeds (``highway`` classes and some ``maxspeed`` values).
    """
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 2000, size=(n, 2))
    ids = rng.permutation(np.arange(1000, 1000 + n)).astype(np.int64)
    us, vs = [], []
    for i in range(n):
        near = np.argsort(np.hypot(*(xy - xy[i]).T))[1:4]
        for j in near:
            us.append(i)
            vs.append(int(j))
    u, v = np.array(us), np.array(vs)
    length = np.hypot(*(xy[u] - xy[v]).T) * rng.uniform(1.0, 1.3, size=len(u))
    edges = pd.DataFrame({"u": ids[u], "v": ids[v], "length": length})
    if car:
        oneway = rng.random(len(u)) < 0.33
        back = edges[~oneway].rename(columns={"u": "v", "v": "u"})
        edges = pd.concat([edges, back], ignore_index=True)
        classes = np.array(["primary", "residential", "service", "tertiary"])
        edges["highway"] = classes[rng.integers(0, 4, size=len(edges))]
        edges["maxspeed"] = np.where(rng.random(len(edges)) < 0.3, 70.0, np.nan)
    edges = edges.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    nodes = pd.DataFrame({"node": ids, "x": xy[:, 0], "y": xy[:, 1]})
    return nodes, edges


def networkx_graph(g: StreetGraph):  # type: ignore[no-untyped-def]
    """The graph's public matrix as a networkx DiGraph over node indices."""
    import networkx as nx

    m = g.matrix.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_weighted_edges_from(zip(m.row.tolist(), m.col.tolist(), m.data.tolist(), strict=True))
    return G


def brute_counts(g: StreetGraph, sources: np.ndarray, offsets: np.ndarray,
                 budget: float) -> np.ndarray:
    """Count per node by one full networkx Dijkstra from every node (travelling forwards)."""
    import networkx as nx

    G = networkx_graph(g)
    out = np.zeros(g.n_nodes, dtype=np.int64)
    for v in range(g.n_nodes):
        d = nx.single_source_dijkstra_path_length(G, v)
        out[v] = sum(1 for s, o in zip(sources, offsets, strict=True)
                     if s in d and d[s] + o <= budget)
    return out


def test_reordering_is_invisible_to_callers() -> None:
    import networkx as nx

    nodes, edges = random_network(3)
    g = StreetGraph.from_frames(nodes, edges, projected=True)
    # public order = the input order of the nodes frame
    assert g.node_ids.tolist() == nodes["node"].tolist()
    assert np.array_equal(g.xy, nodes[["x", "y"]].to_numpy())
    # the internal order really differs (otherwise this test proves nothing)
    assert not np.array_equal(g._perm, np.arange(g.n_nodes))
    idx, _ = g.snap(nodes["x"].to_numpy(), nodes["y"].to_numpy())
    assert idx.tolist() == list(range(g.n_nodes))
    G = networkx_graph(g)
    for s in (0, 17, 55):
        ref = nx.single_source_dijkstra_path_length(G, s)
        d = g.distances_from(np.array([s]))
        expected = np.array([ref.get(v, np.inf) for v in range(g.n_nodes)])
        assert np.array_equal(np.isfinite(d), np.isfinite(expected))
        assert np.allclose(d[np.isfinite(d)], expected[np.isfinite(expected)], rtol=0, atol=1e-9)
    d, which = g.nearest_from(np.array([5, 40, 90]), np.array([3.0, 0.0, 250.0]))
    dists = [nx.single_source_dijkstra_path_length(G, s) for s in (5, 40, 90)]
    for v in range(g.n_nodes):
        cand = [dd.get(v, np.inf) + o for dd, o in zip(dists, (3.0, 0.0, 250.0), strict=True)]
        assert d[v] == pytest.approx(min(cand), abs=1e-9)
        if np.isfinite(d[v]):
            assert cand[which[v]] == pytest.approx(d[v], abs=1e-9)
        else:
            assert which[v] == -1


@pytest.mark.parametrize("mode", ["walk", "car"])
def test_counts_within_matches_brute_force(mode: str) -> None:
    nodes, edges = random_network(11, n=90, car=mode == "car")
    g = StreetGraph.from_frames(nodes, edges, mode=mode, projected=True)
    rng = np.random.default_rng(5)
    sources = rng.integers(0, g.n_nodes, size=40)  # with repeated nodes
    offsets = np.where(rng.random(40) < 0.5, 0.0, rng.uniform(0, 300, size=40))
    budget = 900.0
    expected = brute_counts(g, sources, offsets, budget)
    assert expected.min() < expected.max()  # a meaningful budget: counts vary
    got = g.counts_within(sources, budget, offsets, chunk=7)
    assert got.dtype == np.int64 and np.array_equal(got, expected)
    # counting only at some nodes: fewer targets than sources -> searched from the targets
    at = np.array([3, 3, 50, 0, 89, 12])
    assert np.array_equal(g.counts_within(sources, budget, offsets, at=at), expected[at])
    # more targets than sources -> the per-source searches, same answer
    many = np.arange(g.n_nodes)[::-1]
    assert np.array_equal(g.counts_within(sources[:5], budget, offsets[:5], at=many),
                          brute_counts(g, sources[:5], offsets[:5], budget)[many])


def test_car_counts_follow_one_way_streets() -> None:
    # 1 -> 2 one way (1000 m residential = cost 1250), 2 <-> 3 both ways (cost 500)
    nodes = pd.DataFrame({"node": [1, 2, 3], "x": [0.0, 1000, 2000], "y": [0.0, 0, 0]})
    edges = pd.DataFrame({"u": [1, 2, 3], "v": [2, 3, 2], "length": [1000.0, 1000, 1000],
                          "highway": ["residential", "primary", "primary"],
                          "maxspeed": [None, 100, 100]})
    g = StreetGraph.from_frames(nodes, edges, mode="car", projected=True)
    # a workplace at node 1 is reachable from nowhere else; one at node 3 from 2 (500), 1 (1750)
    assert g.counts_within(np.array([0]), 2000.0).tolist() == [1, 0, 0]
    assert g.counts_within(np.array([2]), 2000.0).tolist() == [1, 1, 1]
    assert g.counts_within(np.array([2]), 1000.0).tolist() == [0, 1, 1]
    assert g.counts_within(np.array([0, 2, 2]), 1000.0, at=np.array([1])).tolist() == [2]


def _car_speeds_per_row(edges: pd.DataFrame) -> np.ndarray:
    """The original per-edge Python implementation, the reference for the vectorised one."""
    from geo.network import _DEFAULT_CAR_KMH, CAR_SPEEDS_KMH, _highway_class
    from layers.vocab import parse_maxspeed

    speed = np.array([parse_maxspeed(v) for v in edges["maxspeed"]], dtype=float)
    by_class = np.array([CAR_SPEEDS_KMH.get(_highway_class(v), _DEFAULT_CAR_KMH)
                         for v in edges["highway"]], dtype=float)
    bad = ~np.isfinite(speed) | (speed <= 0)
    speed[bad] = by_class[bad]
    return speed


def test_car_speeds_vectorised_equals_per_row() -> None:
    from geo.network import car_speeds

    maxspeed = [50, 70.0, None, np.nan, "30", "50;70", "80|60", " 90 ", "30 mph", "none", "",
                ["40", "60"], [], ("100",), 0, -5, "signals", np.array([110.0]), "20"]
    highway = ["motorway", "residential", ["primary", "secondary"], None, "weird", "service",
               "track", np.nan, "living_street", "trunk", "unclassified", [], "road",
               ("tertiary",), "primary", "secondary_link", "motorway_link", "primary", "service"]
    edges = pd.DataFrame({"maxspeed": pd.Series(maxspeed, dtype=object),
                          "highway": pd.Series(highway, dtype=object)})
    got = car_speeds(edges)
    assert np.array_equal(got, _car_speeds_per_row(edges))
    # one maxspeed parser (layers.vocab.parse_maxspeed): "80|60" is the lower 60 and "30 mph"
    # 48.28 km/h (the old parser here took the first number and ignored mph)
    assert got.tolist() == [50.0, 70.0, 80.0, 40.0, 30.0, 50.0, 60.0, 90.0, 30 * 1.609344, 90.0,
                            50.0, 40.0, 40.0, 100.0, 80.0, 50.0, 70.0, 110.0, 20.0]
    # an unhashable item (nested list) takes the per-row path: str([20]) is no number
    nested = pd.DataFrame({"maxspeed": pd.Series([[[20]], "60"], dtype=object),
                           "highway": ["service", "primary"]})
    assert car_speeds(nested).tolist() == [20.0, 60.0]
    # the store's form: float maxspeed (NaN unknown), string highway
    store = pd.DataFrame({"maxspeed": [np.nan, 30.0, np.nan, 0.0],
                          "highway": ["primary", "service", "weird", "track"]})
    assert car_speeds(store).tolist() == [80.0, 30.0, 40.0, 20.0]
    assert np.array_equal(car_speeds(store), _car_speeds_per_row(store))
    only_highway = pd.DataFrame({"highway": ["motorway", "service"]})
    assert car_speeds(only_highway).tolist() == [110.0, 20.0]
