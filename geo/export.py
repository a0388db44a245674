"""Exports for planners: GeoPackage, GeoParquet, GeoJSON, CSV and PostGIS, with provenance.

>>> from geo.export import FORMATS
>>> sorted(FORMATS)
['csv', 'geojson', 'gpkg', 'parquet', 'postgis']

Every export carries where its data came from (a ``metadata`` table or ``metadata.json``, plus
``ATTRIBUTION.txt`` for folder formats) and "© OpenStreetMap contributors" wherever OSM data is
included. File exports refuse to overwrite without ``force`` and are written to a temporary sibling,
then moved into place, so a failure leaves the old output untouched and no partial file behind;
PostGIS exports run in one transaction.

Layout per format (``out``):

- ``gpkg``: one ``.gpkg`` file; a layer per table plus the ``metadata`` attribute table.
- ``parquet``: a folder of GeoParquet 1.1 files (one per table), ``metadata.parquet``,
  ``metadata.json``, ``ATTRIBUTION.txt``.
- ``geojson``: a folder of RFC 7946 FeatureCollections (WGS 84 only), ``metadata.json``,
  ``ATTRIBUTION.txt``.
- ``csv``: a folder of CSV files (``lon``/``lat`` for points, ``wkt`` otherwise), ``metadata.csv``,
  ``metadata.json``, ``ATTRIBUTION.txt``.
- ``postgis``: a DSN; tables in ``schema`` with GIST indexes and a ``metadata`` table.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .export_bundle import CRS_CHOICES, ExportBundle, ExportError, collect
from .export_files import ExportedItem, write_csv, write_geojson, write_gpkg, write_parquet
from .export_postgis import MODES, redact, write_postgis

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


#: Dispatch table: format name -> how it is written.
FORMATS: dict[str, _Format] = {
    "gpkg": _Format(write_gpkg, False, ".gpkg", CRS_CHOICES),
    "parquet": _Format(write_parquet, True, "", CRS_CHOICES),
    "geojson": _Format(write_geojson, True, "", (4326,)),
    "csv": _Format(write_csv, True, "", CRS_CHOICES),
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

    def lines(self) -> list[str]:
        """Human-readable summary (the CLI prints it)."""
        out = [f"exported {len(self.items)} tables as {self.format} (EPSG:{self.crs}) to "
               f"{self.target} in {self.seconds:.2f} s"]
        out += [f"  {i.name:<22} {i.count:>7}  {i.target}" for i in self.items]
        out += [f"  skipped {k}: {v}" for k, v in self.skipped.items()]
        if self.attribution:
            out.append("attribution: " + "; ".join(self.attribution))
        return out


def default_crs(fmt: str) -> int:
    """The CRS an export uses when none is given: 4326 for GeoJSON, else 3006 (SWEREF 99 TM)."""
    return 4326 if fmt == "geojson" else 3006


def _check(fmt: str, crs: int) -> _Format:
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    spec = FORMATS[fmt]
    if crs not in spec.crs:
        if fmt == "geojson":
            raise ExportError(f"GeoJSON (RFC 7946) is WGS 84 only, not EPSG:{crs}; use --crs 4326, "
                              "or --format gpkg/parquet/csv for SWEREF 99 TM")
        raise ExportError(f"CRS EPSG:{crs} is not supported for {fmt}; use --crs "
                          f"{' or --crs '.join(map(str, spec.crs))}")
    return spec


def _tmp_sibling(out: Path, folder: bool, suffix: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
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
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def _fsync_tree(p: Path) -> None:
    """Flush every file of a finished temporary target to disk before it is swapped in."""
    for f in [p] if p.is_file() else [q for q in p.rglob("*") if q.is_file()]:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _swap_in(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``; an existing ``out`` is replaced only once ``tmp`` is complete."""
    if tmp.is_file() and (out.is_file() or not out.exists()):
        os.replace(tmp, out)  # atomic for files
        return
    old: Path | None = None
    if out.exists() or out.is_symlink():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        _remove(old)
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        _remove(old)


def _export_file(spec: _Format, bundle: ExportBundle, out: Path, force: bool
                 ) -> list[ExportedItem]:
    assert spec.writer is not None
    if (out.exists() or out.is_symlink()) and not force:
        raise ExportError(f"{out} already exists; pass --force (force=True) to overwrite it")
    tmp = _tmp_sibling(out, spec.folder, spec.suffix or out.suffix)
    try:
        items = spec.writer(bundle, tmp)
        _fsync_tree(tmp)
        if not spec.folder:
            items = [ExportedItem(i.name, i.count, i.target.replace(tmp.name, out.name, 1))
                     for i in items]
        _swap_in(tmp, out)
    except BaseException as exc:
        _remove(tmp)
        if isinstance(exc, (ExportError, KeyboardInterrupt)):
            raise
        if isinstance(exc, Exception):
            raise ExportError(f"export to {out} failed and was not written ({exc}); the previous "
                              "output, if any, is unchanged") from exc
        raise
    return items


def export(
    snapshot: Any,
    fmt: str,
    out: str | os.PathLike[str],
    *,
    crs: int | None = None,
    layers: list[str] | None = None,
    scores: Any | None = None,
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
        File (gpkg), folder (parquet, geojson, csv) or DSN (postgis).
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
        Overwrite an existing file/folder (files only; PostGIS uses ``mode``).
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
        Unknown format, unsupported CRS, existing target without ``force``, or a failed write
        (nothing partial is left behind).
    """
    t0 = time.perf_counter()
    crs = default_crs(fmt) if crs is None else int(crs)
    spec = _check(fmt, crs)
    if mode not in MODES:
        raise ExportError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    bundle = collect(snapshot, crs=crs, layers=layers, scores=scores)
    if spec.writer is None:
        dsn = str(out)
        items = write_postgis(bundle, dsn, schema=schema, mode=mode)
        target = f"{redact(dsn)} schema {schema}"
    else:
        path = Path(out).expanduser().resolve()
        items = _export_file(spec, bundle, path, force)
        target = str(path)
    report = ExportReport(fmt, target, crs, items, dict(bundle.skipped), bundle.attributions(),
                          time.perf_counter() - t0)
    log.info("export %s -> %s: %d tables in %.2f s", fmt, target, len(items), report.seconds)
    return report
