"""Gap items placed by their locality bound the nearest distance (geo.gapbounds).

SYNTHETIC places and amenities in this file (invented names, boxes in the work CRS).
"""

from __future__ import annotations

import doctest

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

import geo.gapbounds as gb
from geo.access import DETOUR, DistanceEngine, compute_indicator, select_for
from geo.schema import Provenance, conform
from geo.settings import WORK_CRS
from layers import get_indicator

PROV = Provenance(source="unit test (synthetic)", license="CC0-1.0", date="2026", coverage="partial")
GAP = "Storsjukhuset Askby (hospital)"


def _towns(*names: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": list(names), "code": [f"c{i}" for i in range(len(names))]},
                            geometry=[box(i * 50_000, 0, i * 50_000 + 4_000, 3_000)
                                      for i in range(len(names))], crs=WORK_CRS)


def _hospitals() -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame({"name": ["Far hospital"], "kind": ["hospital"]},
                         geometry=[Point(400_000, 0)], crs=WORK_CRS)
    return conform(g, "services", PROV)


def test_doctests() -> None:
    assert doctest.testmod(gb).failed == 0


def test_bound_is_an_upper_bound_of_any_position_inside() -> None:
    [b] = gb.gap_bounds([(GAP, "hospital")], _towns("Askby", "Byn"))
    assert b.place == "Askby" and b.code == "c0" and b.name == "Storsjukhuset Askby"
    rng = np.random.default_rng(7)
    pts = rng.uniform(-30_000, 30_000, size=(500, 2))
    bound = gb.bound_distances(pts, b, DETOUR["car"])
    for _ in range(50):  # wherever in the outline the hospital is, the bound holds
        h = rng.uniform([0, 0], [4_000, 3_000])
        assert (np.hypot(*(pts - h).T) * DETOUR["car"] <= bound + 1e-6).all()
    # and it is not loose beyond the outline's size plus the margin
    assert (bound <= (np.hypot(*(pts - [2_000, 1_500]).T) + 2_500 + gb.BOUND_MARGIN_M * 1.5)
            * DETOUR["car"]).all()


@pytest.mark.parametrize("towns, gap", [
    (("Askby", "Askby"), GAP),                      # two places share the name: ambiguous
    (("Byn",), GAP),                                # names no place
    (("Ask",), GAP),                                # a word inside another is no match
])
def test_no_bound_when_the_place_is_not_certain(towns: tuple[str, ...], gap: str) -> None:
    assert gb.gap_bounds([(gap, "hospital")], _towns(*towns)) == []


def test_longest_name_wins() -> None:
    t = _towns("Askby", "Askby strand")
    [b] = gb.gap_bounds([("Sjukhuset Askby strand (hospital)", "hospital")], t)
    assert b.place == "Askby strand"


def test_nearest_takes_the_bound_only_where_it_is_nearer_and_without_a_network() -> None:
    ind = get_indicator("services.hospital")
    layer = _hospitals()
    towns = _towns("Askby")
    sel = select_for(ind, layer, None, [GAP], towns)
    assert sel.partial and [b.place for b in sel.bounds] == ["Askby"]
    pts = np.array([[2_000.0, 1_500.0], [399_000.0, 0.0]])
    res = compute_indicator(ind, DistanceEngine(pts), layer=layer, gaps=[GAP], places=towns)
    bound = gb.bound_distances(pts[:1], sel.bounds[0], DETOUR[ind.mode])[0]
    assert res.raw[0] == pytest.approx(bound) and res.raw[0] < 5_000
    assert res.amenities.iloc[res.nearest[0]]["within"] == "Askby"
    assert np.isnan(res.amenities.iloc[res.nearest[0]]["lat"])
    assert res.raw[1] == pytest.approx(1_000 * DETOUR[ind.mode])  # the known one is nearer
    assert res.amenities.iloc[res.nearest[1]]["name"] == "Far hospital"
    plain = compute_indicator(ind, DistanceEngine(pts), layer=layer, gaps=[GAP])
    assert plain.raw[0] > 390_000  # without the outlines: the known one only
    assert (res.score >= plain.score).all()  # a bound can only raise the lower-bound score


def test_misplaced_flags_a_name_far_outside_its_locality_only() -> None:
    """A name giving a locality it lies 2-15 km outside, inside another locality, is flagged;
    inside, near, far (another place of that name), ambiguous, unnamed or a skipped
    (municipality) name is not, nor one outside every locality (a resort named after the town
    near it)."""
    from shapely.geometry import box

    from geo.gapbounds import MISPLACED_M, MISPLACED_MAX_M, misplaced

    towns = gpd.GeoDataFrame({"name": ["Nättraby", "Haga", "Haga", "Vara", "Karlskrona",
                                       "Skara"],
                              "code": ["a", "b", "c", "d", "e", "f"]},
                             geometry=[box(0, 0, 1000, 1000), box(50_000, 0, 51_000, 1000),
                                       box(90_000, 0, 91_000, 1000), box(0, 60_000, 1000, 61_000),
                                       box(4000, 0, 9000, 5000), box(5000, 60_000, 9000, 64_000)],
                             crs=WORK_CRS)
    names = ["Nättraby vårdcentral", "Nättraby skola", "Nättraby förskola", "Nättraby apotek",
             "Haga förskola", "Broholmskolan Vara", None, "Vårdcentralen", "Nättraby Fjällby"]
    xy = np.array([[1000 + 3900.0, 500], [1000 + 0.5 * MISPLACED_M, 500], [500, 500],
                   [1000 + MISPLACED_MAX_M + 1, 500], [60_000, 500], [1000 + 5000.0, 60_500],
                   [5000, 500], [5000, 500], [500, 1000 + 5000.0]])
    got = misplaced(names, xy, towns, skip={"vara"})
    assert got[0] is not None and got[0][0] == "Nättraby" and abs(got[0][1] - 3900.0) < 1e-6
    assert got[1:] == [None] * 8  # [8]: 5 km away but inside no locality
    assert misplaced(names, xy, towns)[5] == ("Vara", 5000.0)  # not skipped: flagged (in Skara)
    assert misplaced(names, xy, None) == [None] * len(names)


def test_misplaced_leaves_a_district_name_of_the_town_they_lie_in() -> None:
    """Features at two or more positions inside one other locality, all named after the same
    village, carry a district name of that town (Angered in Göteborg): none is flagged. Two at one
    position (a source that put both on one point) and one alone still are."""
    from shapely.geometry import box

    from geo.gapbounds import misplaced

    towns = gpd.GeoDataFrame({"name": ["Angered", "Göteborg", "Nättraby", "Karlskrona"],
                              "code": ["a", "b", "c", "d"]},
                             geometry=[box(0, 0, 1000, 1000), box(3000, 0, 20_000, 10_000),
                                       box(50_000, 0, 51_000, 1000),
                                       box(54_000, 0, 60_000, 5000)], crs=WORK_CRS)
    names = ["Gårdsten Vårdcentral, Angered", "Närhälsan Hjällbo vårdcentral, Angered",
             "Nättraby vårdcentral", "Nättraby BVC", "Angered apotek"]
    xy = np.array([[4000.0, 500], [4500, 3000], [55_000, 500], [55_000, 500], [4000, 500]])
    got = misplaced(names, xy, towns)
    assert got[:2] == [None, None] and got[4] is None
    assert [g[0] if g else None for g in got[2:4]] == ["Nättraby", "Nättraby"]
    assert misplaced(names[:1], xy[:1], towns) == [("Angered", 3000.0)]  # alone: flagged
