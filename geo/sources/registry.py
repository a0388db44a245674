"""The source registry: every kind of input a build can read, behind one small protocol.

A build is a list of :class:`Source` objects (made from the CLI's options by
:meth:`BuildOptions.sources`, or by hand). :func:`geo.build.build_sources` reads them in order,
merges what they contributed (:class:`~geo.sources.base.SourceResult`) and hands the result to
the store. A new kind of source is a class with the protocol's four members, registered with
:func:`register`; nothing in :mod:`geo.build` names it.

Kinds (:data:`SOURCES`): ``pack``, ``file``, ``pbf``, ``osm-xml``, ``osm-online``, ``gtfs-zip``,
``gtfs-url``.

Stages: ``base`` sources (packs, files) are read for the region as resolved; their municipality
boundaries then keep the coastal islands in the region polygon (see
:func:`geo.build._island_keeping`), and the ``region`` sources (OpenStreetMap, GTFS) are read for
that polygon.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, TypeVar, runtime_checkable

from layers import kind_rules_digest
from layers.vocab import NETWORK_MODES, NetworkMode

from ..errors import DataSourceError, OfflineError
from ..messages import Message
from ..schema import Provenance
from ..settings import pack_dirs
from ..store import GtfsParameters, InputEntry, SourceFingerprint, SourceOptions
from .base import MapFn, SourceResult

if TYPE_CHECKING:
    import geopandas as gpd

    from ..regions import Region
    from ..store import Snapshot

__all__ = ["ONLINE_KINDS", "SOURCES", "BuildContext", "BuildOptions", "FileSource", "GtfsUrlSource",
           "GtfsWindow", "GtfsZipSource", "InputCheck", "OsmOnlineSource", "OsmXmlSource",
           "PackSource", "PbfSource", "PlaceSource", "Source", "Stage", "check_inputs",
           "file_fingerprint", "input_key", "network_modes", "rebuild_command", "register",
           "source_options"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
Stage = Literal["base", "region"]


@dataclass
class BuildContext:
    """What every source's :meth:`Source.read` may use besides the region.

    Attributes
    ----------
    municipalities
        Code -> name of the region's municipalities as resolved (before the island-keeping step).
    modes
        Street networks to read (``walk``, ``bike``, ``drive``).
    offline
        Never touch the network.
    say
        Progress callback: one short line before each step.
    notes
        The build's own notes (listed before the sources' notes in the manifest); a source adds
        one with :meth:`note` when it contributes nothing and says why.
    map
        How a source's independent files are read (the builtin ``map``: one after the other;
        :func:`geo.distributed.dask_map`: as tasks of a Dask cluster); see
        :func:`geo.sources.pack.read_pack`.
    """

    municipalities: dict[str, str]
    modes: tuple[str, ...] = ("walk",)
    offline: bool = False
    say: Progress = field(default=lambda msg: None)
    notes: list[str] = field(default_factory=list)
    map: MapFn = map


    def note(self, text: str) -> None:
        """Add a line to the build's notes."""
        self.notes.append(text)


@runtime_checkable
class Source(Protocol):
    """One input of a build.

    ``kind`` names it in :data:`SOURCES`; ``stage`` says when it is read (see the module's
    docstring). :meth:`read` returns what the source contributes, with its manifest ``inputs``
    entry in :attr:`SourceResult.inputs` (none when it contributed nothing). :meth:`fingerprint`
    identifies the input and the options it is read with, without reading it: equal fingerprints,
    same contribution (the rebuild check).
    """

    kind: ClassVar[str]
    stage: ClassVar[Stage]

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        """Read the source for ``region``."""
        ...

    def fingerprint(self) -> str:
        """A digest of the input (its bytes, or its query) and the options it is read with."""
        ...


@runtime_checkable
class PlaceSource(Protocol):
    """A source that can also give settlements when no source gave tätorter (a PBF extract)."""

    def places(self, region: Region) -> tuple[gpd.GeoDataFrame, str]:
        """Settlements in the locality schema, and a short text saying where they come from."""
        ...


#: Every registered kind of source: ``kind`` -> class.
SOURCES: dict[str, type[Source]] = {}

