"""The local store: one snapshot per region, GeoParquet per layer plus a manifest.

Layout of ``<data>/<region>/``::

    manifest.json            region, build time, parameters, per-file sha256, per-layer provenance
    boundary.parquet         the region's polygon (EPSG:4326)
    municipalities.parquet   municipality polygons (code, name)
    localities.parquet       tätorter or a fallback (schema.LOCALITY_COLUMNS)
    layers/<key>.parquet     theme layers (schema.FEATURE_COLUMNS)
    tables/<name>.parquet    municipal statistics (municipality code + value columns)
    network/<mode>_nodes.parquet, network/<mode>_edges.parquet   street networks

Writes are atomic: a snapshot is written to a temporary sibling folder and swapped in by rename;
the manifest lists a checksum for every file, so a half-written or altered snapshot is detected
by :func:`open_snapshot` and reported, never used silently.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import __version__
from .errors import StoreError
from .schema import Provenance, empty_features
from .settings import STORE_CRS, data_dir
from .texts import parse_reason

__all__ = [
    "MANIFEST",
    "SCHEMA_VERSION",
    "LayerStatus",
    "Snapshot",
    "SnapshotWriter",
    "list_snapshots",
    "open_snapshot",
    "snapshot_path",
    "write_snapshot",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot_path(region_key: str, data: str | os.PathLike[str] | None = None) -> Path:
    """Return ``<data>/<region_key>`` (whether it exists or not)."""
    return data_dir(data) / region_key


@dataclass(frozen=True)
class LayerStatus:
    """What the store holds for one layer: count, coverage, provenance, or why it is missing."""

    key: str
    count: int
    coverage: str
    sources: tuple[Provenance, ...] = ()
    kinds: dict[str, int] = field(default_factory=dict)
    reason: str = ""
    #: ``reason`` as a :mod:`geo.texts` message (``{}`` in manifests written before it existed)
    reason_msg: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        """True when the layer has at least one feature."""
        return self.count > 0


class Snapshot:
    """A verified, read-only snapshot of one region.

    Use :func:`open_snapshot` to get one. Reads are lazy and memoised per instance.
    """

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self._cache: dict[str, Any] = {}

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
            return LayerStatus(key, 0, "missing", reason="not in this snapshot",
                               reason_msg={"code": "layer_not_in_snapshot"})
        return LayerStatus(
            key=key,
            count=int(entry.get("count", 0)),
            coverage=str(entry.get("coverage", "missing")),
            sources=tuple(Provenance.from_dict(p) for p in entry.get("sources", [])),
            kinds={str(k): int(v) for k, v in entry.get("kinds", {}).items()},
            reason=str(entry.get("reason", "")),
            reason_msg=dict(entry.get("reason_msg") or parse_reason(str(entry.get("reason", "")))),
        )

    def attributions(self) -> list[str]:
        """Distinct attribution/source lines for everything in the snapshot."""
        seen: list[str] = []
        for key in self.layer_keys():
            for p in self.layer_status(key).sources:
                line = p.attribution or p.source
                if line and line not in seen:
                    seen.append(line)
        for entry in (self.manifest.get("base", {}) | self.manifest.get("tables", {})).values():
            for p in entry.get("sources", []):
                line = p.get("attribution") or p.get("source")
                if line and line not in seen:
                    seen.append(line)
        return seen

    # -- data -----------------------------------------------------------------------------
    def _read_gdf(self, rel: str) -> gpd.GeoDataFrame | None:
        if rel in self._cache:
            return self._cache[rel]  # type: ignore[no-any-return]
        p = self.path / rel
        if not p.exists():
            return None
        try:
            gdf = gpd.read_parquet(p)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise StoreError(f"cannot read {p}: {exc}. Rebuild with 'livability build'.") from exc
        self._cache[rel] = gdf
        return gdf

    def layer(self, key: str) -> gpd.GeoDataFrame:
        """Return layer ``key`` (an empty frame in the feature schema when it has no data)."""
        gdf = self._read_gdf(f"layers/{key}.parquet")
        return gdf.copy() if gdf is not None else empty_features()

    def boundary(self) -> gpd.GeoDataFrame:
        """Return the region's boundary polygon(s)."""
        gdf = self._read_gdf("boundary.parquet")
        if gdf is None:
            raise StoreError(f"{self.path} has no boundary.parquet; rebuild the region")
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

    def table_names(self) -> list[str]:
        """Names of the statistics tables."""
        return list(self.manifest.get("tables", {}))

    def table(self, name: str) -> pd.DataFrame | None:
        """Return statistics table ``name`` or None when the snapshot has none by that name."""
        rel = f"tables/{name}.parquet"
        if rel not in self._cache:
            p = self.path / rel
            self._cache[rel] = pd.read_parquet(p) if p.exists() else None
        df = self._cache[rel]
        return None if df is None else df.copy()

    def network(self, mode: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """Return ``(nodes, edges)`` of the ``mode`` street network, or None when not loaded.

        ``nodes`` has ``node`` (int), ``x``, ``y`` (lon/lat); ``edges`` has ``u``, ``v``,
        ``length`` (m) and, where known, ``highway`` and ``maxspeed``.
        """
        n, e = self.path / f"network/{mode}_nodes.parquet", self.path / f"network/{mode}_edges.parquet"
        if not (n.exists() and e.exists()):
            return None
        key = f"network/{mode}"
        if key not in self._cache:
            self._cache[key] = (pd.read_parquet(n), pd.read_parquet(e))
        return self._cache[key]  # type: ignore[no-any-return]

    def network_modes(self) -> list[str]:
        """Travel modes with a stored street network."""
        return list(self.manifest.get("networks", {}))

    def __repr__(self) -> str:
        return f"Snapshot({self.region_key!r}, built {self.built_at}, {self.path})"


def list_snapshots(data: str | os.PathLike[str] | None = None) -> list[str]:
    """Return the region keys that have a snapshot (a folder with a manifest)."""
    root = data_dir(data)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def open_snapshot(
    region_key: str, data: str | os.PathLike[str] | None = None, *, verify: bool = True
) -> Snapshot:
    """Open and verify the snapshot of ``region_key``.

    Parameters
    ----------
    region_key
        Folder name under the data directory (``blekinge``).
    data
        Data directory override.
    verify
        Check every file against the manifest's checksum.

    Raises
    ------
    StoreError
        When there is no snapshot, or it is half-written or altered; the message says how to fix it.
    """
    path = snapshot_path(region_key, data)
    mpath = path / MANIFEST
    if not mpath.is_file():
        known = list_snapshots(data)
        extra = f" Built regions: {', '.join(known)}." if known else ""
        raise StoreError(
            f"No snapshot for region {region_key!r} in {path.parent}.{extra} "
            f"Build it with: livability build --region {region_key}"
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"The manifest of {path} is unreadable ({exc}); the snapshot is damaged. "
            f"Rebuild with: livability build --region {region_key}"
        ) from exc
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written with store schema {manifest.get('schema_version')!r}, this version "
            f"reads {SCHEMA_VERSION}. Rebuild with: livability build --region {region_key}"
        )
    if verify:
        bad = []
        for rel, digest in manifest.get("files", {}).items():
            f = path / rel
            if not f.is_file():
                bad.append(f"{rel} (missing)")
            elif _sha256(f) != digest:
                bad.append(f"{rel} (checksum differs)")
        if bad:
            raise StoreError(
                f"The snapshot in {path} is damaged: {', '.join(bad[:5])}"
                f"{' ...' if len(bad) > 5 else ''}. Rebuild with: livability build --region {region_key}"
            )
    return Snapshot(path, manifest)


