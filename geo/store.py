"""The local store: one snapshot per region, GeoParquet per layer plus a manifest.

Layout of the data folder::

    <region>                          symlink -> .snapshots/<region>/<version> (the current snapshot)
    .snapshots/<region>/<version>/    one immutable folder per build
    .locks/<region>.lock              held (flock) while a build of <region> runs

and of one snapshot folder::

    manifest.json            region, build time, parameters, per-file sha256, per-layer provenance
    boundary.parquet         the region's polygon (EPSG:4326)
    municipalities.parquet   municipality polygons (code, name)
    localities.parquet       tätorter or a fallback (schema.LOCALITY_COLUMNS)
    layers/<key>.parquet     theme layers (schema.FEATURE_COLUMNS)
    tables/<name>.parquet    municipal statistics (municipality code + value columns)
    network/<mode>_nodes.parquet, network/<mode>_edges.parquet   street networks

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
layer/table/network row counts must match the stored files; anything else is reported as a one-line
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
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

import geopandas as gpd
import pandas as pd

from . import __version__
from .errors import LivabilityError, StoreError
from .fsutil import fsync_dir
from .geoparquet import read_geoparquet
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
    "SCHEMA_VERSION",
    "SWAP_STEPS",
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
    "ProvenanceEntry",
    "Snapshot",
    "SnapshotWriter",
    "SourceFingerprint",
    "SourceOptions",
    "TableEntry",
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
#: 2: layer reasons are messages (``{"code": ..., ...}``), no longer English text
SCHEMA_VERSION = 2
#: The base tables a snapshot may store (``footprints``: one outline or disc per locality).
BASE_TABLES = ("boundary", "municipalities", "localities", "footprints")
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


class BaseEntry(TypedDict):
    """``base.<name>``: a base table; ``localities`` adds its coverage, ``footprints`` a summary."""

    file: str
    count: int
    sources: list[ProvenanceEntry]
    coverage: NotRequired[str]
    outlines: NotRequired[int]
    matched: NotRequired[int]
    matched_by_name: NotRequired[int]
    matched_by_overlap: NotRequired[int]
    discs: NotRequired[int]
    unmatched_localities: NotRequired[list[str]]
    unmatched_outlines: NotRequired[list[str]]


class LayerEntry(TypedDict):
    """``layers.<key>``: a theme layer (no ``file`` when it has no feature)."""

    count: int
    coverage: str
    sources: list[ProvenanceEntry]
    kinds: dict[str, int]
    file: NotRequired[str]
    reason: NotRequired[dict[str, Any]]  # a geo.messages.Message (Message.to_dict)
    gaps: NotRequired[list[str]]


class TableEntry(TypedDict):
    """``tables.<name>``: a statistics table."""

    file: str
    rows: int
    sources: list[ProvenanceEntry]
    what: NotRequired[str]


class NetworkEntry(TypedDict):
    """``networks.<mode>``: a street network's node and edge counts."""

    nodes: int
    edges: int
    sources: list[ProvenanceEntry]


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
    API key is never recorded). ``fingerprints`` is keyed like ``inputs``.
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
    for rel, n in counted:
        if isinstance(rel, str):
            out[rel] = n
    for mode, entry in m["networks"].items():
        out[f"network/{mode}_nodes.parquet"] = entry["nodes"]
        out[f"network/{mode}_edges.parquet"] = entry["edges"]
    return out


def _entries_problem(m: dict[str, Any]) -> str | None:
    """What is wrong with the base/layers/tables/networks entries of ``m`` (None: nothing)."""
    files = m["files"]
    named = [e.get("file") for s in ("base", "layers", "tables") for e in m[s].values()
             if isinstance(e, dict) and e.get("file")] + list(m["networks"])
    if not files and named:
        return f"'files' is empty, yet the manifest names {len(named)} stored files"
    for section, count in (("base", "count"), ("layers", "count"), ("tables", "rows")):
        for name, entry in m[section].items():
            if not isinstance(entry, dict):
                return f"'{section}.{name}' is not an object"
            if not _is_count(entry.get(count)):
                return f"'{section}.{name}.{count}' is {entry.get(count)!r}, not a count"
            rel = entry.get("file")
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
            and manifest["schema_version"] != SCHEMA_VERSION:
        raise StoreError(message=Message("store_schema", {
            "shown": str(shown), "version": manifest["schema_version"], "reads": SCHEMA_VERSION,
            "region": key}))
    problem = _manifest_problem(manifest)
    if problem:
        raise StoreError(message=Message("store_manifest_damaged", {
            "shown": str(shown), "problem": problem, "region": key}))
    return cast(Manifest, manifest)  # its structure checked just above