_S = TypeVar("_S", bound=type[Source])


def register(cls: _S) -> _S:
    """Class decorator: add a source class to :data:`SOURCES` under its ``kind``."""
    if cls.kind in SOURCES and SOURCES[cls.kind] is not cls:
        raise ValueError(f"a source of kind {cls.kind!r} is already registered")
    SOURCES[cls.kind] = cls
    return cls


def file_fingerprint(path: str | os.PathLike[str]) -> InputEntry:
    """Size, modification time and (for files up to 512 MB) sha256 of an input file or folder.

    The digests are remembered per process for as long as the files' sizes and modification
    times (ns) stay the same: a build fingerprints each input before reading it and again in its
    manifest entry, and a large extract is hashed once, not twice.
    """
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
        stats = tuple((f.relative_to(p).as_posix(), *_stat_key(f)) for f in files)
        return {"path": str(p), "files": len(files), "sha256": _folder_sha256(str(p), stats)}
    st = p.stat()
    out: InputEntry = {"path": str(p), "bytes": st.st_size, "mtime": int(st.st_mtime)}
    if st.st_size <= 512 << 20:
        out["sha256"] = _file_sha256(str(p), *_stat_key(p))
    return out


def _stat_key(path: Path) -> tuple[int, int, int]:
    """What must stay equal for a remembered digest to still hold: size, mtime (ns), inode."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


@functools.lru_cache(maxsize=4096)
def _file_sha256(path: str, size: int, mtime_ns: int, ino: int) -> str:
    """sha256 of a file's bytes (the stat arguments only key the cache)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.lru_cache(maxsize=256)
def _folder_sha256(folder: str, stats: tuple[tuple[str, int, int, int], ...]) -> str:
    """sha256 over each file's relative path and bytes, in path order (``stats`` keys the cache)."""
    h = hashlib.sha256()
    for rel, *_ in stats:
        h.update(rel.encode())
        h.update((Path(folder) / rel).read_bytes())
    return h.hexdigest()


