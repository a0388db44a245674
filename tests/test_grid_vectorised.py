"""The vectorised grid build gives what the per-feature H3 calls give (synthetic fixtures)."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo.grid import _nearest_within, build_grid, cell_polygons, footprint_cells

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.scaling import fit_exponent, synthetic_grid_inputs  # noqa: E402


def _fill(poly: Polygon, res: int) -> list[str]:
    """The per-polygon reference: h3's string API."""
    shape = h3.LatLngPoly([(y, x) for x, y in poly.exterior.coords],
                          *[[(y, x) for x, y in r.coords] for r in poly.interiors])
    return list(h3.polygon_to_cells(shape, res))


def _reference_cells(geom: object, res: int) -> list[str]:
    """What a housing feature counts in, one geometry at a time (the definition)."""
    cells: list[str] = []
    for g in getattr(geom, "geoms", [geom]):
        if isinstance(g, Polygon):
            cells.extend(_fill(g, res))
    if not cells:
        p = geom.representative_point()  # type: ignore[attr-defined]
        cells.append(h3.latlng_to_cell(p.y, p.x, res))
    return cells


def _one_locality() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["A"], "population": [1000], "area_ha": [300.0],
                             "municipality": ["0001"]}, geometry=[Point(15.0, 56.0)],
                            crs="EPSG:4326")


def test_housing_counts_match_per_feature_cells() -> None:
    big = box(14.99, 55.995, 15.005, 56.003)
    tiny = box(15.0101, 56.0101, 15.01012, 56.01012)  # holds no cell centre
    holed = Polygon(box(14.97, 55.99, 14.985, 56.0).exterior.coords,
                    [box(14.975, 55.993, 14.98, 55.997).exterior.coords])
    geoms = [Point(15.001, 56.001), Point(15.001, 56.001), big, MultiPolygon([big, tiny]), tiny,
             LineString([(15.02, 56.02), (15.03, 56.02)]), holed, Point(15.5, 56.3)]
    housing = gpd.GeoDataFrame({"kind": ["house", "apartments", "residential_area",
                                         "residential_area", "residential_building", "house",
                                         "residential_area", "house"]},
                               geometry=geoms, crs="EPSG:4326")
    extra = gpd.GeoDataFrame({"kind": ["house", "shop"]},
                             geometry=[None, Point(15.0, 56.0)], crs="EPSG:4326")
    cells = build_grid(_one_locality(), housing=pd.concat([housing, extra], ignore_index=True))
    expected = pd.Series([c for g in geoms for c in _reference_cells(g, 9)]).value_counts()
    got = cells.set_index("h3")["n_housing"]
    assert got[got > 0].sort_index().to_dict() == expected.astype(float).sort_index().to_dict()
    assert got.sum() == expected.sum()  # the null geometry and the shop count nowhere


def test_footprint_cells_inside_touched_and_point() -> None:
    big = Point(15.0, 56.0).buffer(0.01, 16)
    tiny = box(15.05, 56.05, 15.05002, 56.05002)
    point = Point(15.2, 56.2)
    got = footprint_cells(MultiPolygon([big, tiny]), point, 9)
    inside = _fill(big, 9)
    touched = {h3.latlng_to_cell(56.05, 15.05, 9)}
    assert {c for c, how in got.items() if how == 0} == set(inside)
    assert {c for c, how in got.items() if how == 2} == touched - set(inside)
    assert {c for c, how in got.items() if how == 1} == {h3.latlng_to_cell(56.2, 15.2, 9)}
    assert list(got)[: len(inside)] == inside  # h3's order kept
    no_touch = footprint_cells(MultiPolygon([big, tiny]), point, 9, touch=False)
    assert sorted(no_touch.values()) == [0] * len(inside) + [1]


