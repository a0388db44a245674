"""Exports for planners: GeoPackage, GeoParquet, GeoJSON, CSV and PostGIS, with provenance.

>>> from geo.export import FORMATS
>>> sorted(FORMATS)
['csv', 'geojson', 'gpkg', 'parquet', 'postgis']

Every export carries where its data came from (a ``metadata`` table or ``metadata.json``, plus
``ATTRIBUTION.txt`` for folder formats) and "© OpenStreetMap contributors" wherever OSM data is
included. File exports are written to a temporary sibling, then moved into place, so a failure
leaves the old output untouched and no partial file behind; PostGIS exports run in one transaction.

Never losing what is at ``out``:

- Without ``force`` an existing ``out`` is refused, and a new name is *claimed* atomically
  (``os.link`` for a file, ``os.mkdir`` then ``os.rename`` for a folder), so of two exports racing
  for one new name exactly one wins and the other gets "already exists".
- With ``force`` only a regular file (file formats) or a folder this tool wrote (folder formats) is
  replaced; a folder qualifies when it is empty or its ``metadata.json`` carries the
  :data:`~geo.export_files.EXPORT_MARKER` key and the folder holds only the files it lists. Links
  (never followed), devices, FIFOs, sockets, the current folder and its parents, an empty path and
  a file where a folder would go (or the reverse) are refused with :class:`ExportError`, untouched.
- A folder format whose ``out`` ends in its file suffix (``t.geojson``, ``x.csv``,
  ``x.parquet``) writes ONE file holding the export's one layer or score table (base tables are
  left out); more tables than one are refused with a hint to use a folder.
- An ``OSError`` (full disk, read-only file system, permissions) becomes a one-line
  :class:`ExportError` and leaves no temporary file.

Layout per format (``out``):

- ``gpkg``: one ``.gpkg`` file; a layer per table plus the ``metadata`` attribute table.
- ``parquet``: a folder of GeoParquet 1.1 files (one per table), ``metadata.parquet``,
  ``metadata.json``, ``ATTRIBUTION.txt``.
- ``geojson``: a folder of RFC 7946 FeatureCollections (WGS 84 only), ``metadata.json``,
  ``ATTRIBUTION.txt``; or one ``.geojson`` FeatureCollection (attribution and metadata inside).
- ``csv``: a folder of CSV files (``lon``/``lat`` for points, ``wkt`` otherwise), ``metadata.csv``,
  ``metadata.json``, ``ATTRIBUTION.txt``.
- ``postgis``: a DSN; tables in ``schema`` with GIST indexes and a ``metadata`` table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .catalog import fmt_number, t
from .export_bundle import CRS_CHOICES, ExportBundle, ExportError, collect
from .export_files import (
    EXPORT_MARKER,
    EXPORT_TOOL,
    ExportedItem,
    write_csv,
    write_geojson,
    write_gpkg,
    write_parquet,
    write_single_file,
)
from .export_postgis import MODES, redact, write_postgis
from .fsutil import fsync_dir
from .messages import Message

if TYPE_CHECKING:  # annotations only: importing scoring here would slow `livability export` down
    from .scoring import Scores
    from .store import Snapshot

__all__ = [
    "CRS_CHOICES",
    "FORMATS",
    "ExportError",
    "ExportReport",
    "ExportedItem",
    "default_crs",
    "export",
]

log = logging.getLogger(__name__)

FileWriter = Callable[[ExportBundle, Path], list[ExportedItem]]


@dataclass(frozen=True)
class _Format:
    writer: FileWriter | None  # None: database target
    folder: bool
    suffix: str
    crs: tuple[int, ...]
    file_suffixes: tuple[str, ...] = ()  # an --out ending so is one file (one table), not a folder


#: Dispatch table: format name -> how it is written.
FORMATS: dict[str, _Format] = {
    "gpkg": _Format(write_gpkg, False, ".gpkg", CRS_CHOICES, (".gpkg",)),
    "parquet": _Format(write_parquet, True, "", CRS_CHOICES, (".parquet", ".geoparquet")),
    "geojson": _Format(write_geojson, True, "", (4326,), (".geojson", ".json")),
    "csv": _Format(write_csv, True, "", CRS_CHOICES, (".csv",)),
    "postgis": _Format(None, False, "", CRS_CHOICES),
}


@dataclass
class ExportReport:
    """What an export wrote.

    Attributes
    ----------
    format, target, crs
        The format, where it went (path, or DSN with the password hidden) and the EPSG code.
    items
        One entry per table written (name, count, file or ``schema.table``).
    skipped
        Tables not written (layer key -> reason, e.g. no features in this snapshot).
    attribution
        Attribution lines that travel with the export.
    seconds
        Wall-clock time of the export.
    """

    format: str
    target: str
    crs: int
    items: list[ExportedItem] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    attribution: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        """Rows written per table."""
        return {i.name: i.count for i in self.items}

    def lines(self, lang: str = "en") -> list[str]:
        """Human-readable summary in ``lang`` (the CLI prints it)."""
        out = [t("cli.export.summary", lang, n=len(self.items), format=self.format, crs=self.crs,
                 target=self.target, seconds=fmt_number(self.seconds, lang, 2, grouping=False))]
        out += [f"  {i.name:<22} {i.count:>7}  {i.target}" for i in self.items]
        out += ["  " + t("cli.export.skipped", lang, name=k, reason=v) for k, v in self.skipped.items()]
        if self.attribution:
            out.append(t("cli.export.attribution", lang, items="; ".join(self.attribution)))
        return out


def default_crs(fmt: str) -> int:
    """The CRS an export uses when none is given: 4326 for GeoJSON, else 3006 (SWEREF 99 TM)."""
    return 4326 if fmt == "geojson" else 3006


def _check(fmt: str, crs: int) -> _Format:
    if fmt not in FORMATS:
        raise ExportError(message=Message("export_format_unknown", {
            "fmt": fmt, "formats": list(FORMATS)}))
    spec = FORMATS[fmt]
    if crs not in spec.crs:
        if fmt == "geojson":
            raise ExportError(message=Message("export_geojson_crs", {"crs": crs}))
        raise ExportError(f"CRS EPSG:{crs} is not supported for {fmt}; use --crs "
                          f"{' or --crs '.join(map(str, spec.crs))}")
    return spec


# -- where an export may go -------------------------------------------------------------------------
def _target_path(out: str | os.PathLike[str]) -> Path:
    """Absolute path of ``out`` with its parent resolved and its last part NOT followed (links)."""
    if not str(out).strip():
        raise ExportError("--out is empty; give a file name (e.g. export.gpkg) or a new folder name")
    p = Path(os.path.abspath(Path(out).expanduser()))
    if not p.name:  # the file system root
        return p
    return p.parent.resolve() / p.name


def _single_file(spec: _Format, path: Path) -> bool:
    """True when ``path`` names one file: a gpkg, or a folder format's file name (``t.geojson``)."""
    return not spec.folder or path.suffix.lower() in spec.file_suffixes


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def _foreign_entry(folder: Path) -> str | None:
    """Why ``folder`` is not an earlier export of this tool, or None when ``--force`` may replace it.

    A folder qualifies when it is empty, or when its ``metadata.json`` carries
    :data:`~geo.export_files.EXPORT_MARKER` and every entry is a regular file that marker lists.
    Folders written before the marker existed qualify when ``metadata.json`` names this tool and
    every entry is one of the files such an export writes.
    """
    entries = {e.name: e for e in os.scandir(folder)}
    if not entries:
        return None
    meta = entries.get("metadata.json")
    data: object = None
    if meta is not None and meta.is_file(follow_symlinks=False) and meta.stat().st_size < 50e6:
        try:
            data = json.loads(Path(meta.path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
    if not isinstance(data, dict):
        return f"has no metadata.json with the {EXPORT_MARKER!r} marker this tool writes"
    marker = data.get(EXPORT_MARKER)
    if isinstance(marker, dict) and marker.get("tool") == EXPORT_TOOL:
        allowed = {str(f) for f in marker.get("files", [])}
    elif str(data.get("software", "")).startswith(f"{EXPORT_TOOL} ") and isinstance(
            data.get("tables"), dict):  # an export from before the marker
        names = [*map(str, data["tables"]), "metadata"]
        allowed = {"metadata.json", "ATTRIBUTION.txt",
                   *(f"{n}.{ext}" for n in names for ext in ("csv", "parquet", "geojson"))}
    else:
        return f"has no metadata.json with the {EXPORT_MARKER!r} marker this tool writes"
    for name, e in sorted(entries.items()):
        if name not in allowed or not e.is_file(follow_symlinks=False):
            return f"holds {name!r}, which this tool did not write"
    return None


def _refusal(path: Path, fmt: str, want_folder: bool, force: bool) -> str | None:
    """Why an export must not write ``path`` (one line: path, reason, fix), or None when it may."""
    real = Path(os.path.realpath(path))
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the current folder was removed: it cannot be the target either
        cwd = Path("/nonexistent-cwd")
    if real == cwd or real in cwd.parents:
        return (f"{path} is the current folder or one of its parents; an export never replaces "
                "it: give a new file or folder name with --out")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot check {path}: {exc.strerror}; choose another --out"
    spec = FORMATS[fmt]
    suffix = spec.suffix or spec.file_suffixes[0]
    if stat.S_ISLNK(st.st_mode):
        return (f"{path} is a symbolic link; exports neither follow nor replace links: remove the "
                "link yourself or choose another --out")
    if stat.S_ISREG(st.st_mode):
        if want_folder:
            return (f"{path} is a file, but a {fmt} export to this name is a folder; choose a new "
                    f"folder name, or a name ending in {suffix} for a single table")
    elif stat.S_ISDIR(st.st_mode):
        if not want_folder:
            return (f"{path} is a folder, but a {fmt} export to this name is one file; give a file "
                    f"name such as {path / ('export' + suffix)}")
        why = _foreign_entry(path)
        if why is not None:
            return (f"{path} is a folder this tool did not write ({why}); --force only replaces "
                    "an earlier export: move it away yourself or choose another --out")
    else:
        return (f"{path} is a {_kind(st.st_mode)}, not a regular file; exports only replace "
                "regular files: choose another --out")
    if not force:
        return f"{path} already exists; pass --force (force=True) to overwrite it"
    return None


def _check_target(path: Path, fmt: str, want_folder: bool, force: bool) -> None:
    why = _refusal(path, fmt, want_folder, force)
    if why is not None:
        raise ExportError(why)


# -- writing it safely ------------------------------------------------------------------------------
def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return the ones created (to undo on failure)."""
    created: list[Path] = []
    for d in [*reversed(folder.parents), folder]:
        if not d.exists():
            try:
                os.mkdir(d)
            except FileExistsError:
                continue
            created.append(d)
    return created


def _tmp_sibling(out: Path, folder: bool, suffix: str) -> Path:
    if folder:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the export is meant to be shared
        return tmp
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.tmp-", suffix=suffix, dir=out.parent)
    os.close(fd)
    os.unlink(name)  # GDAL wants to create the file itself
    return Path(name)


def _remove(p: Path) -> None:
    """Remove a temporary file or folder of ours (never following links)."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            p.unlink(missing_ok=True)


def _fsync_tree(p: Path) -> None:
    """Flush every file of a finished temporary target to disk before it is swapped in."""
    for f in [p] if p.is_file() else [q for q in p.rglob("*") if q.is_file()]:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _NameTakenError(ExportError):
    """Another writer claimed the new name first."""


def _taken(out: Path) -> ExportError:
    return _NameTakenError(f"{out} already exists (another export created it meanwhile); pass --force "
                       "to overwrite it or choose another --out")


#: errno values meaning "this file system has no hard links": fall back to an O_EXCL claim.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS,
             errno.EXDEV}


def _claim_file(tmp: Path, out: Path) -> None:
    """Put the finished file ``tmp`` at ``out`` only if ``out`` does not exist (atomically)."""
    try:
        os.link(tmp, out)  # fails with EEXIST when out exists: an atomic no-replace
    except FileExistsError:
        raise _taken(out) from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        try:  # claim the name exclusively, then move the finished file over our claim
            os.close(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise _taken(out) from None
        os.replace(tmp, out)
        return
    tmp.unlink()


def _claim_folder(tmp: Path, out: Path) -> None:
    """Put the finished folder ``tmp`` at ``out`` only if nothing is at ``out`` (atomically).

    ``os.rename`` onto an existing *empty* folder succeeds on Linux, so the name is claimed first
    with ``os.mkdir`` (which fails on anything already there) and the rename then replaces only
    that empty claim.
    """
    try:
        os.mkdir(out)
    except FileExistsError:
        raise _taken(out) from None
    try:
        os.rename(tmp, out)
    except OSError:
        with contextlib.suppress(OSError):
            os.rmdir(out)  # our empty claim; left alone if someone put something in it
        raise


def _replace_folder(tmp: Path, out: Path) -> None:
    """Swap the finished ``tmp`` in for the earlier export ``out``; ``out`` stays until then."""
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, old)  # replaces the empty folder just made, never anything else
    try:
        os.rename(tmp, out)
    except OSError:
        try:
            os.rename(old, out)
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror}; the previous export was moved "
                              f"to {old}: move it back by hand") from exc
        raise
    shutil.rmtree(old, ignore_errors=True)