def _digest(kind: str, entry: InputEntry, options: object = None) -> str:
    """sha256 of a source's kind, input entry and options (canonical JSON)."""
    text = json.dumps({"kind": kind, "input": dict(entry), "options": options}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _content(entry: InputEntry) -> InputEntry:
    """``entry`` without its modification time (a touched but unchanged file is the same input)."""
    if "sha256" not in entry:
        return entry
    return {k: v for k, v in entry.items() if k != "mtime"}  # type: ignore[return-value]


# -- base stage: packs and files ------------------------------------------------------------------
@register
@dataclass(frozen=True)
class PackSource:
    """A data pack folder (``pack.json``), read by :func:`geo.sources.pack.read_pack`."""

    kind: ClassVar[str] = "pack"
    stage: ClassVar[Stage] = "base"
    path: Path

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        """Read the pack for the region's municipalities."""
        from .pack import read_pack

        ctx.say(f"reading pack {self.path.name}")
        result = read_pack(self.path, municipalities=ctx.municipalities or None, map=ctx.map)
        result.inputs[input_key(self)] = file_fingerprint(self.path)
        return result

    def fingerprint(self) -> str:
        """Digest of every file of the pack."""
        return _digest(self.kind, _content(file_fingerprint(self.path)))


@register
@dataclass(frozen=True)
class FileSource:
    """One file of the user's added to one layer (``--file LAYER=PATH``); every lost row counts."""

    kind: ClassVar[str] = "file"
    stage: ClassVar[Stage] = "base"
    layer: str
    path: Path
    crs: str | None = None

    @property
    def origin(self) -> str:
        """The label its features and drops are counted under (``file NAME``)."""
        return f"file {self.path.name}"

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        """Read the file into its layer (CSV coordinates in ``crs``, default WGS 84)."""
        from .pack import read_file_as_layer

        ctx.say(f"reading {self.path.name} into {self.layer}")
        gdf = read_file_as_layer(self.path, self.layer, municipalities=ctx.municipalities,
                                 crs=crs_text(self.crs), origin=self.origin)
        extra = SourceResult(name=self.origin)
        extra.strict_origins.add(self.origin)
        extra.drops[self.origin] = {"no_coordinates": int(gdf.attrs.get("no_coordinates", 0))}
        prov = Provenance(source=f"user file {self.path.name}", license="unknown (user file)",
                          coverage="partial")
        extra.add_layer(self.layer, gdf, prov)
        extra.inputs[input_key(self)] = file_fingerprint(self.path)
        return extra

    def fingerprint(self) -> str:
        """Digest of the file's bytes, its layer and its CRS."""
        return _digest(self.kind, _content(file_fingerprint(self.path)), [self.layer, self.crs])


def crs_text(crs: str | None) -> str:
    """``"3006"``, ``"epsg:3006"`` or ``"EPSG:3006"`` -> ``"EPSG:3006"`` (default WGS 84)."""
    if not crs:
        return "EPSG:4326"
    import pyproj

    text = str(crs).strip()
    text = f"EPSG:{text}" if text.isdigit() else text
    try:
        pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise DataSourceError(f"--file-crs {crs!r} is not a CRS pyproj knows; give an EPSG code such "
                              "as 3006 (SWEREF 99 TM) or 4326 (WGS 84)") from None
    return text.upper() if text.lower().startswith("epsg:") else text


# -- region stage: OpenStreetMap -------------------------------------------------------------------
@register
@dataclass(frozen=True)
class PbfSource:
    """A local OpenStreetMap extract (``.osm.pbf``, pyrosm); also gives fallback places."""

    kind: ClassVar[str] = "pbf"
    stage: ClassVar[Stage] = "region"
    path: Path

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        """Theme features and street networks inside the region polygon."""
        from .osm import osm_from_pbf

        ctx.say(f"reading OpenStreetMap extract {self.path.name}")
        result = osm_from_pbf(self.path, region.polygon, modes=ctx.modes)
        result.inputs[input_key(self)] = file_fingerprint(self.path)
        return result

    def places(self, region: Region) -> tuple[gpd.GeoDataFrame, str]:
        """Settlements (place=city/town/village/hamlet) of the extract inside the region."""
        from .osm import osm_places_from_pbf

        return (osm_places_from_pbf(self.path, region.polygon),
                f"OpenStreetMap place=town/village ({self.path.name})")

    def fingerprint(self) -> str:
        """Digest of the extract's bytes."""
        return _digest(self.kind, _content(file_fingerprint(self.path)))


@register
@dataclass(frozen=True)
class OsmXmlSource:
    """A local OpenStreetMap XML file (``.osm``, osmnx)."""

    kind: ClassVar[str] = "osm-xml"
    stage: ClassVar[Stage] = "region"
    path: Path

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        """Theme features and street networks inside the region polygon."""
        from .osm import osm_from_xml

        ctx.say(f"reading OpenStreetMap XML {self.path.name}")
        result = osm_from_xml(self.path, region.polygon, modes=ctx.modes)
        result.inputs[input_key(self)] = file_fingerprint(self.path)
        return result

    def fingerprint(self) -> str:
        """Digest of the file's bytes."""
        return _digest(self.kind, _content(file_fingerprint(self.path)))


_OVERPASS_QUERY = "features and networks for the region polygon"


@register
@dataclass(frozen=True)
class OsmOnlineSource:
    """OpenStreetMap through Overpass (osmnx, cached); offline or unreachable it only notes why."""

    kind: ClassVar[str] = "osm-online"
    stage: ClassVar[Stage] = "region"

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        """Query the region polygon; an unreachable Overpass leaves the OSM layers missing."""
        empty = SourceResult(name="OpenStreetMap (Overpass)")
        if ctx.offline:
            ctx.note("OpenStreetMap not loaded (offline): pass --pbf FILE, or build online")
            return empty
        from .osm import osm_online

        ctx.say("querying OpenStreetMap (Overpass, cached)")
        try:
            result = osm_online(region.polygon, modes=ctx.modes)
        except OfflineError as exc:
            log.warning("OpenStreetMap unavailable: %s", exc)
            ctx.note(f"OpenStreetMap unavailable ({exc}); its layers are missing")
            return empty
        result.inputs[input_key(self)] = {"query": _OVERPASS_QUERY}
        return result

    def fingerprint(self) -> str:
        """Digest of the query (the answer is whatever Overpass holds today)."""
        return _digest(self.kind, {"query": _OVERPASS_QUERY})


# -- region stage: GTFS ----------------------------------------------------------------------------
@dataclass(frozen=True)
class GtfsWindow:
    """When departures are counted: a weekday (or a date, zip only) between two hours."""

    weekday: str = "tuesday"
    date: str | None = None
    hours: tuple[int, int] = (7, 19)

    def parameters(self) -> GtfsParameters:
        """The manifest's ``parameters.gtfs``."""
        return {"weekday": self.weekday, "date": self.date, "hours": list(self.hours)}


@register
@dataclass(frozen=True)
class GtfsZipSource:
    """A local GTFS zip: a ``transit`` layer with departures per hour."""

    kind: ClassVar[str] = "gtfs-zip"
    stage: ClassVar[Stage] = "region"
    path: Path
    window: GtfsWindow = GtfsWindow()

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        """Stops in or near the region polygon, departures counted in the window."""
        from .gtfs import gtfs_from_zip

        ctx.say(f"reading GTFS {self.path.name}")
        result = gtfs_from_zip(self.path, region.polygon, weekday=self.window.weekday,
                               date=self.window.date, hours=self.window.hours)
        result.inputs[input_key(self)] = file_fingerprint(self.path)
        result.parameters["gtfs"] = self.window.parameters()
        return result

    def fingerprint(self) -> str:
        """Digest of the zip's bytes and the departure window."""
        return _digest(self.kind, _content(file_fingerprint(self.path)), self.window.parameters())


@register
@dataclass(frozen=True, repr=False)
class GtfsUrlSource:
    """A GTFS feed URL (downloaded once, cached); the key is never shown nor fingerprinted."""

    kind: ClassVar[str] = "gtfs-url"
    stage: ClassVar[Stage] = "region"
    url: str
    key: str | None = None
    window: GtfsWindow = GtfsWindow()

    def __repr__(self) -> str:
        # the URL's query may carry the API key (Trafiklab's ?key=...): never shown
        return f"GtfsUrlSource(url={self.url.split('?')[0]!r}, window={self.window!r})"

    def read(self, region: Region, ctx: BuildContext) -> SourceResult:
        """Fetch (or reuse) the feed and read it like a zip (weekday only, no date)."""
        from .gtfs import gtfs_from_url

        ctx.say("fetching GTFS feed (cached)")
        result = gtfs_from_url(self.url, self.key, polygon=region.polygon, offline=ctx.offline,
                               weekday=self.window.weekday, hours=self.window.hours)
        result.inputs[input_key(self)] = {"url": self.url.split("?")[0]}
        result.parameters["gtfs"] = self.window.parameters()
        return result

    def fingerprint(self) -> str:
        """Digest of the URL (without its query) and the departure window."""
        return _digest(self.kind, {"url": self.url.split("?")[0]}, self.window.parameters())


# -- the build's options -> sources ----------------------------------------------------------------
def network_modes(modes: Iterable[str]) -> tuple[NetworkMode, ...]:
    """``modes`` as :class:`~layers.vocab.NetworkMode` members (one-line error naming unknown ones)."""
    modes = tuple(modes)
    bad = [str(m) for m in modes if m not in NETWORK_MODES]
    if bad:
        raise DataSourceError(f"unknown --modes {', '.join(bad)}; use {', '.join(NETWORK_MODES)}")
    return tuple(NetworkMode(m) for m in modes)


def _path(value: str | os.PathLike[str] | None) -> Path | None:
    return None if value is None else Path(value)


def _absolute(path: Path | None) -> str | None:
    return None if path is None else str(path.resolve())


@dataclass(frozen=True, repr=False)
class BuildOptions:
    """What a build is asked for (``livability build``'s options, :func:`geo.build.build_region`'s).

    One typed value for the CLI, :func:`geo.build.build_region` and the manifest's record of the
    options (``parameters.sources``: :meth:`to_record`, :meth:`from_record`). Sequences are kept
    as tuples, paths as :class:`~pathlib.Path`, modes as :class:`~layers.vocab.NetworkMode`;
    construction checks the modes, the departure window and the CRS (one-line
    :class:`~geo.errors.DataSourceError`). Whether the inputs exist is found when they are read
    (the rebuild check reports a missing one). The API key is never shown nor recorded.

    Attributes
    ----------
    packs
        Data pack folders; the packs under ``<data>/packs/`` are added when ``default_packs``.
    files
        ``(layer, path)`` pairs: single files added to a layer (a planner's own data).
    pbf, osm_xml
        Local OpenStreetMap extract (``.osm.pbf`` through pyrosm, ``.osm`` XML through osmnx).
        Without either, OpenStreetMap is queried online (osmnx, cached under ``<data>/cache``)
        unless ``offline``; a failed query leaves those layers missing.
    gtfs, gtfs_url, gtfs_key
        A local GTFS zip, or a feed URL with its API key (cached).
    gtfs_weekday, gtfs_date, gtfs_hours
        Departures are counted on that weekday (a representative date in the feed) or on that
        date (``YYYY-MM-DD``, zip only), between those hours.
    offline
        Never touch the network.
    data
        Store folder (default ``./data`` or ``$LIVABILITY_DATA_DIR``).
    modes
        Street networks to store (``walk``, ``bike``, ``drive``) from OSM sources.
    default_packs
        Add the packs under ``<data>/packs/``.
    file_crs
        CRS of the CSV coordinates of ``files`` (default WGS 84 degrees), e.g. ``EPSG:3006``.
    """

    packs: tuple[Path, ...] = ()
    files: tuple[tuple[str, Path], ...] = ()
    pbf: Path | None = None
    osm_xml: Path | None = None
    gtfs: Path | None = None
    gtfs_url: str | None = None
    gtfs_key: str | None = field(default=None, repr=False)
    gtfs_weekday: str = "tuesday"
    gtfs_date: str | None = None
    gtfs_hours: tuple[int, int] = (7, 19)
    offline: bool = False
    data: Path | None = None
    modes: tuple[NetworkMode, ...] = (NetworkMode.WALK,)
    default_packs: bool = True
    file_crs: str | None = None

    def __post_init__(self) -> None:
        from .gtfs import check_window

        put = functools.partial(object.__setattr__, self)
        put("packs", tuple(Path(p) for p in self.packs or ()))
        put("files", tuple((str(layer), Path(path)) for layer, path in self.files))
        for name in ("pbf", "osm_xml", "gtfs", "data"):
            put(name, _path(getattr(self, name)))
        put("gtfs_hours", tuple(self.gtfs_hours))
        put("modes", network_modes(self.modes))
        check_window(self.gtfs_weekday, self.gtfs_date, self.gtfs_hours)
        if self.file_crs:
            crs_text(self.file_crs)

    def __repr__(self) -> str:
        # the URL's query may carry the API key (Trafiklab's ?key=...): never shown
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.repr}
        if self.gtfs_url:
            shown["gtfs_url"] = self.gtfs_url.split("?")[0]
        return f"BuildOptions({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    @property
    def window(self) -> GtfsWindow:
        """The departure window of the GTFS sources."""
        return GtfsWindow(self.gtfs_weekday, self.gtfs_date, self.gtfs_hours)

    def sources(self) -> list[Source]:
        """The sources these options select, in reading order (see :func:`geo.build.build_sources`).

        Packs (given, then those under ``<data>/packs/`` when ``default_packs``; each folder
        once), files, the PBF extract, the OSM XML, OpenStreetMap online when neither extract is
        given, the GTFS zip, the GTFS URL.
        """
        pack_list = [p.expanduser().resolve() for p in self.packs]
        if self.default_packs:
            pack_list += [p.resolve() for p in pack_dirs(self.data)]
        out: list[Source] = [PackSource(p) for p in dict.fromkeys(pack_list)]
        out += [FileSource(layer, path, self.file_crs) for layer, path in self.files]
        if self.pbf is not None:
            out.append(PbfSource(self.pbf))
        if self.osm_xml is not None:
            out.append(OsmXmlSource(self.osm_xml))
        if self.pbf is None and self.osm_xml is None:
            out.append(OsmOnlineSource())
        if self.gtfs is not None:
            out.append(GtfsZipSource(self.gtfs, self.window))
        if self.gtfs_url:
            out.append(GtfsUrlSource(self.gtfs_url, self.gtfs_key, self.window))
        return out

    @classmethod
    def of_sources(cls, sources: Sequence[Source], *, default_packs: bool = False,
                   data: str | os.PathLike[str] | None = None) -> BuildOptions:
        """The options that select ``sources`` again (kinds the options cannot name are left out).

        ``default_packs`` says the packs under ``<data>/packs/`` among them were found there.
        """
        files = [s for s in sources if isinstance(s, FileSource)]
        url = next((s for s in sources if isinstance(s, GtfsUrlSource)), None)
        window = next((s.window for s in sources if isinstance(s, (GtfsZipSource, GtfsUrlSource))),
                      GtfsWindow())
        return cls(
            packs=tuple(s.path for s in sources if isinstance(s, PackSource)),
            files=tuple((s.layer, s.path) for s in files),
            pbf=next((s.path for s in sources if isinstance(s, PbfSource)), None),
            osm_xml=next((s.path for s in sources if isinstance(s, OsmXmlSource)), None),
            gtfs=next((s.path for s in sources if isinstance(s, GtfsZipSource)), None),
            gtfs_url=url.url if url else None, gtfs_key=url.key if url else None,
            gtfs_weekday=window.weekday, gtfs_date=window.date, gtfs_hours=window.hours,
            data=_path(data), default_packs=default_packs,
            file_crs=files[0].crs if files else None)

    def to_record(self) -> SourceOptions:
        """The manifest's record of these options (``parameters.sources`` without region and fingerprints).

        Paths are absolute; the packs found under ``<data>/packs/`` are left to be found there
        again when ``default_packs`` (a pack added there later is a new input, one removed a
        missing input); ``gtfs_url`` loses its query and the key is never recorded; the GTFS
        window is the default one without a GTFS source, ``file_crs`` None without files.
        """
        defaults = {p.resolve() for p in pack_dirs(self.data)} if self.default_packs else set()
        packs = dict.fromkeys(p.expanduser().resolve() for p in self.packs)
        gtfs_given = self.gtfs is not None or bool(self.gtfs_url)
        return SourceOptions(
            packs=[str(p) for p in packs if p not in defaults],
            default_packs=self.default_packs,
            files=[[layer, str(path.resolve())] for layer, path in self.files],
            file_crs=self.file_crs if self.files else None,
            pbf=_absolute(self.pbf),
            osm_xml=_absolute(self.osm_xml),
            gtfs=_absolute(self.gtfs),
            gtfs_url=self.gtfs_url.split("?")[0] if self.gtfs_url else None,
            gtfs_window=(self.window if gtfs_given else GtfsWindow()).parameters(),
        )

    @classmethod
    def from_record(cls, record: SourceOptions,
                    data: str | os.PathLike[str] | None = None) -> BuildOptions:
        """The options :meth:`to_record` recorded (packs under ``<data>/packs/`` found again).

        Only what selects the sources is recorded: ``modes`` and ``offline`` (recorded in the
        manifest's ``parameters`` themselves) take their defaults, ``gtfs_key`` is None.
        """
        window = record.get("gtfs_window") or GtfsWindow().parameters()
        hours = window.get("hours") or [7, 19]
        return cls(
            packs=tuple(Path(p) for p in record.get("packs", [])),
            files=tuple((f[0], Path(f[1])) for f in record.get("files", [])),
            pbf=_path(record.get("pbf")), osm_xml=_path(record.get("osm_xml")),
            gtfs=_path(record.get("gtfs")), gtfs_url=record.get("gtfs_url"),
            gtfs_weekday=window.get("weekday") or "tuesday", gtfs_date=window.get("date"),
            gtfs_hours=(int(hours[0]), int(hours[1])), data=_path(data),
            default_packs=bool(record.get("default_packs", False)),
            file_crs=record.get("file_crs"))


