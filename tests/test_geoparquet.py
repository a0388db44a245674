"""geo.geoparquet.read_geoparquet gives what geopandas.read_parquet gives, CRS parsed once."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from pandas.testing import assert_frame_equal
from shapely.geometry import LineString, Point, Polygon

from geo import geoparquet
from geo.geoparquet import read_geoparquet


def _frame(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["a", None, "Å"], "n": [1, 2, 3], "x": [0.5, float("nan"), 2.0]},
        geometry=[Point(15.6, 56.2), LineString([(15, 56), (16, 57)]),
                  Polygon([(15, 56), (16, 56), (16, 57)])], crs=crs)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3006", None])
def test_same_frame_as_geopandas(tmp_path: Path, crs: object) -> None:
    src = _frame(crs)
    if crs == "EPSG:3006":
        src = src.set_crs(None, allow_override=True).set_crs(crs)
    path = tmp_path / "f.parquet"
    src.to_parquet(path, index=False)
    ours, theirs = read_geoparquet(path), gpd.read_parquet(path)
    assert ours.crs == theirs.crs
    assert ours.geometry.name == theirs.geometry.name
    assert list(ours.dtypes) == list(theirs.dtypes)
    assert_frame_equal(ours.to_wkb(), theirs.to_wkb())


def test_crs_parsed_once_per_text(tmp_path: Path) -> None:
    geoparquet._crs.cache_clear()
    for i in range(5):
        _frame("EPSG:4326").to_parquet(tmp_path / f"{i}.parquet", index=False)
        read_geoparquet(tmp_path / f"{i}.parquet")
    info = geoparquet._crs.cache_info()
    assert (info.misses, info.hits) == (1, 4)


def test_non_geo_parquet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    _frame("EPSG:4326").drop(columns="geometry").to_parquet(path)
    with pytest.raises(ValueError, match="geo"):
        read_geoparquet(path)
