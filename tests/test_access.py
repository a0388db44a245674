"""Indicators on hand-made point sets: decays, straight-line and network distances, counts, stats."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.access import (
    DECAYS,
    DETOUR,
    DistanceEngine,
    compute_indicator,
    decay_score,
    select_amenities,
    stat_by_municipality,
)
from geo.network import StreetGraph
from layers import Indicator

CRS = "EPSG:3006"


def layer(geoms: list, kinds: list[str], names: list[str | None], values=None):  # type: ignore[no-untyped-def]
    """A synthetic test layer in the metric CRS (the engine reprojects whatever it gets)."""
    return gpd.GeoDataFrame({"kind": kinds, "name": names, "uid": [f"t:{i}" for i in range(len(kinds))],
                             "value": values if values is not None else [np.nan] * len(kinds),
                             "coverage": ["complete"] * len(kinds)}, geometry=geoms, crs=CRS)


def test_decay_values() -> None:
    t = 500.0
    assert decay_score(np.array([500.0]), "logistic", t)[0] == pytest.approx(50.0)
    assert decay_score(np.array([0.0]), "logistic", t)[0] == pytest.approx(100 / (1 + np.exp(-5)))
    assert decay_score(np.array([1000.0]), "logistic", t)[0] == pytest.approx(100 / (1 + np.exp(5)))
    assert decay_score(np.array([0.0, 750.0, 1500.0, 3000.0]), "linear", t).tolist() == \
        pytest.approx([100.0, 50.0, 0.0, 0.0])
    assert decay_score(np.array([250.0]), "linear", t, max_m=1000.0)[0] == pytest.approx(75.0)
    assert decay_score(np.array([0.0, 500.0, 1000.0]), "exponential", t).tolist() == \
        pytest.approx([100.0, 50.0, 25.0])
    assert decay_score(np.array([500.0, 501.0]), "step", t).tolist() == [100.0, 0.0]
    for name in DECAYS:  # unreachable scores 0, unknown stays unknown
        out = decay_score(np.array([np.inf, np.nan]), name, t)
        assert out[0] == 0.0 and np.isnan(out[1])


def test_straight_line_nearest_with_detour() -> None:
    eng = DistanceEngine(np.array([[0.0, 0.0], [1000.0, 0.0]]))
    amen, _ = select_amenities(layer([Point(300, 400), Point(1000, 100)], ["school", "school"],
                                     ["Near skola", "East skola"]), ("school",))
    d, which = eng.nearest("walk", amen)
    assert d.tolist() == pytest.approx([500 * DETOUR["walk"], 100 * DETOUR["walk"]])
    assert which.tolist() == [0, 1]
    assert eng.approximate("walk")


def test_polygon_amenity_distance_to_edge_and_inside() -> None:
    park = box(100, -50, 300, 50)  # 2 ha
    small = box(-20, 500, 0, 520)  # 0.04 ha, too small
    pts = np.array([[0.0, 0.0], [200.0, 0.0], [-10.0, 510.0]])
    eng = DistanceEngine(pts)
    amen, notes = select_amenities(layer([park, small], ["park", "park"], ["Big park", "Tiny"]),
                                   ("park",), min_area_ha=1.5)
    assert len(amen) == 1 and "1 areas under 1.5 ha left out" in [str(n) for n in notes]
    d, which = eng.nearest("walk", amen)
    assert d[0] == pytest.approx(100 * 1.3)  # to the outline, not the centroid
    assert d[1] == 0.0 and which[1] == 0  # inside
    assert which[2] == 0


def test_network_nearest_adds_both_snap_distances() -> None:
    nodes = pd.DataFrame({"node": [1, 2, 3, 4], "x": [0.0, 100, 200, 300], "y": [0.0] * 4})
    edges = pd.DataFrame({"u": [1, 2, 3], "v": [2, 3, 4], "length": [100.0, 100, 100]})
    g = StreetGraph.from_frames(nodes, edges, projected=True)
    eng = DistanceEngine(np.array([[0.0, 10.0], [210.0, -20.0]]), graphs={"walk": g})
    amen, _ = select_amenities(layer([Point(300, 5), Point(-1000, 0)], ["grocery", "grocery"],
                                     ["Shop E", "Shop W"]), ("grocery",))
    d, which = eng.nearest("walk", amen)
    # point 0: 10 (snap) + 300 (network) + 5 (amenity snap) = 315 to Shop E, vs 10 + 1000 to Shop W
    assert d[0] == pytest.approx(315.0) and which[0] == 0
    assert d[1] == pytest.approx(np.hypot(10, 20) + 100 + 5)
    assert not eng.approximate("walk")


def test_unreachable_scores_zero_not_missing() -> None:
    nodes = pd.DataFrame({"node": [1, 2, 3, 4], "x": [0.0, 100, 5000, 5100], "y": [0.0] * 4})
    edges = pd.DataFrame({"u": [1, 3], "v": [2, 4], "length": [100.0, 100.0]})
    g = StreetGraph.from_frames(nodes, edges, projected=True)
    eng = DistanceEngine(np.array([[0.0, 0.0]]), graphs={"walk": g})
    ind = Indicator("services.grocery", kinds=("grocery",), threshold_m=800)
    res = compute_indicator(ind, eng, layer=layer([Point(5100, 0)], ["grocery"], ["Far"]))
    assert not res.missing
    assert np.isinf(res.raw[0]) and res.score[0] == 0.0


def test_count_within_budget_straight_line() -> None:
    eng = DistanceEngine(np.array([[0.0, 0.0]]))
    pts = [Point(x, 0) for x in (1000.0, 5000.0, 20000.0, 40000.0)]
    amen, _ = select_amenities(layer(pts, ["office"] * 4, [None] * 4), ("office",))
    # 30 min by car at 50 km/h = 25 km of (1.4 x straight line): within 17.86 km straight
    ind = Indicator("workplaces.jobs", measure="count", kinds=("office",), mode="car",
                    budget_min=30, target_count=4)
    res = compute_indicator(ind, eng, layer=layer(pts, ["office"] * 4, [None] * 4))
    assert res.raw[0] == 2 and res.score[0] == pytest.approx(50.0)
    assert eng.count_within("car", amen, 40000 * 1.4)[0] == 4


def test_missing_layer_is_missing_with_reason() -> None:
    eng = DistanceEngine(np.array([[0.0, 0.0]]))
    ind = Indicator("transit.bus", kinds=("bus_stop",))
    res = compute_indicator(ind, eng, layer=None)
    assert res.missing and np.isnan(res.score[0])
    assert "bus stop" in str(res.reason) and "not loaded" in str(res.reason)
    res2 = compute_indicator(ind, eng, layer=layer([Point(0, 0)], ["rail_station"], ["St"]))
    assert res2.missing and "(it has: rail station)" in str(res2.reason)


def test_departures_weight_transit() -> None:
    eng = DistanceEngine(np.array([[0.0, 0.0]]))
    stops = layer([Point(100, 0), Point(300, 0)], ["bus_stop", "bus_stop"], ["Rare", "Frequent"],
                  values=[0.5, 6.0])
    ind = Indicator("transit.bus", kinds=("bus_stop",), threshold_m=400,
                    decay="logistic")
    res = compute_indicator(ind, eng, layer=stops)
    near_rare = 0.25 * decay_score(np.array([130.0]), "logistic", 400)[0]
    far_freq = 1.0 * decay_score(np.array([390.0]), "logistic", 400)[0]
    assert res.score[0] == pytest.approx(max(near_rare, far_freq))
    assert res.raw[0] == pytest.approx(130.0) and res.nearest[0] == 0
    assert res.rescore("linear")[0] == pytest.approx(
        max(0.25 * (1 - 130 / 1200), 1 - 390 / 1200) * 100)


def test_stat_latest_positive_year_and_normalisation() -> None:
    table = pd.DataFrame({"municipality": ["0001", "0001", "0002", "0002", "0003"],
                          "year": [2020, 2021, 2020, 2021, 2021],
                          "value": [900.0, 1000.0, 800.0, 0.0, 1200.0]})
    vals, col = stat_by_municipality(table, "value")
    assert vals.to_dict() == {"0001": 1000.0, "0002": 800.0, "0003": 1200.0} and col == "value"
    eng = DistanceEngine(np.zeros((3, 2)))
    ind = Indicator("housing.rent", measure="stat", table="rent", column="value",
                    higher_is_better=False)
    # every municipality of the table is compared (0003 too, though no point lies in it)
    res = compute_indicator(ind, eng, table=table, municipalities=np.array(["0001", "0002", "0009"]))
    assert res.raw[:2].tolist() == [1000.0, 800.0]
    z = 200 / np.std([1000.0, 800.0, 1200.0])
    assert res.score[:2].tolist() == pytest.approx([50.0, 50 + 20 * z])  # 0001 is at the mean
    assert np.isnan(res.raw[2]) and np.isnan(res.score[2])  # no value for 0009: NaN, not 50
    assert {"code": "stat_no_value_for", "municipalities": ["0009"], "table": "rent"} in \
        [m.to_dict() for m in res.notes]
    three = compute_indicator(ind, eng, table=table, municipalities=np.array(["0001", "0002", "0003"]))
    assert three.score.tolist() == pytest.approx([50.0, 50 + 20 * z, 50 - 20 * z])
    single = table[table["municipality"] == "0002"]
    one = compute_indicator(ind, eng, table=single, municipalities=np.array(["0002"] * 3))
    assert one.score.tolist() == [50.0, 50.0, 50.0]
    none = compute_indicator(ind, eng, table=None, municipalities=np.array(["0001"] * 3))
    assert none.missing and "not loaded" in str(none.reason)