# -- the rebuild check -----------------------------------------------------------------------------
#: Kinds whose input is whatever a server holds today: no cheap fingerprint, never called fresh.
ONLINE_KINDS = frozenset({"osm-online", "gtfs-url"})

_INPUT_KEYS: dict[str, Callable[[Source], str]] = {
    "pack": lambda s: f"pack:{s.path.name}",  # type: ignore[attr-defined]
    "file": lambda s: f"file:{s.layer}:{s.path.name}",  # type: ignore[attr-defined]
    "pbf": lambda s: "osm:pbf",
    "osm-xml": lambda s: "osm:xml",
    "osm-online": lambda s: "osm:overpass",
    "gtfs-zip": lambda s: "gtfs:zip",
    "gtfs-url": lambda s: "gtfs:url",
}


def input_key(source: Source) -> str:
    """The source's name in the manifest's ``inputs``: ``pack:NAME``, ``file:LAYER:NAME``, ``osm:pbf`` ..."""
    key = _INPUT_KEYS.get(source.kind)
    return key(source) if key else f"{source.kind}:{getattr(source, 'path', '')}"


def _name(source: Source) -> str:
    """What the user calls the source's input: its file or folder name ("" for online sources)."""
    path = getattr(source, "path", None)
    return path.name if isinstance(path, Path) else ""