def _install(tmp: Path, out: Path, fmt: str, folder: bool, force: bool) -> None:
    """Move the finished ``tmp`` to ``out``: a new name is claimed, an allowed target replaced."""
    if force:
        _check_target(out, fmt, folder, force)  # again: it may have changed while we wrote
    if not os.path.lexists(out):
        try:
            (_claim_folder if folder else _claim_file)(tmp, out)
        except _NameTakenError:
            if not force:
                raise
            raise ExportError(f"{out} was created by another export while this one was writing; "
                              "nothing was replaced: run the export again to replace it") from None
        fsync_dir(out.parent)
        return
    if not force:
        raise _taken(out)
    if folder:
        _replace_folder(tmp, out)
    else:
        os.replace(tmp, out)  # atomic for one regular file; os.replace never follows a link
    fsync_dir(out.parent)


#: errno values with their own advice (``export_hint.<name>`` of the catalogue; others: ``other``)
_HINTS = {errno.ENOSPC: "ENOSPC", errno.EDQUOT: "EDQUOT", errno.EROFS: "EROFS",
          errno.EACCES: "EACCES", errno.EPERM: "EPERM"}


def _oserror_message(out: Path, exc: OSError) -> Message:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return Message("export_write", {"path": str(out), "reason": reason,
                                    "hint": _HINTS.get(exc.errno or 0, "other")})