class SnapshotWriter:
    """Collects files in a temporary folder; :meth:`commit` swaps them in atomically.

    Use through :func:`write_snapshot`. Until commit, the existing snapshot is untouched; on any
    error the temporary folder is removed and the old snapshot stays exactly as it was.
    """

    def __init__(self, final: Path, region: dict[str, Any]) -> None:
        self.final = final
        final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        self.manifest: dict[str, Any] = {
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

    def put_base(self, name: str, gdf: gpd.GeoDataFrame, sources: list[Provenance]) -> None:
        """Store ``boundary``, ``municipalities`` or ``localities``."""
        if name not in ("boundary", "municipalities", "localities"):
            raise ValueError(f"unknown base table {name!r}")
        self._write(f"{name}.parquet", gdf)
        self.manifest["base"][name] = {
            "file": f"{name}.parquet",
            "count": len(gdf),
            "sources": [p.to_dict() for p in sources],
        }

    def put_layer(self, key: str, gdf: gpd.GeoDataFrame, sources: list[Provenance],
                  coverage: str, reason: str = "",
                  reason_msg: dict[str, Any] | None = None) -> None:
        """Store a theme layer (an empty one is recorded as missing with ``reason``).

        ``reason_msg`` is ``reason`` as a :mod:`geo.texts` message (for translations).
        """
        entry: dict[str, Any] = {
            "count": len(gdf),
            "coverage": coverage if len(gdf) else "missing",
            "sources": [p.to_dict() for p in sources],
            "kinds": {str(k): int(v) for k, v in gdf["kind"].value_counts().items()} if len(gdf) else {},
        }
        if len(gdf):
            self._write(f"layers/{key}.parquet", gdf)
            entry["file"] = f"layers/{key}.parquet"
        if reason or not len(gdf):
            entry["reason"] = reason or "no source provided data for this layer"
            if reason_msg:
                entry["reason_msg"] = reason_msg
            elif not reason:
                entry["reason_msg"] = {"code": "layer_no_data"}
        self.manifest["layers"][key] = entry

    def put_table(self, name: str, df: pd.DataFrame, source: Provenance, **meta: Any) -> None:
        """Store a statistics table."""
        self._write(f"tables/{name}.parquet", df)
        self.manifest["tables"][name] = {"file": f"tables/{name}.parquet", "rows": len(df),
                                         "sources": [source.to_dict()], **meta}

    def put_network(self, mode: str, nodes: pd.DataFrame, edges: pd.DataFrame,
                    source: Provenance) -> None:
        """Store a street network (``nodes``: node, x, y; ``edges``: u, v, length, ...)."""
        self._write(f"network/{mode}_nodes.parquet", nodes)
        self._write(f"network/{mode}_edges.parquet", edges)
        self.manifest["networks"][mode] = {"nodes": len(nodes), "edges": len(edges),
                                           "sources": [source.to_dict()]}

    def commit(self) -> Path:
        """Checksum every file, write the manifest, and swap the folder into place atomically."""
        for f in sorted(self.tmp.rglob("*")):
            if f.is_file():
                self.manifest["files"][f.relative_to(self.tmp).as_posix()] = _sha256(f)
        mtmp = self.tmp / (MANIFEST + ".part")
        mtmp.write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False, default=str),
                        encoding="utf-8")
        os.replace(mtmp, self.tmp / MANIFEST)
        old = None
        if self.final.exists():
            old = self.final.with_name(f".{self.final.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            os.replace(self.final, old)
        try:
            os.replace(self.tmp, self.final)
        except OSError:
            if old is not None:
                os.replace(old, self.final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        log.info("snapshot %s written: %d files", self.final, len(self.manifest["files"]))
        return self.final

    def abort(self) -> None:
        """Drop the temporary folder; the existing snapshot is untouched."""
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def write_snapshot(
    region_key: str, region: dict[str, Any], data: str | os.PathLike[str] | None = None
) -> Iterator[SnapshotWriter]:
    """Context manager yielding a :class:`SnapshotWriter`; commits on success, aborts on error.

    Examples
    --------
    >>> import tempfile
    >>> with write_snapshot("demo", {"key": "demo", "name": "Demo"}, tempfile.mkdtemp()) as w:
    ...     w.manifest["parameters"]["note"] = "empty"
    """
    writer = SnapshotWriter(snapshot_path(region_key, data), {"key": region_key, **region})
    try:
        yield writer
    except BaseException:
        writer.abort()
        raise
    writer.commit()
