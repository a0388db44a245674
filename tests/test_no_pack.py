"""Offline with no pack and no OSM extract: GeoNames towns, nothing scored, the app still works."""

from __future__ import annotations

from pathlib import Path

import pytest
from _app_fixtures import run_app

from geo.build import build_region


@pytest.fixture(scope="module")
def bare_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("bare")
    build_region("blekinge", offline=True, data=data, default_packs=False)
    return data


def test_geonames_fallback_keeps_coastal_towns(bare_store: Path) -> None:
    from geo.store import open_snapshot

    snap = open_snapshot("blekinge", bare_store)
    loc = snap.localities()
    assert len(loc) == 17
    # Karlskrona's GeoNames point lies on Trossö, outside the simplified municipality polygon
    assert loc.iloc[0][["name", "municipality"]].tolist() == ["Karlskrona", "1080"]
    assert set(loc["municipality"]) == {"1060", "1080", "1081", "1082", "1083"}
    prov = snap.manifest["base"]["localities"]["sources"][0]
    assert prov["coverage"] == "partial" and "GeoNames" in prov["source"]
    assert all(snap.layer_status(k).coverage == "missing" for k in snap.layer_keys())


def test_app_map_says_nothing_is_scored(bare_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_app(monkeypatch, bare_store)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]  # the map drew (no error panel)
    assert any("No indicator has data" in w.value for w in at.warning)
    sv = run_app(monkeypatch, bare_store, lang="sv")
    assert not sv.exception and any("Ingen indikator har data" in w.value for w in sv.warning)