def test_nearest_within_equals_query_nearest_with_ties() -> None:
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 5000, (60, 2))
    polys = shapely.buffer(shapely.points(centres), rng.uniform(100, 600, 60))
    pts = shapely.points(np.vstack([rng.uniform(-500, 5500, (400, 2)), centres[:10]]))
    ours = _nearest_within(polys, pts, 700.0)
    ref = shapely.STRtree(polys).query_nearest(pts, max_distance=700.0, all_matches=False)
    assert ours[0].tolist() == ref[0].tolist() and ours[1].tolist() == ref[1].tolist()
    assert len(ref[0]) > 300  # most points are within reach, ties at 0 m among them
    empty = _nearest_within(polys, shapely.points([[90_000.0, 90_000.0]]), 700.0)
    assert len(empty[0]) == 0 and len(empty[1]) == 0


def test_cell_polygons_equal_per_cell_polygons() -> None:
    ids = [*h3.grid_disk(h3.latlng_to_cell(56.1, 15.5, 9), 3), h3.get_pentagons(9)[0],
           h3.get_pentagons(8)[0], *h3.grid_disk(h3.latlng_to_cell(0.0, 0.0, 3), 8)]
    # pentagons: 5 (class II) and 10 vertices (class III); res-3 cells near faces: 7-8
    got = cell_polygons(pd.Series(ids, index=np.arange(len(ids)) + 100))
    ref = [Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in ids]
    assert got.index.tolist() == list(range(len(ids)))
    assert got.to_wkb().tolist() == [p.wkb for p in ref]
    assert {len(h3.cell_to_boundary(c)) for c in ids} >= {5, 6, 7, 10}
    assert len(cell_polygons([])) == 0


def test_grid_rows_are_their_cells_centres_and_weights_add_up() -> None:
    loc, housing, fps, munis = synthetic_grid_inputs(1500, seed=5)
    cells = build_grid(loc, housing=housing, footprints=fps, municipalities=munis)
    assert cells["h3"].is_unique and len(cells) > 1000
    centres = np.array([h3.cell_to_latlng(c) for c in cells["h3"]])
    assert np.array_equal(centres[:, 0], cells["lat"].to_numpy())
    assert np.array_equal(centres[:, 1], cells["lon"].to_numpy())
    assert all(type(c) is str for c in cells["h3"]) and all(
        m is None or type(m) is str for m in cells["municipality"])
    per = cells.groupby("locality")["weight"].sum()
    pop = loc.set_index("code")["population"].astype(float)
    assert per.to_dict() == pytest.approx(pop[per.index].to_dict())
    assert (cells.loc[cells["locality"].isna(), "weight"] == 0).all()
    assert cells["municipality"].notna().all()


def test_fit_exponent_recovers_a_power_law() -> None:
    sizes = [2_000, 12_000, 80_000, 500_000]
    assert fit_exponent(sizes, [3e-6 * n**1.25 for n in sizes]) == pytest.approx(1.25)
    assert fit_exponent(sizes, [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.slow  # spawns a child process per size (~12 s), like the other benchmark runs
def test_scaling_suite_quick_rows() -> None:
    """`python -m benchmarks --quick --only scaling`'s rows: 2 tiny sizes per series + the fit."""
    from benchmarks.scaling import run

    rows = run(quick=True)
    series = ["graph build", "nearest kernel", "indicators", "build_grid", "score"]
    fits = [r for r in rows if "exponent" in r.extra]
    timed = [r for r in rows if "exponent" not in r.extra]
    assert [r.extra["series"] for r in fits] == series
    assert [r.extra["series"] for r in timed] == [s for s in series for _ in range(2)]
    assert all(r.data.startswith("SYNTHETIC ") for r in rows)
    assert all(len(r.times) >= 2 and r.median > 0 for r in timed)
    assert all(r.peak_rss_mb is not None and r.peak_rss_mb > 50 for r in timed)  # child RSS, MiB
    assert all(np.isfinite(r.extra["exponent"]) and r.name.startswith(f"scaling {r.extra['series']}: time ~ ")
               for r in fits)
    assert timed[0].extra["size"] < timed[1].extra["size"]
