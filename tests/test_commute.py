"""geo.commute: travel times to one target against brute force and hand-derived straight lines.

Every network and place here is SYNTHETIC (built in this file).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import box

from geo.commute import OUTSIDE_BUFFER_M, CommuteEngine, CommuteTimes, travel_times
from geo.errors import LivabilityError
from geo.messages import render
from geo.network import MODE_SPEEDS_KMH, StreetGraph
from geo.settings import STORE_CRS, WORK_CRS

#: A point in Blekinge in SWEREF 99 TM; the synthetic networks sit around it.
X0, Y0 = 500_000.0, 6_230_000.0
_TO_LONLAT = Transformer.from_crs(WORK_CRS, STORE_CRS, always_xy=True)


def lonlat(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_LONLAT.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def fake_model(cell_xy: np.ndarray, loc_xy: np.ndarray, munis: list[str] | None = None) -> Any:
    """What CommuteEngine reads of a ScoreModel: cells (x, y metric) and localities (lon, lat)."""
    lon, lat = lonlat(loc_xy[:, 0], loc_xy[:, 1])
    cells = pd.DataFrame({"x": cell_xy[:, 0], "y": cell_xy[:, 1],
                          "municipality": munis or ["9901"] * len(cell_xy)},
                         index=[f"c{i}" for i in range(len(cell_xy))])
    locs = pd.DataFrame({"lon": lon, "lat": lat}, index=[f"L{i}" for i in range(len(loc_xy))])
    return SimpleNamespace(cells=cells, localities=locs, rollup=None, region_name="Synthland")


def grid_network(directed_extras: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A 5 x 5 street grid, 400 m apart, lengths 1.0-1.3 x straight, varied speed limits; with
    ``directed_extras`` some streets are one-way (only u -> v listed) and one node is cut off."""
    rng = np.random.default_rng(7)
    ids, xs, ys = [], [], []
    for i in range(5):
        for j in range(5):
            ids.append(100 + 5 * i + j)
            xs.append(X0 + 400.0 * j)
            ys.append(Y0 + 400.0 * i)
    us, vs, lens, speeds = [], [], [], []
    for i in range(5):
        for j in range(5):
            a = 100 + 5 * i + j
            for b in ([a + 1] if j < 4 else []) + ([a + 5] if i < 4 else []):
                length = 400.0 * rng.uniform(1.0, 1.3)
                speed = float(rng.choice([30, 50, 70, 90]))
                one_way = directed_extras and rng.random() < 0.3
                pairs = [(a, b)] if one_way else [(a, b), (b, a)]
                for u, v in pairs:
                    us.append(u)
                    vs.append(v)
                    lens.append(length)
                    speeds.append(speed)
    lon, lat = lonlat(xs, ys)
    nodes = pd.DataFrame({"node": ids, "x": lon, "y": lat})
    edges = pd.DataFrame({"u": us, "v": vs, "length": lens, "maxspeed": speeds,
                          "highway": "residential"})
    if directed_extras:  # node 124 (a corner) unreachable: drop every edge that touches it
        edges = edges[(edges["u"] != 124) & (edges["v"] != 124)].reset_index(drop=True)
    return nodes, edges


class FakeSnapshot:
    """What CommuteEngine reads of a Snapshot: networks, boundary, municipalities, its name."""

    region_name = "Synthland"

    def __init__(self, networks: dict[str, tuple[pd.DataFrame, pd.DataFrame]],
                 outline_xy: tuple[float, float, float, float]) -> None:
        self._networks = networks
        lon0, lat0 = lonlat(outline_xy[0], outline_xy[1])
        lon1, lat1 = lonlat(outline_xy[2], outline_xy[3])
        self._box = box(float(lon0), float(lat0), float(lon1), float(lat1))

    def network(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        return self._networks.get(name)

    def boundary(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"name": ["Synthland"]}, geometry=[self._box], crs=STORE_CRS)

    def municipalities(self) -> gpd.GeoDataFrame:
        b = self._box.bounds
        mid = (b[0] + b[2]) / 2
        return gpd.GeoDataFrame({"code": ["9901", "9902"]},
                                geometry=[box(b[0], b[1], mid, b[3]), box(mid, b[1], b[2], b[3])],
                                crs=STORE_CRS)