def _first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of ``exc``'s message, shortened (GDAL quotes whole SQL scripts)."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    line = re.sub(r"sqlite3_exec\(.*\) failed", "sqlite3_exec failed", line)
    return line if len(line) <= limit else line[:limit - 3] + "..."


def _export_file(spec: _Format, fmt: str, bundle: ExportBundle, out: Path, force: bool,
                 single: bool) -> list[ExportedItem]:
    """Write ``bundle`` next to ``out``, then claim or replace ``out``; nothing partial remains."""
    assert spec.writer is not None
    folder = spec.folder and not single
    created: list[Path] = []
    tmp: Path | None = None
    try:
        created = _make_parents(out.parent)
        tmp = _tmp_sibling(out, folder, spec.suffix or out.suffix)
        if single and spec.folder:
            items = write_single_file(bundle, tmp, fmt)
        else:
            items = spec.writer(bundle, tmp)
        _fsync_tree(tmp)
        if not folder:
            items = [ExportedItem(i.name, i.count, i.target.replace(tmp.name, out.name, 1))
                     for i in items]
        _install(tmp, out, fmt, folder, force)
    except BaseException as exc:
        if tmp is not None:
            _remove(tmp)
        for d in reversed(created):
            try:
                os.rmdir(d)
            except OSError:
                break
        if isinstance(exc, (ExportError, KeyboardInterrupt)) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, OSError):
            raise ExportError(message=_oserror_message(out, exc)) from exc
        first = _first_line(exc)
        if "disk is full" in first or "No space left" in first:  # GDAL/SQLite say it their way
            full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            raise ExportError(message=_oserror_message(out, full)) from exc
        raise ExportError(message=Message("export_failed", {
            "path": str(out), "error": first})) from exc
    return items


