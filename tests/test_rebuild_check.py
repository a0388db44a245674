"""The rebuild check: ``livability info --check`` says which inputs changed since the build.

Every pack here is SYNTHETIC, made in ``tmp_path`` (three invented localities and two schools
around Karlskrona's coordinates, a polygon file around them), so a build takes about a second.
Online sources are never contacted: the two tests that need an online build replace the
Overpass and GTFS download functions with stand-ins that fail or return nothing.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

import geo.sources.gtfs
import geo.sources.osm
from geo.build import build_region, build_sources
from geo.cli import main
from geo.errors import OfflineError
from geo.messages import Message, render
from geo.sources.base import SourceResult
from geo.sources.registry import GtfsUrlSource, OsmOnlineSource, PackSource, check_inputs
from geo.store import open_snapshot

LON, LAT, MUN = 15.59, 56.16, "1080"


def make_pack(folder: Path, schools: int = 2) -> Path:
    """A tiny pack: three localities and ``schools`` schools (all invented)."""
    folder.mkdir(parents=True)
    gpd.GeoDataFrame(
        {"code": ["T1", "T2", "T3"], "name": ["Synthby", "Testköping", "Provåsa"], "mun": [MUN] * 3,
         "pop": [5000, 2000, 800], "area": [300.0, 120.0, 50.0]},
        geometry=[Point(LON, LAT), Point(LON + 0.03, LAT + 0.02), Point(LON - 0.03, LAT + 0.01)],
        crs="EPSG:4326").to_file(folder / "localities.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"name": [f"Skola {i}" for i in range(schools)], "mun": [MUN] * schools},
                     geometry=[Point(LON + 0.004 * i, LAT + 0.003) for i in range(schools)],
                     crs="EPSG:4326").to_file(folder / "schools.geojson", driver="GeoJSON")
    _write_manifest(folder, ["schools.geojson"])
    return folder


def _write_manifest(folder: Path, school_files: list[str]) -> None:
    entry = {"source": "SYNTHETIC test pack", "license": "CC0-1.0", "date": "2026"}
    layers = [{"file": "localities.geojson", "theme": "localities", "coverage": "complete",
               "fields": {"id": "code", "name": "name", "municipality": "mun", "population": "pop",
                          "area_ha": "area"}, **entry}]
    layers += [{"file": f, "theme": "schools", "coverage": "partial", "kind": "school",
                "fields": {"name": "name", "municipality": "mun"}, **entry} for f in school_files]
    (folder / "pack.json").write_text(json.dumps({"name": "synthetic", "layers": layers}),
                                      encoding="utf-8")


@pytest.fixture
def area(tmp_path: Path) -> Path:
    """The region: a polygon file around the pack's places (store key ``area``)."""
    path = tmp_path / "area.geojson"
    gpd.GeoDataFrame({"name": ["area"]}, geometry=[box(LON - 0.1, LAT - 0.06, LON + 0.1, LAT + 0.06)],
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def built(tmp_path: Path, area: Path) -> tuple[Path, Path, str]:
    """``(data, pack, rebuild command)`` of an offline build from one given pack ``synth``."""
    pack = make_pack(tmp_path / "synth")
    data = tmp_path / "data"
    build_region(area, packs=[pack], offline=True, data=data, default_packs=False)
    cmd = shlex.join(["livability", "--data-dir", str(data), "build", "--region", str(area.resolve()),
                      "--pack", str(pack.resolve()), "--no-default-packs", "--offline"])
    return data, pack, cmd


def _check(data: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    rc = main(["--data-dir", str(data), "info", "--region", "area", *extra])
    captured = capsys.readouterr()
    assert captured.err == ""
    return rc, captured.out.splitlines()


def _built(data: Path) -> str:
    return open_snapshot("area", data).built_at[:10]


def test_unchanged_pack_is_up_to_date_and_a_touch_changes_nothing(
        built: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    data, pack, _ = built
    expected = [f"area: up to date (built {_built(data)}; local inputs unchanged: 1)"]
    assert _check(data, capsys, "--check") == (0, expected)
    os.utime(pack / "schools.geojson", (1_000_000_000, 1_000_000_000))  # same bytes, older mtime
    assert _check(data, capsys, "--check") == (0, expected)


@pytest.mark.parametrize("how", ["appended", "replaced"])
def test_a_changed_file_of_the_pack_is_named(built: tuple[Path, Path, str], how: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data, pack, cmd = built
    f = pack / "schools.geojson"
    size = f.stat().st_size
    if how == "appended":
        with f.open("a", encoding="utf-8") as fh:
            fh.write("\n")
    else:  # the same size, one byte different: only the content hash sees it
        text = f.read_text(encoding="utf-8").replace("Skola 1", "Skola 9")
        f.write_text(text, encoding="utf-8")
        assert f.stat().st_size == size
    assert _check(data, capsys, "--check") == (
        1, [f"pack synth changed since the build ({_built(data)}): rebuild with: {cmd}"])


def test_a_new_file_in_pack_json_makes_the_snapshot_stale(built: tuple[Path, Path, str],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    data, pack, cmd = built
    shutil.copyfile(pack / "schools.geojson", pack / "more_schools.geojson")
    _write_manifest(pack, ["schools.geojson", "more_schools.geojson"])
    assert _check(data, capsys, "--check") == (
        1, [f"pack synth changed since the build ({_built(data)}): rebuild with: {cmd}"])


def test_a_removed_pack_folder_is_missing(built: tuple[Path, Path, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data, pack, cmd = built
    shutil.rmtree(pack)
    assert _check(data, capsys, "--check") == (
        1, [f"pack synth is missing (the build of {_built(data)} read it): restore it, or rebuild "
            f"without it: {cmd}"])


def test_default_packs_added_and_removed_under_data_packs(
        tmp_path: Path, area: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    (data / "packs").mkdir(parents=True)
    os.symlink(make_pack(tmp_path / "synth"), data / "packs" / "synth")  # as `make run` links it
    build_region(area, offline=True, data=data)
    built = _built(data)
    cmd = shlex.join(["livability", "--data-dir", str(data), "build", "--region",
                      str(area.resolve()), "--offline"])
    assert _check(data, capsys, "--check")[0] == 0
    make_pack(data / "packs" / "extra")
    assert _check(data, capsys, "--check") == (
        1, [f"pack extra is new since the build ({built}): rebuild with: {cmd}"])
    (data / "packs" / "synth").unlink()
    assert _check(data, capsys, "--check") == (
        1, [f"pack extra is new since the build ({built}): rebuild with: {cmd}",
            f"pack synth is missing (the build of {built} read it): restore it, or rebuild "
            f"without it: {cmd}"])


def test_plain_info_prints_the_stale_line(built: tuple[Path, Path, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data, pack, cmd = built
    rc, lines = _check(data, capsys)
    assert rc == 0 and not [x for x in lines if "stale:" in x]
    with (pack / "schools.geojson").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    rc, lines = _check(data, capsys)
    stale = [x for x in lines if "stale:" in x]
    assert rc == 0 and stale == [
        f"  stale: pack synth changed since the build ({_built(data)}): rebuild with: {cmd}"]
    # Swedish, through the catalogue
    msg = check_inputs(open_snapshot("area", data), data).stale[0]
    assert render(msg, "sv") == (f"datapaketet synth har ändrats sedan bygget ({_built(data)}): "
                                 f"bygg om med: {cmd}")


def test_online_sources_are_not_checked(tmp_path: Path, area: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def no_overpass(*args: object, **kwargs: object) -> SourceResult:
        raise OfflineError("cannot reach Overpass (test)")

    monkeypatch.setattr(geo.sources.osm, "osm_online", no_overpass)
    monkeypatch.setattr(geo.sources.gtfs, "gtfs_from_url",
                        lambda *a, **k: SourceResult(name="GTFS (test)"))
    pack = make_pack(tmp_path / "synth")
    data = tmp_path / "data"
    build_sources(area, [PackSource(pack.resolve()), OsmOnlineSource(),
                         GtfsUrlSource("https://feed.invalid/gtfs.zip?key=SECRET", "SECRET")],
                  data=data)
    rc, lines = _check(data, capsys, "--check")
    assert (rc, lines) == (0, [f"area: up to date (built {_built(data)}; local inputs unchanged: 1)",
                               "OpenStreetMap (Overpass): not checked (online source)",
                               "GTFS feed URL: not checked (online source)"])
    manifest = (data / "area" / "manifest.json").read_text(encoding="utf-8")
    assert "SECRET" not in manifest  # the API key is never recorded


def test_snapshots_that_record_no_sources(built: tuple[Path, Path, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data, _, _ = built
    snap = open_snapshot("area", data)
    built_on = snap.built_at[:10]
    del snap.manifest["parameters"]["sources"]  # a build of an older version
    cmd = shlex.join(["livability", "build", "--region", "area", "--offline"])
    assert check_inputs(snap).stale == (
        Message("inputs_unrecorded", {"built": built_on, "command": cmd}),)
    assert render(check_inputs(snap).stale[0]) == (
        f"the build of {built_on} did not record its sources (an older version): rebuild once "
        f"with: {cmd}")
    snap.manifest["parameters"] = {}  # written without a build
    result = check_inputs(snap)
    assert result.up_to_date and result.unchecked == (Message("inputs_not_built", {}),)


def test_no_snapshot_is_the_usual_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path), "info", "--region", "area", "--check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "livability build --region area" in captured.err


def test_other_kind_rules_make_the_snapshot_stale(built: tuple[Path, Path, str],
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The same inputs, read by a version whose kind rules differ (a new ``name_kinds``): stale,
    so `make run` rebuilds; a store of an older version that recorded no rules is stale too."""
    import geo.sources.registry as registry

    data, _, cmd = built
    assert _check(data, capsys, "--check")[0] == 0
    monkeypatch.setattr(registry, "kind_rules_digest", lambda: "other rules")
    assert _check(data, capsys, "--check") == (
        1, [f"this version gives features their kinds by other rules than the build of "
            f"{_built(data)} did: rebuild with: {cmd}"])
    monkeypatch.undo()
    manifest = data / "area" / "manifest.json"
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    del doc["parameters"]["sources"]["rules"]
    manifest.write_text(json.dumps(doc), encoding="utf-8")
    rc, lines = _check(data, capsys, "--check")
    assert rc == 1 and any("other rules than the build" in line for line in lines)
