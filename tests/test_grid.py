"""The H3 grid: cells over localities only, population spread over them, housing weights."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.grid import build_grid, cell_polygons


def localities(rows: list[tuple[str, float, float, float, float, str]]) -> gpd.GeoDataFrame:
    """Synthetic test localities: (code, lon, lat, population, area_ha, municipality)."""
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "population": [r[3] for r in rows],
         "area_ha": [r[4] for r in rows], "municipality": [r[5] for r in rows]},
        geometry=[Point(r[1], r[2]) for r in rows], crs="EPSG:4326")


def test_disc_of_locality_area_is_covered() -> None:
    loc = localities([("A", 15.0, 56.0, 1000, 500.0, "0001")])
    cells = build_grid(loc, resolution=9)
    # a 500 ha disc holds about 500 / 10.5 cells of resolution 9
    avg_ha = h3.average_hexagon_area(9, unit="km^2") * 100
    assert len(cells) == pytest.approx(500 / avg_ha, rel=0.2)
    assert (cells["locality"] == "A").all()
    assert cells["weight"].sum() == pytest.approx(1000)
    assert np.allclose(cells["weight"], 1000 / len(cells))  # evenly without housing data
    assert h3.latlng_to_cell(56.0, 15.0, 9) in set(cells["h3"])


def test_tiny_locality_gets_its_own_cell() -> None:
    loc = localities([("A", 15.0, 56.0, 250, 0.5, "0001")])
    cells = build_grid(loc)
    assert cells["h3"].tolist() == [h3.latlng_to_cell(56.0, 15.0, 9)]
    assert cells["weight"].tolist() == [250]


def test_overlapping_discs_go_to_nearest_centre() -> None:
    loc = localities([("A", 15.0, 56.0, 100, 400.0, "0001"),
                      ("B", 15.01, 56.0, 300, 400.0, "0002")])
    cells = build_grid(loc)
    assert cells["h3"].is_unique
    for row in cells.itertuples():
        da = np.hypot(row.lon - 15.0, row.lat - 56.0)
        db = np.hypot(row.lon - 15.01, row.lat - 56.0)
        assert row.locality == ("A" if da < db else "B")
    assert cells.groupby("locality")["weight"].sum().to_dict() == pytest.approx({"A": 100, "B": 300})
    assert set(cells["municipality"]) == {"0001", "0002"}


def test_housing_weights_and_rural_cells() -> None:
    loc = localities([("A", 15.0, 56.0, 900, 200.0, "0001")])
    c0 = h3.latlng_to_cell(56.0, 15.0, 9)
    lat0, lon0 = h3.cell_to_latlng(c0)
    far = (15.5, 56.3)  # ~35 km away: a rural house
    housing = gpd.GeoDataFrame(
        {"kind": ["house", "house", "apartments", "house", "park"]},
        geometry=[Point(lon0, lat0), Point(lon0 + 1e-5, lat0), Point(lon0, lat0 + 1e-5),
                  Point(*far), Point(lon0, lat0)], crs="EPSG:4326")
    cells = build_grid(loc, housing=housing).set_index("h3")
    assert cells.loc[c0, "n_housing"] == 3  # the park does not count
    # all of A's population sits in the one cell with housing
    assert cells.loc[c0, "weight"] == pytest.approx(900)
    rural = cells.loc[h3.latlng_to_cell(far[1], far[0], 9)]
    assert pd.isna(rural["locality"]) and rural["weight"] == 0
    assert rural["municipality"] == "0001"


def test_empty_and_polygons() -> None:
    assert build_grid(localities([])).empty
    polys = cell_polygons([h3.latlng_to_cell(56.0, 15.0, 9)])
    assert polys.iloc[0].contains(Point(15.0, 56.0))