def _num_rows(path: Path) -> int | str:
    """Rows of a Parquet file from its footer (cheap), or why it cannot be read."""
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception as exc:  # pyarrow raises several types for damaged files
        return f"unreadable: {str(exc).splitlines()[0][:80]}"


def _verify(folder: Path, manifest: Manifest) -> list[str]:
    """Problems of the files of a snapshot: missing, unlisted, checksum or row count differs."""
    listed: dict[str, str] = manifest["files"]
    present = {f.relative_to(folder).as_posix() for f in folder.rglob("*")
               if f.is_file() or f.is_symlink()} - {MANIFEST}
    bad = [f"{rel} (missing)" for rel in sorted(set(listed) - present)]
    bad += [f"{rel} (not in the manifest)" for rel in sorted(present - set(listed))]
    ok = []
    for rel in sorted(set(listed) & present):
        if _sha256(folder / rel) != listed[rel]:
            bad.append(f"{rel} (checksum differs)")
        else:
            ok.append(rel)
    rows = _expected_rows(manifest)
    for rel in ok:
        if rel in rows:
            n = _num_rows(folder / rel)
            if n != rows[rel]:
                bad.append(f"{rel} ({n} rows, the manifest says {rows[rel]})" if isinstance(n, int)
                           else f"{rel} ({n})")
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


class Snapshot:
    """A verified, read-only snapshot of one region.

    Use :func:`open_snapshot` to get one. Reads are lazy and memoised per instance. ``path`` is
    the snapshot's name in the store (``<data>/<region>``); ``folder`` is the immutable version
    folder every read goes to, so a build finishing meanwhile never mixes two versions.
    """

    def __init__(self, path: Path, manifest: Manifest, folder: Path | None = None) -> None:
        self.path = path
        self.folder = folder or path
        self.manifest: Manifest = manifest
        self._gdfs: dict[str, gpd.GeoDataFrame] = {}
        self._dfs: dict[str, pd.DataFrame | None] = {}
        try:
            self._rows = _expected_rows(manifest)
        except (KeyError, AttributeError, TypeError):  # an unvalidated manifest (verify=False)
            self._rows = {}

    # -- metadata -------------------------------------------------------------------------
    @property
    def region_key(self) -> str:
        """The region's key (folder name)."""
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
        """Return the status of layer ``key``; unknown keys are reported as missing."""
        entry = self.manifest.get("layers", {}).get(key)
        if entry is None:
            return LayerStatus(key, 0, "missing", reason=Message("layer_not_in_snapshot"))
        return LayerStatus(
            key=key,
            count=int(entry.get("count", 0)),
            coverage=str(entry.get("coverage", "missing")),
            sources=tuple(Provenance.from_dict(dict(p)) for p in entry.get("sources", [])),
            kinds={str(k): int(v) for k, v in entry.get("kinds", {}).items()},
            reason=_reason(entry.get("reason")),
        )

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

    def _check_rows(self, rel: str, frame: pd.DataFrame) -> None:
        expected = self._rows.get(rel)
        if expected is not None and len(frame) != expected:
            raise self._damaged(f"{rel} ({len(frame)} rows, the manifest says {expected})")

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

    def layer(self, key: str) -> gpd.GeoDataFrame:
        """Return layer ``key`` (an empty frame in the feature schema when it has no data)."""
        gdf = self._read_gdf(f"layers/{key}.parquet")
        return gdf.copy() if gdf is not None else empty_features()

    def boundary(self) -> gpd.GeoDataFrame:
        """Return the region's boundary polygon(s)."""
        gdf = self._read_gdf("boundary.parquet")
        if gdf is None:
            raise StoreError(message=Message("store_no_boundary", {"path": str(self.path)}))
        return gdf.copy()

    def municipalities(self) -> gpd.GeoDataFrame:
        """Return municipality polygons (``code``, ``name``); may be empty for custom areas."""
        gdf = self._read_gdf("municipalities.parquet")
        if gdf is None:
            return gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs=STORE_CRS)
        return gdf.copy()

    def localities(self) -> gpd.GeoDataFrame:
        """Return the localities (tätorter or fallback places)."""
        gdf = self._read_gdf("localities.parquet")
        if gdf is None:
            return gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs=STORE_CRS)
        return gdf.copy()

    def footprints(self) -> gpd.GeoDataFrame | None:
        """Return the localities' footprints (:mod:`geo.footprints`), None in older snapshots."""
        gdf = self._read_gdf("footprints.parquet")
        return None if gdf is None else gdf.copy()

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
        ``length`` (m) and, where known, ``highway`` and ``maxspeed``.
        """
        nodes = self._read_df(f"network/{mode}_nodes.parquet")
        edges = self._read_df(f"network/{mode}_edges.parquet")
        if nodes is None or edges is None:
            return None
        return nodes, edges

    def network_modes(self) -> list[str]:
        """Travel modes with a stored street network."""
        return list(self.manifest.get("networks", {}))

    def __repr__(self) -> str:
        return f"Snapshot({self.region_key!r}, built {self.built_at}, {self.path})"


def open_snapshot(
    region_key: str, data: str | os.PathLike[str] | None = None, *, verify: bool = True
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
        is always checked).

    Raises
    ------
    StoreError
        When there is no snapshot, or it is half-written or altered; the message says how to fix it.
    """
    root = data_dir(data)
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
    if verify:
        bad = _verify(folder, manifest)
        if bad:
            what = f"{', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}"
            raise StoreError(message=Message("store_damaged", {
                "shown": str(shown), "what": what, "region": region_key}))
    return Snapshot(shown, manifest, folder)


