"""BuildOptions (geo/sources/registry.py): the one typed options object of a build.

Its fields are checked on construction (the same one-line errors as before), its manifest record
round-trips without the API key, ``build_region(**kw)`` selects the same sources as
``build_region(BuildOptions(...))``, and the CLI turns its arguments into one BuildOptions.
Nothing is built: ``build_sources`` / ``build_region`` are replaced by recorders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import geo.build
from geo.build import build_region
from geo.cli import main
from geo.errors import DataSourceError
from geo.sources.registry import (
    BuildOptions,
    FileSource,
    GtfsUrlSource,
    GtfsWindow,
    GtfsZipSource,
    OsmOnlineSource,
    PackSource,
    PbfSource,
    input_key,
    source_options,
)
from layers.vocab import NetworkMode

WEEKDAYS = "monday, tuesday, wednesday, thursday, friday, saturday, sunday"


def test_fields_are_normalised() -> None:
    o = BuildOptions(packs=["a", Path("b")], files=[["schools", "s.csv"]], pbf="x.osm.pbf",  # type: ignore[arg-type]
                     data="d", modes=["walk", "drive"], gtfs_hours=[6, 9])  # type: ignore[arg-type]
    assert o.packs == (Path("a"), Path("b"))
    assert o.files == (("schools", Path("s.csv")),)
    assert o.pbf == Path("x.osm.pbf") and o.data == Path("d") and o.osm_xml is None
    assert o.modes == (NetworkMode.WALK, NetworkMode.DRIVE)
    assert all(type(m) is NetworkMode for m in o.modes)
    assert o.gtfs_hours == (6, 9) and o.window == GtfsWindow("tuesday", None, (6, 9))
    assert BuildOptions() == BuildOptions(packs=(), modes=("walk",))  # type: ignore[arg-type]
    assert hash(o) == hash(BuildOptions(**{f: getattr(o, f) for f in ("packs", "files", "pbf",
                                                                        "data", "modes", "gtfs_hours")}))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("modes", ("walk", "car", "boat"), "unknown --modes car, boat; use walk, bike, drive"),
    ("gtfs_weekday", "blursday", f"weekday 'blursday' is not a weekday; use one of {WEEKDAYS}"),
    ("gtfs_date", "2026-13-40", "date '2026-13-40' is not a date; use YYYY-MM-DD (e.g. 2026-03-10)"),
    ("gtfs_hours", (19, 7), "hours (19, 7) is not a window; use (start, end) with "
                            "0 <= start < end <= 48, e.g. (7, 19)"),
    ("gtfs_hours", (7,), "hours (7,) is not a window; use (start, end) with "
                         "0 <= start < end <= 48, e.g. (7, 19)"),
    ("file_crs", "EPSG:99999", "--file-crs 'EPSG:99999' is not a CRS pyproj knows; give an EPSG "
                               "code such as 3006 (SWEREF 99 TM) or 4326 (WGS 84)"),
])
def test_each_field_is_checked_with_a_one_line_error(field: str, value: object, message: str) -> None:
    with pytest.raises(DataSourceError) as exc:
        BuildOptions(**{field: value})  # type: ignore[arg-type]
    assert str(exc.value) == message


def test_the_cli_reports_a_bad_option_in_one_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(tmp_path.rglob("*"))
    assert main(["--data-dir", str(tmp_path), "build", "--region", "area.geojson", "--offline",
                 "--gtfs-weekday", "someday"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: weekday 'someday' is not a weekday; use one of {WEEKDAYS}\n"
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """A pack, a default pack under ``<data>/packs/``, a CSV, a PBF and a GTFS zip (bytes only)."""
    out = {"pack": tmp_path / "pack", "default": tmp_path / "data" / "packs" / "dflt",
           "csv": tmp_path / "schools.csv", "pbf": tmp_path / "x.osm.pbf", "zip": tmp_path / "g.zip",
           "data": tmp_path / "data"}
    for pack in (out["pack"], out["default"]):
        pack.mkdir(parents=True)
        (pack / "pack.json").write_text("{}", encoding="utf-8")
    out["csv"].write_text("name,x,y\nA,500000,6200000\n", encoding="utf-8")
    out["pbf"].write_bytes(b"pbf")
    out["zip"].write_bytes(b"zip")
    return out


def _full(inputs: dict[str, Path]) -> BuildOptions:
    return BuildOptions(packs=(inputs["pack"], inputs["default"]),
                        files=(("schools", inputs["csv"]),), pbf=inputs["pbf"], gtfs=inputs["zip"],
                        gtfs_url="https://feed.invalid/g.zip?key=SECRET", gtfs_key="SECRET",
                        gtfs_weekday="monday", gtfs_hours=(6, 9), data=inputs["data"],
                        default_packs=True, file_crs="3006")


def test_the_record_round_trips_without_the_key(inputs: dict[str, Path]) -> None:
    o = _full(inputs)
    rec = o.to_record()
    assert rec == {
        "packs": [str(inputs["pack"].resolve())],  # the default pack is found there again
        "default_packs": True,
        "files": [["schools", str(inputs["csv"].resolve())]],
        "file_crs": "3006",
        "pbf": str(inputs["pbf"].resolve()),
        "osm_xml": None,
        "gtfs": str(inputs["zip"].resolve()),
        "gtfs_url": "https://feed.invalid/g.zip",
        "gtfs_window": {"weekday": "monday", "date": None, "hours": [6, 9]},
    }
    assert "SECRET" not in json.dumps(rec) and "SECRET" not in repr(o)
    assert "https://feed.invalid/g.zip" in repr(o)

    back = BuildOptions.from_record(json.loads(json.dumps(rec)), inputs["data"])
    assert back.gtfs_key is None and back.to_record() == rec
    assert [input_key(s) for s in back.sources()] == [input_key(s) for s in o.sources()] == [
        "pack:pack", "pack:dflt", "file:schools:schools.csv", "osm:pbf", "gtfs:zip", "gtfs:url"]
    assert [s.fingerprint() for s in back.sources()] == [s.fingerprint() for s in o.sources()]

    # the build's record: the options of its sources, between the region and the fingerprints,
    # then the kind rules it read them with
    built = source_options("area", o.sources(), default_packs=True, data=inputs["data"])
    assert list(built) == ["region", *rec, "fingerprints", "rules"]
    from layers import kind_rules_digest

    assert built["rules"] == kind_rules_digest() and len(built["rules"]) == 64
    assert {k: built[k] for k in rec} == rec and built["region"] == "area"  # type: ignore[literal-required]
    assert "SECRET" not in json.dumps(built)


def test_the_record_of_the_defaults(tmp_path: Path) -> None:
    # a weekday without a GTFS source and a CRS without files select nothing: recorded as defaults
    rec = BuildOptions(data=tmp_path, gtfs_weekday="friday", file_crs="3006").to_record()
    assert rec == {"packs": [], "default_packs": True, "files": [], "file_crs": None, "pbf": None,
                   "osm_xml": None, "gtfs": None, "gtfs_url": None,
                   "gtfs_window": {"weekday": "tuesday", "date": None, "hours": [7, 19]}}
    assert BuildOptions.from_record(rec, tmp_path).sources() == [OsmOnlineSource()]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, list[object], dict[str, object]]]:
    calls: list[tuple[object, list[object], dict[str, object]]] = []

    def fake(region: object, sources: list[object], **kw: object) -> str:
        kw.pop("progress")
        calls.append((region, list(sources), kw))
        return "snapshot"

    monkeypatch.setattr(geo.build, "build_sources", fake)
    return calls


def test_keywords_and_options_select_the_same_sources(inputs: dict[str, Path],
                                                      recorder: list[tuple[object, list[object],
                                                                           dict[str, object]]]) -> None:
    kw: dict[str, object] = {"packs": [inputs["pack"]], "files": [("schools", inputs["csv"])],
                             "gtfs": inputs["zip"], "offline": True, "data": inputs["data"],
                             "default_packs": False, "modes": ("walk", "bike")}
    assert build_region("blekinge", **kw) == "snapshot"  # type: ignore[arg-type]
    build_region("blekinge", BuildOptions(**kw))  # type: ignore[arg-type]
    # keywords replace the fields of the options given
    build_region("blekinge", BuildOptions(packs=(inputs["pack"],), gtfs_weekday="sunday"),
                 **{k: v for k, v in kw.items() if k != "packs"}, gtfs_weekday="tuesday")
    assert len(recorder) == 3 and recorder[0] == recorder[1] == recorder[2]
    region, sources, rest = recorder[0]
    assert region == "blekinge"
    assert sources == [PackSource(inputs["pack"].resolve()), FileSource("schools", inputs["csv"]),
                       OsmOnlineSource(), GtfsZipSource(inputs["zip"], GtfsWindow())]
    assert rest == {"offline": True, "data": inputs["data"], "default_packs": False,
                    "modes": (NetworkMode.WALK, NetworkMode.BIKE),
                    "map": map, "submit": None}  # the one-process read and write


def test_an_unknown_keyword_is_a_type_error_naming_it(
        recorder: list[tuple[object, list[object], dict[str, object]]]) -> None:
    with pytest.raises(TypeError) as exc:
        build_region("blekinge", gtfs_weekdya="monday", offline=True)
    assert str(exc.value).startswith(
        "build_region() got an unexpected keyword argument 'gtfs_weekdya': not a field of "
        "BuildOptions (packs, files, pbf, osm_xml, gtfs, gtfs_url, gtfs_key, gtfs_weekday,")
    assert recorder == []  # nothing was built


def test_the_cli_builds_one_options_object(tmp_path: Path, inputs: dict[str, Path],
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[object, object]] = []

    def fake(region: object, options: object = None, **kw: object) -> None:
        assert set(kw) == {"progress"} and callable(kw["progress"])
        seen.append((region, options))
        raise DataSourceError("stop here (test)")

    monkeypatch.setattr(geo.build, "build_region", fake)
    monkeypatch.setenv("TRAFIKLAB_API_KEY", "KEY")
    assert main(["--data-dir", str(inputs["data"]), "build", "--region", "area.geojson",
                 "--pack", str(inputs["pack"]), "--no-default-packs",
                 "--file", f"schools={inputs['csv']}", "--file-crs", "3006",
                 "--pbf", str(inputs["pbf"]), "--gtfs", str(inputs["zip"]),
                 "--gtfs-url", "https://feed.invalid/g.zip", "--gtfs-weekday", "saturday",
                 "--gtfs-hours", "8-12", "--modes", "walk, bike", "--offline", "--quiet"]) == 2
    assert capsys.readouterr().err == "error: stop here (test)\n"
    assert seen == [("area.geojson", BuildOptions(
        packs=(inputs["pack"],), files=(("schools", inputs["csv"]),), pbf=inputs["pbf"],
        gtfs=inputs["zip"], gtfs_url="https://feed.invalid/g.zip", gtfs_key="KEY",
        gtfs_weekday="saturday", gtfs_hours=(8, 12), offline=True, data=inputs["data"],
        modes=(NetworkMode.WALK, NetworkMode.BIKE), default_packs=False, file_crs="3006"))]
    assert [type(s).kind for s in seen[0][1].sources()] == [  # type: ignore[union-attr]
        "pack", "file", "pbf", "gtfs-zip", "gtfs-url"]
    assert isinstance(seen[0][1].sources()[2], PbfSource)  # type: ignore[union-attr]
    assert isinstance(seen[0][1].sources()[4], GtfsUrlSource)  # type: ignore[union-attr]