def _resolved(source: Source) -> Source:
    """``source`` with an absolute ``path`` (its fingerprint then does not depend on the cwd)."""
    path = getattr(source, "path", None)
    if isinstance(path, Path) and dataclasses.is_dataclass(source):
        return dataclasses.replace(source, path=path.resolve())
    return source


def source_options(region: str, sources: Sequence[Source], *, default_packs: bool = False,
                   data: str | os.PathLike[str] | None = None) -> SourceOptions:
    """The manifest's ``parameters.sources``: :meth:`BuildOptions.to_record` of ``sources``, and more.

    ``region`` is as the build was asked for (a name, code or absolute polygon path);
    ``default_packs`` and ``data`` as for :meth:`BuildOptions.of_sources`. Every source's
    :meth:`Source.fingerprint` is taken now, before anything is read (``fingerprints``).
    """
    opts = SourceOptions(region=region)
    opts.update(BuildOptions.of_sources(sources, default_packs=default_packs, data=data).to_record())
    opts["fingerprints"] = {}
    for s in map(_resolved, sources):
        try:
            digest = s.fingerprint()
        except OSError:  # the read that follows says what is wrong with the input
            digest = ""
        opts["fingerprints"][input_key(s)] = SourceFingerprint(kind=s.kind, name=_name(s),
                                                               fingerprint=digest)
    opts["rules"] = kind_rules_digest()
    return opts