def _one_table(bundle: ExportBundle, fmt: str, out: Path) -> ExportBundle:
    """The bundle of a single-file export: its one layer or score table (base tables left out)."""
    tables = [t for t in bundle.tables if t.kind != "base"]
    if len(tables) != 1:
        what = ", ".join(t.name for t in tables) or "no table with features"
        raise ExportError(f"{out} names one {fmt} file, but this export has {len(tables)} tables "
                          f"({what}); give a folder --out such as {out.with_suffix('')}, or one "
                          "layer with --layers KEY and no --scores")
    skipped = {**bundle.skipped, **{t.name: "not part of a single-file export (use a folder "
                                    "--out for it)" for t in bundle.tables if t.kind == "base"}}
    return dataclasses.replace(bundle, tables=tables, skipped=skipped)


def export(
    snapshot: Snapshot,
    fmt: str,
    out: str | os.PathLike[str],
    *,
    crs: int | None = None,
    layers: list[str] | None = None,
    scores: Scores | None = None,
    force: bool = False,
    mode: str = "replace",
    schema: str = "livability",
) -> ExportReport:
    """Export a snapshot's layers (and scores) for use in QGIS, ArcGIS or PostGIS.

    Parameters
    ----------
    snapshot
        An open :class:`geo.store.Snapshot` (:func:`geo.store.open_snapshot`).
    fmt
        ``gpkg``, ``parquet``, ``geojson``, ``csv`` or ``postgis``.
    out
        File (gpkg), folder (parquet, geojson, csv), one file for one table (``t.geojson``,
        ``x.csv``, ``x.parquet``) or DSN (postgis, URL or ``host=... dbname=...`` form).
    crs
        3006 (SWEREF 99 TM) or 4326 (WGS 84); default :func:`default_crs` (3006, GeoJSON 4326).
        GeoJSON refuses 3006.
    layers
        Layer keys; None exports every layer of the snapshot. Unknown keys raise
        :class:`~geo.errors.UnknownLayerError` listing the known ones.
    scores
        ``geo.scoring.Scores`` to add ``locality_scores``, ``municipality_scores`` and
        ``cell_scores`` tables (with the scoring parameters in the metadata).
    force
        Replace an existing regular file, or a folder this tool wrote (not PostGIS: see ``mode``).
    mode
        PostGIS only: ``replace`` (drop and recreate the exported tables) or ``append``.
    schema
        PostGIS only: target schema (created if missing).

    Returns
    -------
    ExportReport
        Tables written with their counts, skipped layers, attribution and time taken.

    Raises
    ------
    ExportError
        Unknown format, unsupported CRS, a target that exists (without ``force``) or may not be
        replaced, several tables for a single-file ``out``, or a failed write (nothing partial is
        left behind).
    """
    t0 = time.perf_counter()
    crs = default_crs(fmt) if crs is None else int(crs)
    spec = _check(fmt, crs)
    if mode not in MODES:
        raise ExportError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if spec.writer is None:
        dsn = str(out)
        bundle = collect(snapshot, crs=crs, layers=layers, scores=scores)
        items = write_postgis(bundle, dsn, schema=schema, mode=mode)
        target = f"{redact(dsn)} schema {schema}"
    else:
        path = _target_path(out)
        single = _single_file(spec, path)
        _check_target(path, fmt, spec.folder and not single, force)  # before any work
        bundle = collect(snapshot, crs=crs, layers=layers, scores=scores)
        if single and spec.folder:
            bundle = _one_table(bundle, fmt, path)
        items = _export_file(spec, fmt, bundle, path, force, single)
        target = str(path)
    report = ExportReport(fmt, target, crs, items, dict(bundle.skipped), bundle.attributions(),
                          time.perf_counter() - t0)
    log.info("export %s -> %s: %d tables in %.2f s", fmt, target, len(items), report.seconds)
    return report
