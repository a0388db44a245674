"""Exports: round trips per file format, provenance, overwrite refusal, atomic failure, CLI.

Every snapshot here is SYNTHETIC (tests/_export_fixtures.py), except the pack test at the end.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from _export_fixtures import REGION, build_snapshot, fake_scores

import geo.export_files as ef
from geo.cli import main
from geo.errors import UnknownLayerError
from geo.export import ExportError, export
from geo.settings import OSM_ATTRIBUTION

ATTRS = ["uid", "layer", "kind", "name", "municipality", "value", "source", "license",
         "source_date", "coverage"]
FILE_FORMATS = [("gpkg", 3006), ("parquet", 3006), ("parquet", 4326), ("geojson", 4326),
                ("csv", 3006), ("csv", 4326)]


@pytest.fixture()
def snap(tmp_path: Path) -> Any:
    return build_snapshot(tmp_path / "data")


def _out(tmp_path: Path, fmt: str) -> Path:
    return tmp_path / ("export.gpkg" if fmt == "gpkg" else f"export_{fmt}")


def _norm(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v.item() if hasattr(v, "item") else v


def _records(df: pd.DataFrame, cols: list[str], key: str) -> list[dict[str, Any]]:
    df = pd.DataFrame(df).sort_values(key)
    return [{c: _norm(v) for c, v in zip(cols, row)} for row in df[cols].itertuples(index=False)]


def _read(fmt: str, out: Path, name: str, crs: int) -> gpd.GeoDataFrame:
    """Read table ``name`` of an export back as a GeoDataFrame in EPSG:``crs``."""
    if fmt == "gpkg":
        return gpd.read_file(out, layer=name)
    if fmt == "parquet":
        return gpd.read_parquet(out / f"{name}.parquet")
    if fmt == "geojson":  # plain JSON, so GDAL's date sniffing does not retype text columns
        fc = json.loads((out / f"{name}.geojson").read_text(encoding="utf-8"))
        return gpd.GeoDataFrame.from_features(fc["features"], crs=4326)
    df = pd.read_csv(out / f"{name}.csv", dtype={"uid": str, "code": str, "municipality": str,
                                                 "source_date": str})
    if "wkt" in df:
        geom = gpd.GeoSeries.from_wkt(df.pop("wkt"), crs=crs)
    else:
        geom = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), crs=4326).to_crs(crs)
        df = df.drop(columns=[c for c in ("lon", "lat", "x", "y") if c in df])
    return gpd.GeoDataFrame(df, geometry=geom.values, crs=crs)


def _assert_same_geoms(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame, key: str) -> None:
    g = got.to_crs(4326).sort_values(key).geometry.to_numpy()
    w = want.to_crs(4326).sort_values(key).geometry.to_numpy()
    assert len(g) == len(w)
    for a, b in zip(g, w):
        assert shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-6), (a, b)


# -- round trips ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "crs"), FILE_FORMATS)
def test_round_trip_same_features_attributes_and_geometries(snap: Any, tmp_path: Path, fmt: str,
                                                             crs: int) -> None:
    out = _out(tmp_path, fmt)
    report = export(snap, fmt, out, crs=crs, scores=fake_scores())
    assert report.counts["schools"] == 3 and report.counts["transit"] == 2
    assert report.counts["nature"] == 2 and report.counts["cell_scores"] == 7
    assert report.skipped == {"culture": "no source (synthetic)"}
    assert report.attribution[0] == OSM_ATTRIBUTION
    for key in ("schools", "transit", "nature"):
        want = snap.layer(key)
        got = _read(fmt, out, key, crs)
        assert got.crs.to_epsg() == crs
        cols = [*ATTRS, "capacity"] if key == "schools" else ATTRS
        assert _records(got, cols, "uid") == _records(want, cols, "uid")
        _assert_same_geoms(got, want, "uid")
    loc = _read(fmt, out, "locality_scores", crs)
    assert _records(loc, ["code", "composite", "rank", "theme_schools", "theme_transit"], "code") == [
        {"code": "T1", "composite": 71.5, "rank": 1, "theme_schools": 80, "theme_transit": 60},
        {"code": "T2", "composite": 40.25, "rank": 2, "theme_schools": 30, "theme_transit": 55.5}]
    _assert_same_geoms(loc, snap.localities(), "code")
    cells = _read(fmt, out, "cell_scores", crs)
    assert sorted(cells["composite"]) == [0, 10, 20, 30, 40, 50, 60]
    # an H3 res-8 cell is ~0.7 km2
    areas = cells.to_crs(3006).area
    assert ((areas > 5e5) & (areas < 1e6)).all()
    mun = _read(fmt, out, "municipalities", crs)
    _assert_same_geoms(mun, snap.municipalities(), "code")


def test_gpkg_metadata_table_carries_provenance_and_scoring(snap: Any, tmp_path: Path) -> None:
    out = tmp_path / "x.gpkg"
    export(snap, "gpkg", out, scores=fake_scores())
    meta = gpd.read_file(out, layer="metadata")
    by = {r.table_name: r for r in meta.itertuples()}
    assert by["transit"].license == "ODbL-1.0"
    assert by["transit"].attribution == OSM_ATTRIBUTION
    assert by["transit"].coverage == "partial"
    assert by["schools"].source == "SYNTHETIC test data"
    assert by["schools"].source_date == "2026-01-01"
    assert by["schools"].feature_count == 3
    assert by["culture"].coverage == "missing" and "no source" in by["culture"].note
    assert set(meta["crs"]) == {"EPSG:3006"}
    assert set(meta["software_version"]) == {"0.1.0"}
    assert meta["exported_at"].str.match(r"\d{4}-\d\d-\d\dT").all()
    params = json.loads(meta.loc[meta.table_name == "cell_scores", "scoring_parameters"].iloc[0])
    assert params["persona"] == "family" and params["weights"] == {"schools": 2.0, "transit": 1.0}
    # scores derive from every layer: OSM attribution travels with them
    assert OSM_ATTRIBUTION in by["cell_scores"].attribution


def test_gpkg_opens_cleanly_in_ogrinfo(snap: Any, tmp_path: Path) -> None:
    if shutil.which("ogrinfo") is None:
        pytest.skip("ogrinfo (Debian gdal-bin) is not installed")
    out = tmp_path / "x.gpkg"
    export(snap, "gpkg", out, scores=fake_scores())
    res = subprocess.run(["ogrinfo", "-ro", "-so", str(out)], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, res.stderr
    assert "Warning" not in res.stderr and "ERROR" not in res.stderr, res.stderr
    for line in ("schools (Point)", "transit (Point)", "municipalities (Polygon)",
                 "cell_scores (Polygon)", "locality_scores (Point)", "metadata (None)", "nature"):
        assert line in res.stdout
    res = subprocess.run(["ogrinfo", "-ro", "-so", str(out), "transit"], capture_output=True,
                         text=True, check=False)
    assert "Feature Count: 2" in res.stdout
    assert f"ATTRIBUTION={OSM_ATTRIBUTION}" in res.stdout
    assert "LICENSE=ODbL-1.0" in res.stdout
    assert 'SWEREF99 TM' in res.stdout


def test_geoparquet_1_1_metadata_and_provenance(snap: Any, tmp_path: Path) -> None:
    out = tmp_path / "pq"
    export(snap, "parquet", out, crs=3006)
    kv = pq.read_schema(out / "transit.parquet").metadata
    geo = json.loads(kv[b"geo"])
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    assert geo["columns"]["geometry"]["encoding"] == "WKB"
    assert geo["columns"]["geometry"]["crs"]["id"] == {"authority": "EPSG", "code": 3006}
    prov = json.loads(kv[b"livability"])
    assert prov["table"]["attribution"] == OSM_ATTRIBUTION
    assert prov["table"]["sources"][0]["license"] == "ODbL-1.0"
    assert prov["export"]["crs"] == "EPSG:3006"
    side = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert side["attribution"][0] == OSM_ATTRIBUTION
    assert side["tables"]["schools"]["count"] == 3
    assert pd.read_parquet(out / "metadata.parquet")["table_name"].tolist()[:3] == [
        "schools", "transit", "nature"]
    assert OSM_ATTRIBUTION in (out / "ATTRIBUTION.txt").read_text(encoding="utf-8")


def test_geojson_is_rfc7946(snap: Any, tmp_path: Path) -> None:
    out = tmp_path / "gj"
    export(snap, "geojson", out)  # default CRS for GeoJSON is WGS 84
    fc = json.loads((out / "nature.geojson").read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    assert fc["attribution"] == "SYNTHETIC test data (not real)"
    assert fc["metadata"]["sources"][0]["license"] == "CC0-1.0"
    poly = next(f for f in fc["features"] if f["geometry"]["type"] == "Polygon")
    ring = poly["geometry"]["coordinates"][0]
    assert all(15 < x < 16 and 56 < y < 57 for x, y in ring)  # lon, lat order
    assert shapely.LinearRing(ring).is_ccw  # right-hand rule: exterior counterclockwise
    tr = json.loads((out / "transit.geojson").read_text(encoding="utf-8"))
    assert tr["attribution"] == OSM_ATTRIBUTION
    assert json.loads((out / "metadata.json").read_text())["crs"] == "EPSG:4326"


def test_geojson_refuses_sweref(snap: Any, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"WGS 84 only.*--crs 4326"):
        export(snap, "geojson", tmp_path / "gj", crs=3006)
    assert not (tmp_path / "gj").exists()


def test_csv_lonlat_for_points_wkt_otherwise(snap: Any, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    export(snap, "csv", out, crs=3006)
    schools = pd.read_csv(out / "schools.csv")
    assert {"lon", "lat", "x", "y"} <= set(schools) and "wkt" not in schools
    row = schools.set_index("uid").loc["syn:s1"]
    assert (row["lon"], row["lat"]) == (15.58, 56.16)
    assert 500_000 < row["x"] < 600_000 and 6_200_000 < row["y"] < 6_300_000
    assert row["name"] == "Skola Å (synthetic)"
    nature = pd.read_csv(out / "nature.csv")
    assert "wkt" in nature and nature["wkt"].str.startswith(("POLYGON", "POINT")).all()
    meta = pd.read_csv(out / "metadata.csv")
    assert meta.loc[meta.table_name == "transit", "attribution"].iloc[0] == OSM_ATTRIBUTION
    assert OSM_ATTRIBUTION in (out / "ATTRIBUTION.txt").read_text(encoding="utf-8")


def test_layer_selection_and_unknown_layer(snap: Any, tmp_path: Path) -> None:
    report = export(snap, "gpkg", tmp_path / "s.gpkg", layers=["schools"])
    assert [i.name for i in report.items] == ["schools", "localities", "municipalities",
                                              "boundary", "metadata"]
    with pytest.raises(UnknownLayerError, match=r"Known layers: .*schools.*transit"):
        export(snap, "gpkg", tmp_path / "u.gpkg", layers=["schoools"])
    assert not (tmp_path / "u.gpkg").exists()


def test_bad_format_and_crs(snap: Any, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown export format 'shp'"):
        export(snap, "shp", tmp_path / "x")
    with pytest.raises(ExportError, match="EPSG:3857 is not supported"):
        export(snap, "gpkg", tmp_path / "x.gpkg", crs=3857)


# -- overwrite and atomicity ------------------------------------------------------------------------
def _snapshot_of(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize(("fmt", "crs"), [("gpkg", 3006), ("parquet", 3006), ("geojson", 4326),
                                          ("csv", 4326)])
def test_refuses_overwrite_without_force(snap: Any, tmp_path: Path, fmt: str, crs: int) -> None:
    out = _out(tmp_path, fmt)
    export(snap, fmt, out, crs=crs, layers=["schools"])
    before = _snapshot_of(out)
    with pytest.raises(ExportError, match=rf"{out.name} already exists; pass --force"):
        export(snap, fmt, out, crs=crs)
    assert _snapshot_of(out) == before
    report = export(snap, fmt, out, crs=crs, force=True)
    assert "transit" in report.counts and _snapshot_of(out) != before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["data", out.name])
    umask = os.umask(0)
    os.umask(umask)
    want = (0o777 if out.is_dir() else 0o666) & ~umask
    assert out.stat().st_mode & 0o777 == want  # the usual permissions, not a private temp


@pytest.mark.parametrize(("fmt", "crs"), [("gpkg", 3006), ("parquet", 3006), ("geojson", 4326),
                                          ("csv", 3006)])
def test_failure_midway_leaves_old_output_and_no_partial(snap: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         fmt: str, crs: int) -> None:
    out = _out(tmp_path, fmt)
    export(snap, fmt, out, crs=crs, layers=["schools"])
    before = _snapshot_of(out)
    real = ef.write_table
    written: list[str] = []

    def flaky(table: Any, f: str, target: Path, bundle: Any) -> None:
        if table.name == "nature":  # the third table: two are already on disk
            raise OSError("simulated: disk full while writing nature")
        real(table, f, target, bundle)
        written.append(table.name)

    monkeypatch.setattr(ef, "write_table", flaky)
    with pytest.raises(ExportError, match=r"simulated: disk full.*unchanged"):
        export(snap, fmt, out, crs=crs, force=True)
    assert written == ["schools", "transit"]
    assert _snapshot_of(out) == before  # old export intact
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["data", out.name])  # no temp left
    # and a first export that fails leaves nothing at all
    fresh = tmp_path / ("fresh.gpkg" if fmt == "gpkg" else "fresh")
    with pytest.raises(ExportError):
        export(snap, fmt, fresh, crs=crs)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["data", out.name])


def test_target_folder_vanishing_midway_leaves_nothing(snap: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    parent = tmp_path / "exports"
    out = parent / "x.gpkg"
    real = ef.write_table

    def vanish(table: Any, f: str, target: Path, bundle: Any) -> None:
        real(table, f, target, bundle)
        if table.name == "transit":
            shutil.rmtree(parent)  # someone removes the target folder midway

    monkeypatch.setattr(ef, "write_table", vanish)
    with pytest.raises(ExportError, match="failed and was not written"):
        export(snap, "gpkg", out)
    assert not parent.exists()


# -- CLI ---------------------------------------------------------------------------------------------
def test_cli_end_to_end(snap: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    out = tmp_path / "cli.gpkg"
    base = ["--data-dir", data, "export", "--region", REGION]
    assert main([*base, "--format", "gpkg", "--out", str(out), "--layers", "schools,transit"]) == 0
    text = capsys.readouterr().out
    assert "exported 6 tables as gpkg (EPSG:3006)" in text and "schools" in text
    assert OSM_ATTRIBUTION in text
    assert gpd.read_file(out, layer="transit")["uid"].tolist() == ["syn:t1", "syn:t2"]

    assert main([*base, "--format", "gpkg", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*base, "--format", "gpkg", "--out", str(out), "--force", "--crs", "4326"]) == 0
    assert gpd.read_file(out, layer="schools").crs.to_epsg() == 4326
    capsys.readouterr()

    assert main([*base, "--format", "csv", "--out", str(tmp_path / "c"), "--layers", "skools"]) == 2
    err = capsys.readouterr().err
    assert "No layer 'skools'" in err and "schools" in err and "Known layers" in err
    assert main([*base, "--format", "geojson", "--out", str(tmp_path / "g"), "--crs", "3006"]) == 2
    assert "WGS 84 only" in capsys.readouterr().err
    assert main([*base, "--format", "geojson", "--out", str(tmp_path / "g")]) == 0
    assert (tmp_path / "g" / "schools.geojson").is_file()
    assert main(["--data-dir", data, "export", "--region", "nowhere", "--format", "csv",
                 "--out", str(tmp_path / "n")]) == 2
    assert "nowhere" in capsys.readouterr().err


# -- the real pack -----------------------------------------------------------------------------------
@pytest.mark.pack
@pytest.mark.slow
def test_blekinge_pack_export_gpkg_and_parquet(blekinge_snapshot: Any, tmp_path: Path) -> None:
    snap = blekinge_snapshot
    report = export(snap, "gpkg", tmp_path / "blekinge.gpkg")
    for key in snap.layer_keys():
        st = snap.layer_status(key)
        if st.count:
            assert report.counts[key] == st.count
            back = gpd.read_file(tmp_path / "blekinge.gpkg", layer=key)
            assert sorted(back["uid"]) == sorted(snap.layer(key)["uid"])
        else:
            assert key in report.skipped
    assert report.counts["localities"] == len(snap.localities())
    osm = any("ODbL" in p.license for k in snap.layer_keys() for p in snap.layer_status(k).sources)
    assert (OSM_ATTRIBUTION in report.attribution) == osm
    rp = export(snap, "parquet", tmp_path / "pq", crs=4326)
    assert rp.counts == {**{k: v for k, v in report.counts.items() if k != "metadata"},
                         "metadata": rp.counts["metadata"]}


@pytest.mark.pack
@pytest.mark.slow
def test_cli_scores_on_blekinge_pack(blekinge_store: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scores.gpkg"
    rc = main(["--data-dir", str(blekinge_store), "export", "--region", "blekinge", "--format",
               "gpkg", "--out", str(out), "--scores", "--persona", "family",
               "--weights", "transit=2", "--layers", "transit"])
    assert rc == 0, capsys.readouterr().err
    loc = gpd.read_file(out, layer="locality_scores")
    assert len(loc) == len(gpd.read_file(out, layer="localities")) > 0
    assert loc["composite"].between(0, 100).all() and loc["rank"].min() == 1
    assert {"theme_transit", "theme_schools"} <= set(loc)
    cells = gpd.read_file(out, layer="cell_scores")
    assert len(cells) > 0 and set(cells.geom_type) == {"Polygon"}
    meta = gpd.read_file(out, layer="metadata")
    params = json.loads(meta.loc[meta.table_name == "cell_scores", "scoring_parameters"].iloc[0])
    assert params["persona"] == "family" and params["weights"]["transit"] == 2.0
    rc = main(["--data-dir", str(blekinge_store), "export", "--format", "csv", "--out",
               str(tmp_path / "c"), "--persona", "family"])
    assert rc == 2 and "add --scores" in capsys.readouterr().err


def test_geoparquet_through_public_to_parquet(snap: Any, tmp_path: Path) -> None:
    """GeoParquet goes through geopandas' public ``to_parquet`` (no private converter)."""
    assert not hasattr(ef, "_private_converter")
    export(snap, "parquet", tmp_path / "pq", layers=["transit"])
    kv = pq.read_schema(tmp_path / "pq" / "transit.parquet").metadata
    assert json.loads(kv[b"geo"])["version"] == "1.1.0"
    assert json.loads(kv[b"livability"])["table"]["attribution"] == OSM_ATTRIBUTION
    assert sorted(gpd.read_parquet(tmp_path / "pq" / "transit.parquet")["uid"]) == ["syn:t1",
                                                                                  "syn:t2"]