def rebuild_command(snapshot: Snapshot, data: str | os.PathLike[str] | None = None) -> str:
    """The ``livability build`` command line that rebuilds ``snapshot`` with its recorded options.

    ``data`` (the store folder the user named, if any) is passed on as ``--data-dir``; the GTFS
    API key never appears (``--gtfs-key`` defaults to ``$TRAFIKLAB_API_KEY``).
    """
    params = snapshot.manifest.get("parameters", {})
    opts: SourceOptions = params.get("sources", SourceOptions())
    words = ["livability"]
    if data is not None:
        words += ["--data-dir", str(data)]
    words += ["build", "--region", opts.get("region") or snapshot.region_key]
    words += [w for p in opts.get("packs", []) for w in ("--pack", p)]
    if opts and not opts.get("default_packs", True):
        words.append("--no-default-packs")
    words += [w for layer, path in opts.get("files", []) for w in ("--file", f"{layer}={path}")]
    named = (("--file-crs", opts.get("file_crs")), ("--pbf", opts.get("pbf")),
             ("--osm-xml", opts.get("osm_xml")), ("--gtfs", opts.get("gtfs")),
             ("--gtfs-url", opts.get("gtfs_url")))
    words += [w for flag, value in named if value for w in (flag, value)]
    window = GtfsWindow().parameters()
    if opts.get("gtfs") or opts.get("gtfs_url"):
        window = opts.get("gtfs_window", window)
    if window["weekday"] != "tuesday":
        words += ["--gtfs-weekday", window["weekday"]]
    if window["date"]:
        words += ["--gtfs-date", window["date"]]
    if list(window["hours"]) != [7, 19]:
        words += ["--gtfs-hours", f"{window['hours'][0]}-{window['hours'][1]}"]
    modes = params.get("modes", ["walk"])
    if modes and modes != ["walk"]:
        words += ["--modes", ",".join(modes)]
    if params.get("offline"):
        words.append("--offline")
    return shlex.join(words)