def open_region(name: str, data: str | os.PathLike[str] | None = None, *,
                verify: bool = True) -> Snapshot:
    """Open the snapshot of a region given as the user typed it (``Skåne``, ``12``, ``skane`` ...).

    The name goes through :func:`geo.regions.region_key`, the one mapping from names to store keys
    that ``build``, ``info``, ``score``, ``export`` and the app share.
    """

    return open_snapshot(region_key(name), data, verify=verify)


# -- the build lock -----------------------------------------------------------------------------------
_HELD: dict[tuple[str, int], int] = {}


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"


@contextmanager
def region_lock(region_key: str, data: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Hold the build lock of ``region_key`` (``<data>/.locks/<key>.lock``) for the ``with`` block.

    Fails at once (no waiting) when another process or thread holds it; re-entrant within one
    thread (``build_region`` holds it around ``write_snapshot``). Readers never need it.

    Raises
    ------
    StoreError
        "another build of KEY is running (pid N) ...", or the lock file cannot be created.
    """
    import fcntl

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
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        who = _holder(fd)
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise _write_error(exc, region_key, root) from exc
        raise StoreError(f"another build of {region_key} is running ({who}); wait for it to finish, "
                         "then build again if you still need to") from None
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
    exactly as it was.
    """

    def __init__(self, final: Path, region: dict[str, Any]) -> None:
        self.final = final
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
            "schema_version": SCHEMA_VERSION,
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

    def _write(self, rel: str, frame: pd.DataFrame) -> None:
        p = self.tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(p, index=False)  # GeoParquet for GeoDataFrames, plain Parquet otherwise

    def put_base(self, name: str, gdf: gpd.GeoDataFrame, sources: list[Provenance], *,
                 coverage: str | None = None, summary: FootprintSummary | None = None) -> None:
        """Store ``boundary``, ``municipalities``, ``localities`` or ``footprints``.

        ``coverage`` is recorded with the entry (the localities'); ``summary`` adds the footprint
        matching's counts (``footprints``).
        """
        if name not in BASE_TABLES:
            raise ValueError(f"unknown base table {name!r}")
        self._write(f"{name}.parquet", gdf)
        entry = BaseEntry(file=f"{name}.parquet", count=len(gdf),
                          sources=[_prov_entry(p) for p in sources])
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
        if len(gdf):
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
        files = {}
        for f in sorted(self.tmp.rglob("*")):
            if f.is_file():
                files[f.relative_to(self.tmp).as_posix()] = _sha256(f, sync=True)
        for d in sorted((p for p in self.tmp.rglob("*") if p.is_dir()), reverse=True):
            fsync_dir(d)
        self.manifest["files"] = files
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
        if os.path.lexists(self._link) and self._link.is_symlink():
            self._link.unlink()
        if not self._swapped:
            shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def write_snapshot(
    region_key: str, region: dict[str, Any], data: str | os.PathLike[str] | None = None
) -> Iterator[SnapshotWriter]:
    """Context manager yielding a :class:`SnapshotWriter`; commits on success, aborts on error.

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
            writer = SnapshotWriter(snapshot_path(region_key, root), {"key": region_key, **region})
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
