"""Live Overpass queries for a small Blekinge area (skipped without network)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from shapely.geometry import box

from geo.schema import FEATURE_COLUMNS
from geo.sources.osm import osm_online, osm_places_online

pytestmark = pytest.mark.network

#: About 1 km × 1 km around Ronneby railway station (15.2829 E, 56.2070 N).
RONNEBY = box(15.2829 - 0.0081, 56.2070 - 0.0045, 15.2829 + 0.0081, 56.2070 + 0.0045)


@pytest.fixture(scope="module")
def online() -> None:
    try:
        with socket.create_connection(("overpass-api.de", 443), timeout=3):
            pass
    except OSError as e:
        pytest.skip(f"no network to overpass-api.de: {e}")


@pytest.fixture(scope="module")
def ronneby(online: None, tmp_path_factory: pytest.TempPathFactory) -> object:
    cache: Path = tmp_path_factory.mktemp("overpass-cache")
    return osm_online(RONNEBY, layers=["transit", "schools", "services"], modes=("walk",),
                      cache_dir=cache)


def test_ronneby_features(ronneby: object) -> None:
    layers = ronneby.layers  # type: ignore[attr-defined]
    transit = layers["transit"]
    assert list(transit.columns[: len(FEATURE_COLUMNS) - 1]) == list(FEATURE_COLUMNS[:-1])
    stations = transit[transit["kind"] == "rail_station"]
    assert len(stations) >= 1
    assert stations["name"].fillna("").str.contains("Ronneby").any()
    assert (transit["kind"] == "bus_stop").sum() >= 3
    assert transit["uid"].str.fullmatch(r"osm:(node|way|relation)/\d+").all()
    assert (transit["license"] == "ODbL-1.0").all()
    assert "schools" in layers and "services" in layers


def test_ronneby_walk_network(ronneby: object) -> None:
    net = ronneby.networks["walk"]  # type: ignore[attr-defined]
    assert len(net.nodes) > 100 and len(net.edges) > 200
    assert net.nodes["x"].between(15.27, 15.30).all()
    pairs = set(zip(net.edges["u"], net.edges["v"], strict=True))
    assert all((v, u) in pairs for u, v in pairs)


def test_ronneby_places(online: None, tmp_path: Path) -> None:
    places = osm_places_online(box(15.20, 56.15, 15.35, 56.25), cache_dir=tmp_path)
    assert "Ronneby" in set(places["name"])