@dataclass(frozen=True)
class InputCheck:
    """What :func:`check_inputs` found.

    Attributes
    ----------
    stale
        One message per input that changed, appeared or disappeared since the build (or one
        saying the snapshot records too little to be checked): rebuild when not empty.
    unchecked
        One message per online source (no cheap fingerprint: neither fresh nor stale).
    checked
        How many local inputs were compared and found unchanged.
    """

    stale: tuple[Message, ...]
    unchecked: tuple[Message, ...]
    checked: int

    @property
    def up_to_date(self) -> bool:
        """No input changed (online sources are not counted either way)."""
        return not self.stale


def check_inputs(snapshot: Snapshot, data: str | os.PathLike[str] | None = None) -> InputCheck:
    """Compare the inputs ``snapshot`` was built from with the inputs its options select today.

    The recorded options (``parameters.sources``) are turned into sources again with
    :meth:`BuildOptions.from_record` (packs under the snapshot's own store's ``packs/`` folder when
    the build used them), and every local source's :meth:`Source.fingerprint` is compared with
    the one recorded at build time. Nothing is read but the inputs' bytes (pack folders, files):
    milliseconds for a pack of a few MB.

    Parameters
    ----------
    snapshot
        An opened snapshot.
    data
        The store folder as the user named it (shown in the rebuild command), or None.

    Returns
    -------
    InputCheck
        Messages ``input_changed``, ``input_added``, ``input_missing``, ``inputs_unrecorded``
        (a build of an older version: stale), ``rules_changed`` (this version gives features
        their kinds by other rules than the build's: stale) and ``input_online``,
        ``inputs_not_built`` (unchecked).
    """
    params = snapshot.manifest.get("parameters", {})
    built = snapshot.built_at[:10]
    command = rebuild_command(snapshot, data)
    opts = params.get("sources")
    if not params:  # written without a build (an import, a test store): nothing to compare
        return InputCheck((), (Message("inputs_not_built", {}),), 0)
    if not opts or "fingerprints" not in opts:
        return InputCheck((Message("inputs_unrecorded", {"built": built, "command": command}),),
                          (), 0)
    recorded = dict(opts["fingerprints"])
    stale: list[Message] = []
    unchecked: list[Message] = []
    checked = 0
    for s in BuildOptions.from_record(opts, snapshot.path.parent).sources():
        key = input_key(s)
        was = recorded.pop(key, None)
        what = [s.kind, _name(s)]
        if s.kind in ONLINE_KINDS:
            if not params.get("offline"):  # an offline build never read it
                unchecked.append(Message("input_online", {"input": what}))
            continue
        if was is None:
            stale.append(Message("input_added", {"input": what, "built": built, "command": command}))
            continue
        try:
            now = s.fingerprint()
        except OSError:
            stale.append(Message("input_missing", {"input": what, "built": built, "command": command}))
            continue
        if now != was["fingerprint"]:
            stale.append(Message("input_changed", {"input": what, "built": built, "command": command}))
        else:
            checked += 1
    for was in recorded.values():  # read by the build, not selected any more (a pack folder gone)
        if was["kind"] in SOURCES and was["kind"] not in ONLINE_KINDS:  # (hand-made kinds: skipped)
            stale.append(Message("input_missing", {"input": [was["kind"], was["name"]],
                                                   "built": built, "command": command}))
    if opts.get("rules") != kind_rules_digest():  # the same inputs read another way
        stale.append(Message("rules_changed", {"built": built, "command": command}))
    return InputCheck(tuple(stale), tuple(unchecked), checked)
