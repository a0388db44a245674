"""Regions: counties and municipalities by name or code, polygon files, clear errors."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo.errors import DataSourceError, OfflineError, RegionNotFoundError
from geo.regions import assign_municipality, counties, municipalities, resolve_region, slugify

BLEKINGE = {"1060": "Olofström", "1080": "Karlskrona", "1081": "Ronneby", "1082": "Karlshamn",
            "1083": "Sölvesborg"}


@pytest.mark.parametrize("spec", ["blekinge", "Blekinge län", "BLEKINGE", "10"])
def test_blekinge_county_by_name_or_code(spec: str) -> None:
    r = resolve_region(spec)
    assert (r.key, r.level, r.code, r.name) == ("blekinge", "county", "10", "Blekinge län")
    assert dict(zip(r.municipalities["code"], r.municipalities["name"])) == BLEKINGE
    minx, miny, maxx, maxy = r.polygon.bounds
    assert 14.3 < minx < 14.6 and 15.9 < maxx < 16.1 and 55.9 < miny < 56.1 and 56.4 < maxy < 56.7


def test_municipality_by_name_and_code() -> None:
    assert resolve_region("Karlskrona").code == "1080"
    r = resolve_region("1083")
    assert (r.name, r.level, list(r.municipalities["code"])) == ("Sölvesborg", "municipality", ["1083"])


def test_whole_country_tables() -> None:
    assert len(counties()) == 21
    assert len(municipalities()) == 290


@pytest.mark.parametrize("bad, hint", [("Blekinnge", "Blekinge län"), ("Karlskona", "Karlskrona")])
def test_unknown_region_names_close_matches(bad: str, hint: str) -> None:
    with pytest.raises(RegionNotFoundError) as err:
        resolve_region(bad)
    msg = str(err.value)
    assert bad in msg and hint in msg and "\n" not in msg


def test_unknown_code() -> None:
    with pytest.raises(RegionNotFoundError, match="Blekinge is 10"):
        resolve_region("99")


def test_osm_place_needs_network_when_offline() -> None:
    with pytest.raises(OfflineError):
        resolve_region("osm:Ronneby", offline=True)


def test_polygon_file_region(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "my_area.geojson"
    gpd.GeoDataFrame(geometry=[box(15.2, 56.15, 15.35, 56.25)], crs="EPSG:4326").to_file(f)
    r = resolve_region(f)
    assert (r.key, r.level) == ("my-area", "area")
    assert "1081" in set(r.municipalities["code"])  # Ronneby overlaps the box


def test_polygon_file_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataSourceError, match="does not exist"):
        resolve_region(tmp_path / "nope.geojson")
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(DataSourceError, match="not a readable polygon file"):
        resolve_region(broken)


def test_slugify() -> None:
    assert slugify("Blekinge län") == "blekinge"
    assert slugify("Stockholms län") == "stockholm"
    assert slugify("Sölvesborg") == "solvesborg"


def test_assign_by_nearest_boundary_keeps_islands() -> None:
    """Trossö (central Karlskrona) lies outside the simplified polygon but gets 1080."""
    mun = resolve_region("blekinge").municipalities
    pts = gpd.GeoDataFrame(
        geometry=[Point(15.5866, 56.1612), Point(14.5562, 56.0476), Point(10.0, 50.0)],
        index=[10, 11, 12], crs="EPSG:4326",
    )
    codes = assign_municipality(pts, mun, max_distance_m=2000)
    assert list(codes.index) == [10, 11, 12]
    assert codes.tolist() == ["1080", "1083", None]


@pytest.mark.parametrize("spec", ["sverige", "Sverige", "sweden", "Sweden", "SE", "se",
                                  "hela sverige", "Hela Sverige"])
def test_whole_country_by_any_name(spec: str) -> None:
    from geo.regions import region_key

    r = resolve_region(spec)
    assert (r.key, r.level, r.code, r.name) == ("sverige", "country", "SE", "Sverige")
    assert region_key(spec) == "sverige"
    assert sorted(r.municipalities["code"]) == sorted(municipalities()["code"])
    assert len(r.municipalities) == len(municipalities())
    # the polygon is the union of the counties: it covers every county and has their total area
    cty = counties()
    assert cty.geometry.representative_point().within(r.polygon).all()
    assert r.polygon.area == pytest.approx(cty.union_all().area, rel=1e-9)


def test_country_region_manifest_lists_every_municipality() -> None:
    d = resolve_region("Sverige").to_dict()
    assert d["level"] == "country" and d["code"] == "SE"
    assert d["municipalities"] == dict(zip(municipalities()["code"], municipalities()["name"]))


def test_a_county_still_resolves_beside_the_country() -> None:
    from geo.regions import region_key

    r = resolve_region("skane")
    assert (r.key, r.level, r.code) == ("skane", "county", "12")
    assert region_key("Skåne län") == "skane"
    assert set(r.municipalities["code"]) == set(municipalities().query("county == '12'")["code"])


def test_unknown_region_may_suggest_the_country() -> None:
    with pytest.raises(RegionNotFoundError) as err:
        resolve_region("Sverge")
    assert "Sverige" in str(err.value)
