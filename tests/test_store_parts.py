"""The partitioned store (schema 3): one GeoParquet part per municipality, lazy reads, views.

Synthetic snapshots made here (schools and localities in three municipalities and none) check the
layout, the order of a full read, that a read by municipality opens only its parts, the integrity
checks per part, schema-2 snapshots (one file per layer) and views; the Blekinge pack checks that
both layouts give identical frames, and a two-county region built from the national pack that
Blekinge opens as a view of it (slow).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal
from shapely.geometry import Point, box

import geo.store as store
from geo.errors import StoreError
from geo.regions import resolve_region
from geo.schema import Provenance, conform
from geo.store import (
    ROW_COLUMN,
    UNASSIGNED,
    Snapshot,
    open_region,
    open_snapshot,
    write_snapshot,
)

PROV = Provenance(source="unit test (synthetic)", license="CC0-1.0", date="2026", coverage="partial")
#: Karlskrona, Ronneby (Blekinge) and Malmö (Skåne): real codes, synthetic features
CODES = ("1080", "1081", "1280")
#: the municipality of each synthetic feature, interleaved so that parts are not contiguous
MUNIS = ["1081", "1080", None, "1280", "1080", "1081", "1080", None, "1280", "1080"]


def _schools(munis: list[str | None] = MUNIS) -> gpd.GeoDataFrame:
    n = len(munis)
    g = gpd.GeoDataFrame({"name": [f"s{i}" for i in range(n)],
                          "kind": ["school" if i % 3 else "preschool" for i in range(n)],
                          "value": [float(i) for i in range(n)]},
                         geometry=[Point(15 + (7 * i % n) / 100, 56 + i / 100) for i in range(n)],
                         crs="EPSG:4326")
    out = conform(g, "schools", PROV)
    out["municipality"] = pd.Series(munis, dtype="str")  # as a build leaves it: str, NaN for none
    return out


def _localities() -> gpd.GeoDataFrame:
    munis = ["1280", "1080", "1081", "1080"]
    return gpd.GeoDataFrame({"code": [f"T{i}" for i in range(4)], "name": [f"Ort {i}" for i in range(4)],
                             "municipality": munis, "population": [100 * (i + 1) for i in range(4)]},
                            geometry=[Point(15 + i / 10, 56) for i in range(4)], crs="EPSG:4326")


def _footprints(locs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": locs["code"], "name": locs["name"], "footprint_source": "disc"},
                            geometry=[box(p.x - 0.01, p.y - 0.01, p.x + 0.01, p.y + 0.01)
                                      for p in locs.geometry], crs="EPSG:4326")


def _municipalities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": list(CODES), "name": ["Karlskrona", "Ronneby", "Malmö"]},
                            geometry=[box(15, 56, 15.5, 56.5), box(14.5, 56, 15, 56.5),
                                      box(12.8, 55.4, 13.2, 55.7)], crs="EPSG:4326")


REGION = {"name": "Söder", "level": "country", "code": "",
          "municipalities": {"1080": "Karlskrona", "1081": "Ronneby", "1280": "Malmö"}}


def _write(data: Path, key: str = "south", *, partitioned: bool = True,
           region: dict[str, Any] | None = None, outline: Any = None) -> None:
    locs = _localities()
    with write_snapshot(key, region or REGION, data, partitioned=partitioned) as w:
        w.put_base("boundary", gpd.GeoDataFrame({"key": [key], "name": ["Söder"]},
                                                geometry=[outline or box(12, 55, 16, 57)],
                                                crs="EPSG:4326"), [PROV])
        w.put_base("municipalities", _municipalities(), [PROV])
        w.put_base("localities", locs, [PROV], coverage="complete")
        w.put_base("footprints", _footprints(locs), [PROV])
        w.put_layer("schools", _schools(), [PROV], "partial")
        w.put_layer("transit", _schools([])[:0], [], "missing")
        w.put_table("tax", pd.DataFrame({"municipality": list(CODES), "rate": [32.1, 33.0, 32.4]}), PROV)


@pytest.fixture()
def south(tmp_path: Path) -> Path:
    _write(tmp_path)
    return tmp_path


class _Reads:
    """Records the part files a snapshot reads (pyarrow's ParquetFile wrapped)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files: list[str] = []
        real = pq.ParquetFile
        seen = self.files

        class Spy(real):  # type: ignore[misc, valid-type]
            def read(self, *args: Any, **kwargs: Any) -> Any:
                seen.append(str(getattr(self, "_spy_path", "?")))
                return super().read(*args, **kwargs)

            def __init__(self, source: Any, *args: Any, **kwargs: Any) -> None:
                super().__init__(source, *args, **kwargs)
                self._spy_path = source

        monkeypatch.setattr(store.pq, "ParquetFile", Spy)

    def parts(self) -> set[str]:
        """``municipality=...`` folder values read (``layers/schools/municipality=1080`` -> 1080)."""
        return {re.search(r"municipality=([^/]+)/", f).group(1) for f in self.files  # type: ignore[union-attr]
                if "municipality=" in f}


# -- layout ---------------------------------------------------------------------------------------
def test_parts_layout_and_manifest(south: Path) -> None:
    folder = store.snapshot_dir("south", south)
    assert folder is not None
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["schema_version"] == 3
    parts = m["layers"]["schools"]["parts"]
    expected = pd.Series(MUNIS, dtype=object).fillna(UNASSIGNED).value_counts()
    assert [p["municipality"] for p in parts] == ["1080", "1081", "1280", None]  # codes, then none
    for p in parts:
        key = p["municipality"] or UNASSIGNED
        assert p["file"] == f"layers/schools/municipality={key}/part-0.parquet"
        assert p["count"] == expected[key]
        assert p["file"] in m["files"] and re.fullmatch(r"[0-9a-f]{64}", m["files"][p["file"]])
        alone = gpd.read_parquet(folder / p["file"])  # each part is GeoParquet on its own
        assert alone.crs.to_epsg() == 4326 and len(alone) == p["count"]
        mine = _schools()[pd.Series(MUNIS, dtype=object).fillna(UNASSIGNED).eq(key).to_numpy()]
        assert sorted(alone["uid"]) == sorted(mine["uid"])
        geo = json.loads(pq.read_schema(folder / p["file"]).metadata[b"geo"])
        assert geo["columns"]["geometry"]["bbox"] == pytest.approx(list(mine.total_bounds))
        assert geo["columns"]["geometry"]["geometry_types"] == ["Point"]
        assert p["kinds"] == mine["kind"].value_counts().to_dict()
    assert sum(p["count"] for p in parts) == m["layers"]["schools"]["count"] == len(MUNIS)
    loc_parts = m["base"]["localities"]["parts"]
    assert {p["municipality"]: p["count"] for p in loc_parts} == {"1080": 2, "1081": 1, "1280": 1}
    fp_parts = m["base"]["footprints"]["parts"]  # a footprint goes with its locality's municipality
    assert {p["municipality"]: p["count"] for p in fp_parts} == {"1080": 2, "1081": 1, "1280": 1}
    assert "parts" not in m["layers"]["transit"] and "file" not in m["layers"]["transit"]
    assert m["base"]["municipalities"]["file"] == "municipalities.parquet"


def test_full_read_is_the_frame_as_written(south: Path) -> None:
    snap = open_snapshot("south", south)
    assert_frame_equal(snap.layer("schools"), _schools(), check_exact=True)
    assert_frame_equal(snap.localities(), _localities(), check_exact=True)
    assert_frame_equal(snap.footprints(), _footprints(_localities()), check_exact=True)
    assert ROW_COLUMN not in snap.layer("schools").columns
    assert snap.part_counts("schools") == {"1080": 4, "1081": 2, "1280": 2, None: 2}
    assert snap.part_counts("localities") == {"1080": 2, "1081": 1, "1280": 1}
    files = snap.part_files("schools", ["1280", UNASSIGNED])
    assert [f.relative_to(snap.folder).as_posix() for f in files] == [
        "layers/schools/municipality=1280/part-0.parquet",
        "layers/schools/municipality=__none__/part-0.parquet"]
    alone = pd.concat([gpd.read_parquet(f) for f in files]).sort_values(ROW_COLUMN)
    assert list(alone["uid"]) == list(snap.layer("schools", ["1280", UNASSIGNED])["uid"])
    assert snap.view(["1080"]).part_files("localities") == [
        snap.folder / "localities/municipality=1080/part-0.parquet"]


# -- lazy reads -------------------------------------------------------------------------------------
def test_read_by_municipality_opens_only_its_parts(south: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snap = open_snapshot("south", south)
    full = snap.layer("schools")
    full_locs = snap.localities()
    snap = open_snapshot("south", south)  # no memo
    reads = _Reads(monkeypatch)
    got = snap.layer("schools", ["1080", "1280"])
    assert reads.parts() == {"1080", "1280"}
    want = full[full["municipality"].isin(["1080", "1280"])].reset_index(drop=True)
    assert_frame_equal(got, want, check_exact=True)  # the full read's rows, in its order
    reads.files.clear()
    assert_frame_equal(snap.layer("schools", [UNASSIGNED]),
                       full[full["municipality"].isna()].reset_index(drop=True), check_exact=True)
    assert reads.parts() == {UNASSIGNED}
    reads.files.clear()
    locs = snap.localities(["1081"])
    fps = snap.footprints(["1081"])
    assert list(locs["code"]) == list(full_locs.loc[full_locs["municipality"] == "1081", "code"])
    assert list(fps["code"]) == list(locs["code"])
    assert reads.parts() == {"1081"}
    reads.files.clear()
    none = snap.layer("schools", ["0114"])  # a municipality without schools: no rows, same columns
    assert reads.files == [] and len(none) == 0
    assert list(none.columns) == list(full.columns) and none.dtypes.equals(full.dtypes)
    assert none.crs == full.crs


def test_a_damaged_part_is_one_line_and_a_view_of_others_still_opens(south: Path) -> None:
    folder = store.snapshot_dir("south", south)
    assert folder is not None
    part = "layers/schools/municipality=1280/part-0.parquet"
    (folder / part).write_bytes((folder / part).read_bytes()[:-30])
    with pytest.raises(StoreError) as exc:
        open_snapshot("south", south)
    msg = str(exc.value)
    assert "\n" not in msg and f"damaged: {part} (checksum differs)" in msg
    assert msg.endswith("Rebuild with: livability build --region south")
    view = open_snapshot("south", south, municipalities=["1080", "1081"])  # checks what it reads
    assert len(view.layer("schools")) == 6
    with pytest.raises(StoreError, match=re.escape(f"damaged: {part} (checksum differs)")):
        open_snapshot("south", south, municipalities=["1280"])
    (folder / part).unlink()
    with pytest.raises(StoreError, match=re.escape(f"damaged: {part} (missing)")):
        open_snapshot("south", south, municipalities=["1080"])  # presence: every file


def test_verify_on_read_checks_each_part_when_it_is_read(south: Path) -> None:
    """``verify="on_read"`` (a distributed run's partitions): the parts' checksums when they are
    read, from the bytes read; every other file's and every presence at opening."""
    folder = store.snapshot_dir("south", south)
    assert folder is not None
    part = "layers/schools/municipality=1280/part-0.parquet"
    good = (folder / part).read_bytes()
    view = open_snapshot("south", south, municipalities=["1280"], verify="on_read")
    assert view.verify_parts and len(view.layer("schools")) > 0  # intact: reads as before
    try:
        (folder / part).write_bytes(good[:-30])
        view = open_snapshot("south", south, municipalities=["1280"], verify="on_read")  # opens
        with pytest.raises(StoreError, match=re.escape(f"damaged: {part} (checksum differs)")):
            view.layer("schools")  # ... and the read says which part
        other = open_snapshot("south", south, municipalities=["1080"], verify="on_read")
        assert len(other.layer("schools")) > 0  # a view that does not read it is not stopped
        (folder / part).write_bytes(good[:-30] + b"x" * 30)  # the same size, other bytes
        with pytest.raises(StoreError, match="checksum differs"):
            open_snapshot("south", south, municipalities=["1280"], verify="on_read").layer("schools")
    finally:
        (folder / part).write_bytes(good)
    table = next(iter(view.manifest["tables"].values()))["file"]
    data = (folder / table).read_bytes()
    try:
        (folder / table).write_bytes(data[:-10])
        with pytest.raises(StoreError, match=re.escape(f"damaged: {table} (checksum differs)")):
            open_snapshot("south", south, municipalities=["1080"], verify="on_read")  # at opening
    finally:
        (folder / table).write_bytes(data)


def test_a_part_with_other_rows_than_the_manifest_says(south: Path) -> None:
    folder = store.snapshot_dir("south", south)
    assert folder is not None
    mpath = folder / "manifest.json"
    m = json.loads(mpath.read_text(encoding="utf-8"))
    parts = m["layers"]["schools"]["parts"]
    parts[0]["count"] += 1
    parts[1]["count"] -= 1
    mpath.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(StoreError, match=re.escape(
            "damaged: layers/schools/municipality=1080/part-0.parquet (4 rows, the manifest says 5)")):
        open_snapshot("south", south)
    snap = open_snapshot("south", south, verify=False)
    assert len(snap.layer("schools", ["1280"])) == 2  # checked when read
    with pytest.raises(StoreError, match=r"municipality=1081/part-0.parquet \(2 rows, the manifest says 1\)"):
        snap.layer("schools", ["1081"])


# -- schema 2 ---------------------------------------------------------------------------------------
def test_schema_2_snapshot_still_opens_and_reads_the_same(tmp_path: Path) -> None:
    _write(tmp_path / "old", partitioned=False)
    _write(tmp_path / "new")
    old, new = open_snapshot("south", tmp_path / "old"), open_snapshot("south", tmp_path / "new")
    assert old.manifest["schema_version"] == 2 and new.manifest["schema_version"] == 3
    assert old.manifest["layers"]["schools"]["file"] == "layers/schools.parquet"
    assert old.manifest["base"]["localities"]["file"] == "localities.parquet"
    assert "parts" not in old.manifest["layers"]["schools"] and old.part_counts("schools") == {}
    for read in (lambda s: s.layer("schools"), lambda s: s.localities(), lambda s: s.footprints(),
                 lambda s: s.layer("schools", ["1080", UNASSIGNED]), lambda s: s.localities(["1280"]),
                 lambda s: s.footprints(["1080"]), lambda s: s.layer("transit")):
        assert_frame_equal(read(old), read(new), check_exact=True)
    for codes in (["1080"], ["1081", "1280"]):
        a, b = old.view(codes), new.view(codes)
        assert_frame_equal(a.layer("schools"), b.layer("schools"), check_exact=True)
        assert a.layer_status("schools") == b.layer_status("schools")
        assert_frame_equal(a.footprints(), b.footprints(), check_exact=True)
        assert_frame_equal(a.municipalities(), b.municipalities(), check_exact=True)


def test_unknown_schema_is_refused(south: Path) -> None:
    folder = store.snapshot_dir("south", south)
    assert folder is not None
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (folder / "manifest.json").write_text(json.dumps({**m, "schema_version": 4}), encoding="utf-8")
    with pytest.raises(StoreError, match="written with store schema 4, this version reads 3"):
        open_snapshot("south", south)


# -- views ------------------------------------------------------------------------------------------
def test_view_is_a_snapshot_of_its_municipalities(south: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = open_snapshot("south", south)
    schools, locs = full.layer("schools"), full.localities()
    reads = _Reads(monkeypatch)
    view = full.view(["1080", "1081"], region={"key": "blekinge", "name": "Blekinge län",
                                               "level": "county", "code": "10"})
    assert isinstance(view, Snapshot) and view.view_of == "south"
    assert (view.region_key, view.region_name) == ("blekinge", "Blekinge län")
    assert view.manifest["region"]["municipalities"] == {"1080": "Karlskrona", "1081": "Ronneby"}
    mine = schools[schools["municipality"].isin(["1080", "1081"])].reset_index(drop=True)
    assert_frame_equal(view.layer("schools"), mine, check_exact=True)
    st = view.layer_status("schools")
    assert (st.count, st.kinds) == (len(mine), mine["kind"].value_counts().to_dict())
    assert st.sources == full.layer_status("schools").sources
    assert view.layer("schools", ["1280"]).empty  # outside the view
    assert list(view.localities()["code"]) == list(locs.loc[locs["municipality"] != "1280", "code"])
    assert list(view.footprints()["code"]) == list(view.localities()["code"])
    assert reads.parts() == {"1080", "1081"}
    assert list(view.municipalities()["code"]) == ["1080", "1081"]
    assert view.manifest["base"]["municipalities"]["count"] == 2
    assert view.manifest["base"]["localities"]["count"] == len(view.localities()) == 3
    outline = view.boundary()
    assert list(outline["key"]) == ["blekinge"] and outline.crs.to_epsg() == 4326
    assert outline.geometry.iloc[0].equals(box(14.5, 56, 15.5, 56.5))
    assert_frame_equal(view.table("tax"), full.table("tax"))  # tables shared
    assert view.attributions() == full.attributions()
    assert view.manifest["built_at"] == full.manifest["built_at"]
    assert view.layer_status("transit").count == 0
    malmo = full.view(["1280"])
    assert malmo.layer_status("schools").count == 2 and malmo.region_key == "south"
    assert malmo.view(["1280", "1080"]).codes == frozenset({"1280"})  # a view of a view narrows


def test_view_without_features_of_a_layer_reports_it_missing(south: Path) -> None:
    view = open_snapshot("south", south).view(["0114"])
    st = view.layer_status("schools")
    assert (st.count, st.coverage, st.available) == (0, "missing", False)
    assert view.layer("schools").empty and view.localities().empty


def _blekinge_codes() -> set[str]:
    return {str(c) for c in resolve_region("blekinge").municipalities["code"]}


def test_open_region_opens_a_county_inside_a_larger_snapshot(tmp_path: Path) -> None:
    codes = _blekinge_codes()
    region = {**REGION, "municipalities": {**{c: c for c in codes}, "1280": "Malmö"}}
    _write(tmp_path, "sverige", region=region)
    snap = open_region("Blekinge", tmp_path)
    assert (snap.region_key, snap.view_of, snap.codes) == ("blekinge", "sverige", frozenset(codes))
    assert snap.region_name == "Blekinge län" and snap.manifest["region"]["level"] == "county"
    assert snap.layer_status("schools").count == sum(m in codes for m in MUNIS)
    assert open_region("1081", tmp_path).layer_status("schools").count == MUNIS.count("1081")
    with pytest.raises(StoreError, match="No snapshot for region 'stockholm'"):
        open_region("stockholm", tmp_path)  # not all its municipalities are stored
    _write(tmp_path, "blekinge", region={**REGION, "name": "Blekinge län"})
    assert open_region("blekinge", tmp_path).view_of is None  # its own snapshot wins


def test_an_area_snapshot_must_cover_the_county(tmp_path: Path) -> None:
    """A polygon area lists every municipality it touches: Blekinge's codes alone are not enough."""
    codes = _blekinge_codes()
    _write(tmp_path, "area", region={**REGION, "level": "area",
                                     "municipalities": {c: c for c in codes}},
           outline=box(14.5, 56, 15.5, 56.5))
    with pytest.raises(StoreError, match="No snapshot for region 'blekinge'"):
        open_region("blekinge", tmp_path)  # the area (a box) misses part of Blekinge
    _write(tmp_path, "area", region={**REGION, "level": "area",
                                     "municipalities": {c: c for c in codes}},
           outline=box(13, 55, 17, 57))
    assert open_region("blekinge", tmp_path).view_of == "area"  # this one covers it


# -- real data ------------------------------------------------------------------------------------
def test_blekinge_both_layouts_give_identical_frames(blekinge_snapshot: Snapshot, tmp_path: Path) -> None:
    snap = blekinge_snapshot
    assert snap.manifest["schema_version"] == 3
    frames = {k: snap.layer(k) for k in snap.layer_keys()}
    locs, fps = snap.localities(), snap.footprints()
    assert fps is not None
    for partitioned in (False, True):
        with write_snapshot("blekinge", {"name": "Blekinge"}, tmp_path / str(partitioned),
                            partitioned=partitioned) as w:
            w.put_base("localities", locs, [])
            w.put_base("footprints", fps, [])
            for key, gdf in frames.items():
                w.put_layer(key, gdf, [], "partial")
    old = open_snapshot("blekinge", tmp_path / "False")
    new = open_snapshot("blekinge", tmp_path / "True")
    for key, gdf in frames.items():
        assert_frame_equal(old.layer(key), gdf, check_exact=True)
        assert_frame_equal(new.layer(key), gdf, check_exact=True)
    assert_frame_equal(new.localities(), locs, check_exact=True)
    assert_frame_equal(new.footprints(), fps, check_exact=True)
    assert_frame_equal(old.footprints(), fps, check_exact=True)
    codes = sorted(set(locs["municipality"].dropna()))
    assert len(codes) == 5
    for code in codes:
        one = snap.view([code])
        for key, gdf in frames.items():
            assert one.layer_status(key).count == int((gdf["municipality"] == code).sum()) \
                if len(gdf) else one.layer_status(key).count == 0


@pytest.fixture(scope="module")
def two_counties(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Blekinge and Skåne built as one polygon area from the national pack (offline)."""
    pack = Path(__file__).resolve().parents[2] / "shared" / "data" / "sweden"
    if not (pack / "pack.json").is_file():
        pytest.skip("the national pack ../shared/data/sweden is absent")
    from geo.build import build_region

    tmp = tmp_path_factory.mktemp("two-counties")
    counties = gpd.read_file(pack / "boundaries" / "counties.geojson")
    two = counties[counties["lan_code"].astype(str).str.zfill(2).isin(["10", "12"])]
    area = tmp / "blekinge-skane.geojson"
    gpd.GeoDataFrame({"name": ["Blekinge och Skåne"]}, geometry=[two.union_all()],
                     crs=counties.crs).to_file(area, driver="GeoJSON")
    build_region(str(area), packs=[pack], offline=True, data=tmp / "data", default_packs=False)
    yield tmp / "data"


@pytest.mark.slow
def test_blekinge_opens_as_a_view_of_a_two_county_snapshot(two_counties: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    both = open_snapshot("blekinge-skane", two_counties)
    codes = _blekinge_codes()
    assert codes < set(both.manifest["region"]["municipalities"])
    full = {k: both.layer(k) for k in both.layer_keys()}
    full_locs = both.localities()
    reads = _Reads(monkeypatch)
    view = open_region("blekinge", two_counties)
    assert (view.region_key, view.view_of) == ("blekinge", "blekinge-skane")
    checked = 0
    for key, gdf in full.items():
        mine = gdf[gdf["municipality"].isin(codes)].reset_index(drop=True) if len(gdf) else gdf
        assert_frame_equal(view.layer(key), mine, check_exact=True)
        assert view.layer_status(key).count == len(mine)
        checked += len(mine)
    assert checked > 1000
    locs = view.localities()
    assert len(locs) == int(full_locs["municipality"].isin(codes).sum()) > 20
    assert list(view.footprints()["code"]) == list(locs["code"])
    assert reads.parts() <= codes  # nothing of Skåne read
    assert set(view.municipalities()["code"]) == codes


@pytest.mark.parametrize("extra", [
    {},
    {"when": pd.to_datetime(["2020-01-01", "2021-06-01", "2022-01-01"]).tz_localize("Europe/Stockholm")},
    {"grade": pd.Categorical(["a", "b", "a"])},
])
def test_dtypes_survive_the_parts(tmp_path: Path, extra: dict[str, Any]) -> None:
    """Parts drop pyarrow's schema copy only when the pandas metadata restores every dtype."""
    g = gpd.GeoDataFrame({"kind": ["a", "b", "a"], "municipality": ["1080", None, "1080"],
                          "n": [1, 2, 3], "name": ["x", None, "z"], **extra},
                         geometry=[Point(15, 56), Point(15.1, 56), Point(15.2, 56.1)], crs="EPSG:4326")
    with write_snapshot("t", {"name": "T"}, tmp_path) as w:
        w.put_layer("x", g, [PROV], "partial")
    snap = open_snapshot("t", tmp_path)
    assert_frame_equal(snap.layer("x"), g, check_exact=True)
    assert_frame_equal(snap.layer("x", ["1080"]), g.iloc[[0, 2]].reset_index(drop=True), check_exact=True)
