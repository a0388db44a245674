"""The snapshot store: atomic writes, checksums, damage detection, clear errors."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo.errors import StoreError
from geo.messages import render, text
from geo.schema import Provenance, conform
from geo.store import SCHEMA_VERSION, list_snapshots, open_snapshot, write_snapshot

PROV = Provenance(source="unit test (synthetic)", license="CC0-1.0", date="2026", coverage="partial")
#: the one part of the synthetic schools (no municipality)
PART = "layers/schools/municipality=__none__/part-0.parquet"


def _layer(n: int) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame({"name": [f"s{i}" for i in range(n)], "kind": "school"},
                         geometry=[Point(15 + i / 100, 56) for i in range(n)], crs="EPSG:4326")
    return conform(g, "schools", PROV)


def _write(data, n: int = 3) -> None:  # type: ignore[no-untyped-def]
    with write_snapshot("demo", {"name": "Demo"}, data) as w:
        w.put_layer("schools", _layer(n), [PROV], "partial")
        w.put_layer("transit", _layer(0), [], "missing", text("no stops in this test"))


def _entries(data) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p.name for p in data.iterdir())


def test_roundtrip_and_status(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path)
    snap = open_snapshot("demo", tmp_path)
    assert list_snapshots(tmp_path) == ["demo"]
    assert len(snap.layer("schools")) == 3
    st = snap.layer_status("schools")
    assert (st.count, st.coverage, st.kinds) == (3, "partial", {"school": 3})
    assert st.sources[0].source == "unit test (synthetic)"
    missing = snap.layer_status("transit")
    assert (missing.count, missing.coverage) == (0, "missing")
    assert render(missing.reason) == "no stops in this test"
    assert snap.layer("transit").empty and "uid" in snap.layer("transit").columns
    assert render(snap.layer_status("nature").reason) == "not in this snapshot"


def test_failed_write_leaves_old_snapshot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, 3)
    before = (tmp_path / "demo" / "manifest.json").read_bytes()
    with pytest.raises(RuntimeError, match="simulated crash midway"), \
            write_snapshot("demo", {"name": "Demo"}, tmp_path) as w:
        w.put_layer("schools", _layer(5), [PROV], "partial")
        raise RuntimeError("simulated crash midway")
    assert (tmp_path / "demo" / "manifest.json").read_bytes() == before
    assert len(open_snapshot("demo", tmp_path).layer("schools")) == 3
    assert _entries(tmp_path) == [".locks", ".snapshots", "demo"]  # no temp folder left
    assert len(list((tmp_path / ".snapshots" / "demo").iterdir())) == 1


def test_rebuild_replaces(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, 3)
    _write(tmp_path, 7)
    assert len(open_snapshot("demo", tmp_path).layer("schools")) == 7
    assert _entries(tmp_path) == [".locks", ".snapshots", "demo"]
    assert len(list((tmp_path / ".snapshots" / "demo").iterdir())) == 1  # the old version is gone


def test_damaged_file_detected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path)
    f = tmp_path / "demo" / PART
    f.write_bytes(f.read_bytes()[:-20])
    with pytest.raises(StoreError, match=rf"damaged: {re.escape(PART)} \(checksum differs\)"):
        open_snapshot("demo", tmp_path)


def test_missing_file_and_bad_manifest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path)
    (tmp_path / "demo" / PART).unlink()
    with pytest.raises(StoreError, match="missing"):
        open_snapshot("demo", tmp_path)
    (tmp_path / "demo" / "manifest.json").write_text("{not json")
    with pytest.raises(StoreError, match="unreadable"):
        open_snapshot("demo", tmp_path)


def test_no_snapshot_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreError, match="livability build --region nowhere"):
        open_snapshot("nowhere", tmp_path)


def test_manifest_contents(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path)
    m = json.loads((tmp_path / "demo" / "manifest.json").read_text())
    assert m["crs"] == "EPSG:4326" and m["schema_version"] == SCHEMA_VERSION == 3
    assert set(m["files"]) == {PART}
    assert m["layers"]["schools"]["parts"] == [
        {"municipality": None, "file": PART, "count": 3, "kinds": {"school": 3},
         "sha256": m["files"][PART]}]
    assert m["layers"]["schools"]["sources"][0]["license"] == "CC0-1.0"
    assert m["built_at"].endswith("+00:00")


def test_conform_keeps_missing_names_and_municipalities_missing() -> None:
    """Missing values stay None under pandas' string dtype (they once became the text "nan").

    A "nan" municipality would put features in a part of their own named ``municipality=nan``.
    """
    g = gpd.GeoDataFrame({"name": ["Skola", float("nan"), None],
                          "municipality": ["1080", float("nan"), None]},
                         geometry=[Point(15, 56), Point(15.1, 56), Point(15.2, 56)], crs="EPSG:4326")
    g["name"] = g["name"].astype("string")
    out = conform(g, "schools", PROV)
    assert out["name"].iloc[0] == "Skola" and out["name"].iloc[1:].isna().all()
    assert out["municipality"].iloc[0] == "1080" and out["municipality"].iloc[1:].isna().all()
    assert "nan" not in set(out["name"].dropna()) | set(out["municipality"].dropna())