def origins(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([X0 - 200 + rng.uniform(0, 2000, n), Y0 - 200 + rng.uniform(0, 2000, n)])


def brute_force(g: StreetGraph, origin_xy: np.ndarray, target_xy: np.ndarray, mode: str
                ) -> np.ndarray:
    """Minutes from each origin to the target: snap both by exhaustive search, one Dijkstra per
    origin on the graph's own (forward, row -> column) matrix."""
    def snap(p: np.ndarray) -> tuple[int, float]:
        d = np.hypot(g.xy[:, 0] - p[0], g.xy[:, 1] - p[1])
        return int(np.argmin(d)), float(d.min())

    tnode, tsnap = snap(target_xy)
    speed = MODE_SPEEDS_KMH[mode] * 1000.0 / 60.0
    out = []
    for p in origin_xy:
        onode, osnap = snap(p)
        d = dijkstra(g.matrix, directed=True, indices=onode)[tnode]
        out.append((d + osnap + tsnap) / speed if np.isfinite(d) else np.nan)
    return np.array(out)


# -- along a network -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["walk", "bike", "car"])
def test_network_times_equal_brute_force(mode: str) -> None:
    nodes, edges = grid_network(directed_extras=(mode == "car"))
    net = {"walk": "walk", "bike": "bike", "car": "drive"}[mode]
    snap = FakeSnapshot({net: (nodes, edges)}, (X0 - 5000, Y0 - 5000, X0 + 6000, Y0 + 6000))
    cells, locs = origins(40, 1), origins(6, 2)
    model = fake_model(cells, locs)
    engine = CommuteEngine(model, snapshot=snap)
    target = np.array([X0 + 1130.0, Y0 + 870.0])
    tlon, tlat = lonlat(target[0], target[1])
    res = engine.times(float(tlat), float(tlon), mode)
    g = engine.graph(mode)
    assert g is not None and not res.approximate and res.network == net
    assert res.method.code == "commute_network"
    want_cells = brute_force(g, cells, target, mode)
    np.testing.assert_allclose(res.cells.to_numpy(), want_cells, rtol=1e-9, atol=1e-6)
    assert list(res.cells.index) == list(model.cells.index)
    # localities go through lon/lat and back: the same up to the projection's round trip
    want_locs = brute_force(g, locs, target, mode)
    np.testing.assert_allclose(res.localities.to_numpy(), want_locs, rtol=1e-7, atol=1e-4)
    assert list(res.localities.index) == [f"L{i}" for i in range(6)]


def test_car_times_are_the_trip_to_the_target_not_back() -> None:
    """On one-way streets home -> work differs from work -> home; the result is home -> work."""
    nodes, edges = grid_network(directed_extras=True)
    snap = FakeSnapshot({"drive": (nodes, edges)}, (X0 - 5000, Y0 - 5000, X0 + 6000, Y0 + 6000))
    cells = origins(40, 3)
    engine = CommuteEngine(fake_model(cells, cells[:2]), snapshot=snap)
    target = np.array([X0 + 400.0, Y0 + 1200.0])
    tlon, tlat = lonlat(target[0], target[1])
    res = engine.times(float(tlat), float(tlon), "car")
    g = engine.graph("car")
    assert g is not None
    tnode = int(np.argmin(np.hypot(g.xy[:, 0] - target[0], g.xy[:, 1] - target[1])))
    back = dijkstra(g.matrix, directed=True, indices=tnode)  # work -> home, for contrast
    speed = MODE_SPEEDS_KMH["car"] * 1000.0 / 60.0
    onode = [int(np.argmin(np.hypot(g.xy[:, 0] - p[0], g.xy[:, 1] - p[1]))) for p in cells]
    osnap = [float(np.hypot(*(g.xy[n] - p))) for n, p in zip(onode, cells)]
    tsnap = float(np.hypot(*(g.xy[tnode] - target)))
    reverse = np.array([(back[n] + s + tsnap) / speed for n, s in zip(onode, osnap)])
    forward = res.cells.to_numpy()
    np.testing.assert_allclose(forward, brute_force(g, cells, target, "car"), rtol=1e-9)
    ok = np.isfinite(forward) & np.isfinite(reverse)
    # the one-way streets matter on this grid
    assert ok.sum() >= 30 and not np.allclose(forward[ok], reverse[ok])


def test_unreachable_origin_is_nan_and_not_within() -> None:
    nodes, edges = grid_network(directed_extras=True)
    snap = FakeSnapshot({"drive": (nodes, edges)}, (X0 - 5000, Y0 - 5000, X0 + 6000, Y0 + 6000))
    corner = np.array([[X0 + 1600.0 + 3, Y0 + 1600.0 + 4]])  # snaps to the cut-off node 124
    here = np.array([[X0 + 10.0, Y0]])
    engine = CommuteEngine(fake_model(np.vstack([corner, here]), np.vstack([corner, here])),
                           snapshot=snap)
    tlon, tlat = lonlat(X0 + 800.0, Y0 + 400.0)
    res = engine.times(float(tlat), float(tlon), "car")
    assert np.isnan(res.cells.iloc[0]) and np.isfinite(res.cells.iloc[1])
    assert res.within(180).to_dict() == {"L0": False, "L1": True}


def test_bike_falls_back_to_the_walking_network() -> None:
    nodes, edges = grid_network(directed_extras=False)
    snap = FakeSnapshot({"walk": (nodes, edges)}, (X0 - 5000, Y0 - 5000, X0 + 6000, Y0 + 6000))
    cells = origins(10, 4)
    engine = CommuteEngine(fake_model(cells, cells[:1]), snapshot=snap)
    target = np.array([X0 + 800.0, Y0 + 800.0])
    tlon, tlat = lonlat(target[0], target[1])
    res = engine.times(float(tlat), float(tlon), "bike")
    assert (res.approximate, res.network, res.method.code) == (False, "walk", "network_fallback")
    g = engine.graph("bike")
    assert g is not None
    np.testing.assert_allclose(res.cells.to_numpy(), brute_force(g, cells, target, "bike"),
                               rtol=1e-9)
    assert render(res.method, "en") == "bike distances along the walk network"
    # no drive network: the car is approximate
    car = engine.times(float(tlat), float(tlon), "car")
    assert car.approximate and car.network is None and car.method.code == "no_network"


# -- straight line ---------------------------------------------------------------------------
def test_straight_line_minutes_derived_by_hand() -> None:
    """3,000 m east and 4,000 m north of a cell is 5,000 m straight: walk 5,000 x 1.3 m at
    80 m/min = 81.25 min, bike 6,500 m at 250 m/min = 26 min, car 7,000 m at 833.3 m/min =
    8.4 min; the target's own cell (10 m away) 0.1625 / 0.052 / 0.0168 min."""
    cells = np.array([[X0, Y0], [X0 + 3000.0 - 10.0, Y0 + 4000.0]])
    model = fake_model(cells, cells[:1])
    tlon, tlat = lonlat(X0 + 3000.0, Y0 + 4000.0)
    engine = CommuteEngine(model)
    want = {"walk": (81.25, 0.1625), "bike": (26.0, 0.052), "car": (8.4, 0.0168)}
    for mode, (far, near) in want.items():
        res = engine.times(float(tlat), float(tlon), mode)
        assert isinstance(res, CommuteTimes) and res.approximate and res.network is None
        assert res.method.code == "no_network"
        assert res.cells.to_numpy() == pytest.approx([far, near], rel=1e-6)
        assert res.localities.to_dict() == pytest.approx({"L0": far}, rel=1e-6)
    res = travel_times(model, float(tlat), float(tlon), "bike")  # the one-call form agrees
    assert res.cells.to_numpy() == pytest.approx([26.0, 0.052], rel=1e-6)
    assert render(res.method, "en") == \
        "no bike network loaded: straight-line distance x 1.3 (approximate)"
    assert render(res.method, "sv") == "inget cykelnät inläst: fågelvägen x 1,3 (ungefärligt)"
    assert res.within(26.5).to_dict() == {"L0": True}
    assert res.within(25.5).to_dict() == {"L0": False}


def test_municipality_of_the_target() -> None:
    snap = FakeSnapshot({}, (X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000))
    cells = origins(5, 5)
    engine = CommuteEngine(fake_model(cells, cells[:1]), snapshot=snap)
    west, east = lonlat(X0 - 2000.0, Y0), lonlat(X0 + 2000.0, Y0)
    assert engine.times(float(west[1]), float(west[0]), "walk").municipality == "9901"
    assert engine.times(float(east[1]), float(east[0]), "walk").municipality == "9902"
    beyond = lonlat(X0 + 9000.0, Y0)  # 4 km outside: allowed, in no municipality
    res = engine.times(float(beyond[1]), float(beyond[0]), "walk")
    # (the box's corners are lon/lat: its edge is not exactly 4,000 m away)
    assert res.municipality is None and res.outside_m == pytest.approx(4000.0, abs=25)
    # without a snapshot: the nearest cell's municipality when the target is on it
    model = fake_model(np.array([[X0, Y0], [X0 + 5000.0, Y0]]), np.array([[X0, Y0]]),
                       munis=["1080", "1081"])
    alone = CommuteEngine(model)
    on = lonlat(X0 + 5000.0 + 100.0, Y0)
    off = lonlat(X0 + 2500.0, Y0)
    assert alone.times(float(on[1]), float(on[0]), "car").municipality == "1081"
    assert alone.times(float(off[1]), float(off[0]), "car").municipality is None


# -- where a target may be -------------------------------------------------------------------
def test_target_outside_the_region_buffer_is_refused_in_en_and_sv() -> None:
    snap = FakeSnapshot({}, (X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000))
    cells = origins(5, 6)
    engine = CommuteEngine(fake_model(cells, cells[:1]), snapshot=snap)
    assert OUTSIDE_BUFFER_M == 30_000.0
    inside = lonlat(X0 + 5000.0 + 29_000.0, Y0)  # 29 km beyond the east edge: still a commute
    assert engine.times(float(inside[1]), float(inside[0]), "car").outside_m == \
        pytest.approx(29_000.0, abs=200)
    lon, lat = lonlat(X0 + 5000.0 + 41_000.0, Y0)  # 41 km beyond
    with pytest.raises(LivabilityError) as err:
        engine.times(float(lat), float(lon), "car")
    assert err.value.message is not None and err.value.message.code == "commute_outside"  # type: ignore[attr-defined]
    en, sv = err.value.render("en"), err.value.render("sv")
    la, lo = round(float(lat), 4), round(float(lon), 4)
    assert en == (f"the commute target ({la}° N, {lo}° E) lies 41 km outside Synthland; choose a "
                  "workplace or school inside the region or at most 30 km beyond its border")
    assert sv == (f"pendlingsmålet ({str(la).replace('.', ',')}° N, {str(lo).replace('.', ',')}° O)"
                  " ligger 41 km utanför Synthland; välj en arbetsplats eller skola i regionen "
                  "eller högst 30 km utanför dess gräns")
    assert str(err.value) == en


def test_bad_mode_and_bad_point_are_clear_errors() -> None:
    cells = origins(3, 7)
    engine = CommuteEngine(fake_model(cells, cells[:1]))
    lon, lat = lonlat(X0, Y0)
    with pytest.raises(LivabilityError, match="no travel mode 'boat'; choose one of walk, bike, car"):
        engine.times(float(lat), float(lon), "boat")
    with pytest.raises(LivabilityError, match="is not a coordinate"):
        engine.times(float("nan"), float(lon), "walk")
    with pytest.raises(LivabilityError) as err:
        engine.times(float(lat), 500.0, "walk")
    assert "är ingen koordinat" in err.value.render("sv")


def test_synthetic_store_snapshot_and_model(tmp_path: Path) -> None:
    """A real (synthetic) store: the snapshot gives localities only, the model cells too; both
    agree on the localities; a target beyond the county is refused."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from _app_fixtures import PLACES, write_synthetic_store

    from geo.scoring import build_model
    from geo.store import open_snapshot

    data = write_synthetic_store(tmp_path)
    snap = open_snapshot("blekinge", data)
    model = build_model(snap)
    a = travel_times(snap, 56.21, 15.10, "bike")
    b = travel_times(model, 56.21, 15.10, "bike", snapshot=snap)
    assert len(a.cells) == 0 and len(b.cells) == len(model.cells) > 0
    assert a.localities.index.tolist() == [p[0] for p in PLACES]
    np.testing.assert_allclose(a.localities.to_numpy(),
                               b.localities.reindex(a.localities.index).to_numpy(), rtol=1e-9)
    assert a.approximate and a.municipality == "9901"
    with pytest.raises(LivabilityError, match="km outside Synthetic county"):
        travel_times(snap, 55.6, 13.0, "car")
