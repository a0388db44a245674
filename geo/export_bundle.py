"""What an export contains: the tables taken from a snapshot (and scores), with their provenance.

:func:`collect` gathers the theme layers, the base tables (boundary, municipalities, localities) and,
when given, the locality, municipality and cell scores into an :class:`ExportBundle`, reprojected to
the export CRS, with column names and values every target format accepts. The bundle also builds
the ``metadata`` table (one row per table and source: licence, date, coverage, attribution, scoring
parameters, software version, export time) that travels with every export.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from shapely.geometry import Polygon

from layers import get_layer, layer_keys

from . import __version__
from .catalog import layer_title
from .errors import LivabilityError
from .messages import render
from .schema import Provenance, provenance_of
from .settings import OSM_ATTRIBUTION, STORE_CRS

if TYPE_CHECKING:  # annotations only: importing scoring here would slow `livability export` down
    from .scoring import Scores
    from .store import Snapshot

__all__ = [
    "CRS_CHOICES",
    "METADATA_COLUMNS",
    "ExportBundle",
    "ExportError",
    "ExportTable",
    "attribution_for",
    "collect",
    "safe_name",
]

log = logging.getLogger(__name__)

#: EPSG codes an export can be written in: SWEREF 99 TM (Swedish planning) and WGS 84.
CRS_CHOICES: tuple[int, ...] = (3006, 4326)

#: Columns of the ``metadata`` table written with every export.
METADATA_COLUMNS: tuple[str, ...] = (
    "table_name",
    "title",
    "table_kind",
    "feature_count",
    "source",
    "license",
    "source_date",
    "coverage",
    "attribution",
    "url",
    "note",
    "region",
    "crs",
    "scoring_parameters",
    "software_version",
    "snapshot_built_at",
    "exported_at",
)

_BASE_TITLES = {
    "boundary": "Region boundary",
    "municipalities": "Municipalities",
    "localities": "Localities (tätorter)",
}
_KEY_COLUMNS = {"layer": "uid", "base": "code", "locality_scores": "code",
                "municipality_scores": "code", "cell_scores": "h3"}


class ExportError(LivabilityError, ValueError):
    """An export that cannot be done as asked: bad format, CRS, target, or a write that failed."""


@dataclass
class ExportTable:
    """One table of an export.

    Parameters
    ----------
    name
        Table/file name (an identifier: ``schools``, ``cell_scores``).
    frame
        The rows; a GeoDataFrame in the export CRS, or a plain DataFrame (``metadata``).
    kind
        ``layer``, ``base``, ``scores`` or ``metadata``.
    title
        Human-readable title.
    sources
        Provenance of the rows.
    key_column
        Column that identifies a row (indexed in PostGIS), if any.
    """

    name: str
    frame: pd.DataFrame
    kind: str
    title: str
    sources: list[Provenance] = field(default_factory=list)
    key_column: str | None = None

    @property
    def is_geo(self) -> bool:
        """True when the table has a geometry column."""
        return isinstance(self.frame, gpd.GeoDataFrame) and self.frame.geometry.name in self.frame

    @property
    def attribution(self) -> str:
        """Attribution line(s) for this table (OSM's wherever OSM data is included)."""
        return attribution_for(self.sources)


@dataclass
class ExportBundle:
    """Everything one export writes, in one CRS."""

    region_key: str
    region_name: str
    crs: int
    tables: list[ExportTable]
    skipped: dict[str, str] = field(default_factory=dict)
    scoring: dict[str, Any] = field(default_factory=dict)
    snapshot_built_at: str = ""
    exported_at: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    software_version: str = __version__

    def table(self, name: str) -> ExportTable:
        """Return the table ``name`` (KeyError when the bundle has none by that name)."""
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def attributions(self) -> list[str]:
        """Distinct attribution lines over every table (OSM's first when present)."""
        lines: list[str] = []
        for t in self.tables:
            for line in t.attribution.split("; "):
                if line and line not in lines:
                    lines.append(line)
        if OSM_ATTRIBUTION in lines:
            lines.remove(OSM_ATTRIBUTION)
            lines.insert(0, OSM_ATTRIBUTION)
        return lines

    def metadata_frame(self) -> pd.DataFrame:
        """The ``metadata`` table: one row per (table, source), plus one per skipped table."""
        scoring = json.dumps(self.scoring, ensure_ascii=False, default=str) if self.scoring else ""
        common = {"region": self.region_name, "crs": f"EPSG:{self.crs}",
                  "scoring_parameters": scoring, "software_version": self.software_version,
                  "snapshot_built_at": self.snapshot_built_at, "exported_at": self.exported_at}
        rows: list[dict[str, Any]] = []
        for t in self.tables:
            base = {"table_name": t.name, "title": t.title, "table_kind": t.kind,
                    "feature_count": len(t.frame), **common}
            if t.kind != "scores":
                base["scoring_parameters"] = ""
            sources = t.sources or [Provenance(source="(unknown)", license="(unknown)")]
            for p in sources:
                rows.append({**base, "source": p.source, "license": p.license,
                             "source_date": p.date, "coverage": p.coverage,
                             "attribution": attribution_for([p]) if t.kind != "scores"
                             else t.attribution,
                             "url": p.url,
                             "note": p.note if t.kind != "scores"
                             else f"scores derived from this source. {p.note}".strip()})
        for name, reason in self.skipped.items():
            rows.append({"table_name": name, "title": name, "table_kind": "layer",
                         "feature_count": 0, "source": "", "license": "", "source_date": "",
                         "coverage": "missing", "attribution": "", "url": "",
                         "note": f"not exported: {reason}", **common, "scoring_parameters": ""})
        df = pd.DataFrame(rows, columns=list(METADATA_COLUMNS))
        df["feature_count"] = df["feature_count"].astype("int64")
        for c in METADATA_COLUMNS:
            if c != "feature_count":
                df[c] = df[c].fillna("").astype(str)
        return df

    def metadata_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the export (sidecar files, Parquet key-value metadata)."""
        return {
            "region": {"key": self.region_key, "name": self.region_name},
            "crs": f"EPSG:{self.crs}",
            "software": f"blekinge-livability {self.software_version}",
            "exported_at": self.exported_at,
            "snapshot_built_at": self.snapshot_built_at,
            "attribution": self.attributions(),
            "scoring_parameters": self.scoring,
            "tables": {t.name: table_metadata(t) for t in self.tables},
            "skipped": dict(self.skipped),
        }


def table_metadata(t: ExportTable) -> dict[str, Any]:
    """JSON-ready provenance of one table."""
    return {"title": t.title, "kind": t.kind, "count": len(t.frame),
            "attribution": t.attribution, "sources": [p.to_dict() for p in t.sources]}


def _is_osm(p: Provenance) -> bool:
    text = f"{p.source} {p.license} {p.attribution}".lower()
    return "openstreetmap" in text or "odbl" in text or "osm" in text.split()


def attribution_for(sources: Iterable[Provenance]) -> str:
    """Attribution text for ``sources``: their attribution (or source) lines, OSM's when needed.

    >>> attribution_for([Provenance("OpenStreetMap via Overpass", "ODbL-1.0")])
    '© OpenStreetMap contributors'
    """
    lines: list[str] = []
    osm = False
    for p in sources:
        if _is_osm(p):
            osm = True
            if p.attribution and p.attribution != OSM_ATTRIBUTION and p.attribution not in lines:
                lines.append(p.attribution)
            continue
        line = p.attribution or p.source
        if line and line not in lines:
            lines.append(line)
    if osm:
        lines.insert(0, OSM_ATTRIBUTION)
    return "; ".join(lines)


_UNSAFE = re.compile(r"[^0-9A-Za-z_]+")


def safe_name(name: str) -> str:
    """Column/table name every target accepts unquoted: ``theme:schools`` -> ``theme_schools``."""
    out = _UNSAFE.sub("_", str(name)).strip("_") or "col"
    return f"c_{out}" if out[0].isdigit() else out


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename columns to safe names and make object columns hold only text/None."""
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    out = frame.reset_index(drop=True).copy()
    ren: dict[str, str] = {}
    used: set[str] = set()
    for c in out.columns:
        if c == geom:
            ren[c] = "geometry"
            used.add("geometry")
            continue
        new = safe_name(c)
        base, i = new, 1
        while new.lower() in used:
            i += 1
            new = f"{base}_{i}"
        used.add(new.lower())
        ren[c] = new
    out = out.rename(columns=ren)
    if geom is not None:
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)
    for c in out.columns:
        if c == "geometry" or out[c].dtype != object:
            continue
        vals = out[c]
        if not all(v is None or isinstance(v, str) for v in vals):
            out[c] = [None if _isnull(v) else (v if isinstance(v, str) else _as_text(v))
                      for v in vals]
    return out


def _isnull(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _as_text(v: object) -> str:
    if isinstance(v, (list, tuple, dict, np.ndarray)):
        return json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, ensure_ascii=False,
                          default=str)
    return str(v)


def _to_crs(gdf: gpd.GeoDataFrame, crs: int) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        gdf = gdf.set_crs(STORE_CRS)
    return gdf.to_crs(epsg=crs) if gdf.crs.to_epsg() != crs else gdf


def _base_sources(snapshot: Snapshot, name: str, gdf: pd.DataFrame) -> list[Provenance]:
    entry = snapshot.manifest.get("base", {}).get(name)
    srcs = [Provenance.from_dict(p) for p in (entry.get("sources", []) if entry else [])]
    if not srcs and isinstance(gdf, gpd.GeoDataFrame) and {"source", "license"} <= set(gdf):
        try:
            srcs = provenance_of(gdf)
        except (KeyError, ValueError):
            srcs = []
    return srcs


def _layer_sources(snapshot: Snapshot, key: str, gdf: gpd.GeoDataFrame) -> list[Provenance]:
    srcs = list(snapshot.layer_status(key).sources)
    if not srcs:
        try:
            srcs = provenance_of(gdf)
        except (KeyError, ValueError):
            srcs = []
    return srcs


def _scoring_parameters(scores: Scores) -> dict[str, Any]:
    """Whatever the Scores object says about how it was computed (weights, persona, ...)."""
    params: dict[str, Any] = {}
    for attr in ("parameters", "params", "weights", "persona", "penalty", "approximate", "missing",
                 "resolution", "decay"):
        val = getattr(scores, attr, None)
        if val is None or callable(val):
            continue
        if hasattr(val, "key") and not isinstance(val, (dict, str)):
            val = val.key
        params[attr] = val
    plain: dict[str, Any] = json.loads(json.dumps(params, default=str))
    return plain


def _with_geometry(df: pd.DataFrame, geo: gpd.GeoDataFrame, on: str) -> gpd.GeoDataFrame:
    """Attach the geometry of ``geo`` to ``df`` by the key column ``on`` (kept as text)."""
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df and df.geometry.notna().any():
        return df.set_crs(STORE_CRS) if df.crs is None else df
    left = pd.DataFrame(df).copy()
    if on not in left or on not in geo:
        raise ExportError(f"scores table has no {on!r} column to join geometry on; got columns "
                          f"{', '.join(map(str, left.columns))}")
    left[on] = left[on].astype(str)
    right = geo[[on, geo.geometry.name]].copy()
    right[on] = right[on].astype(str)
    right = right.drop_duplicates(on).rename(columns={geo.geometry.name: "geometry"})
    merged = left.merge(right, on=on, how="left")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=geo.crs or STORE_CRS)


def _h3_polygons(cells: Iterable[str]) -> list[Polygon | None]:
    out: list[Polygon | None] = []
    for c in cells:
        try:
            ring = h3.cell_to_boundary(str(c))
        except (ValueError, TypeError, h3.H3BaseException):
            out.append(None)
            continue
        out.append(Polygon([(lng, lat) for lat, lng in ring]))
    return out


def _score_tables(snapshot: Snapshot, scores: Scores) -> list[tuple[str, gpd.GeoDataFrame, str]]:
    tables: list[tuple[str, gpd.GeoDataFrame, str]] = []
    loc = getattr(scores, "localities", None)
    if loc is not None and len(loc):
        tables.append(("locality_scores", _with_geometry(loc, snapshot.localities(), "code"),
                       "Livability scores per locality"))
    mun = getattr(scores, "municipalities", None)
    if mun is not None and len(mun):
        tables.append(("municipality_scores",
                       _with_geometry(mun, snapshot.municipalities(), "code"),
                       "Livability scores per municipality"))
    cells = getattr(scores, "cells", None)
    if cells is not None and len(cells):
        if isinstance(cells, gpd.GeoDataFrame) and cells.geometry.name in cells:
            gdf = cells if cells.crs is not None else cells.set_crs(STORE_CRS)
        else:
            if "h3" not in cells:
                raise ExportError("scores.cells has no 'h3' column; cannot build cell polygons")
            df = pd.DataFrame(cells).reset_index(drop=True)  # the h3 index is also a column
            df["h3"] = df["h3"].astype(str)
            gdf = gpd.GeoDataFrame(df, geometry=_h3_polygons(df["h3"]), crs=STORE_CRS)
        tables.append(("cell_scores", gdf, "Livability scores per H3 cell"))
    return tables


def collect(
    snapshot: Snapshot,
    *,
    crs: int,
    layers: list[str] | None = None,
    scores: Scores | None = None,
) -> ExportBundle:
    """Gather the tables of an export from ``snapshot`` (and ``scores``) in EPSG:``crs``.

    Parameters
    ----------
    snapshot
        An open :class:`geo.store.Snapshot`.
    crs
        3006 (SWEREF 99 TM) or 4326 (WGS 84).
    layers
        Layer keys to include (validated against the registry); None: every layer in the snapshot.
    scores
        A ``geo.scoring.Scores`` (``localities``, ``municipalities``, ``cells`` frames) or None.

    Returns
    -------
    ExportBundle
        Tables in export order; layers without features are listed in ``skipped`` with the reason.
    """

    if crs not in CRS_CHOICES:
        raise ExportError(f"CRS EPSG:{crs} is not supported; use --crs 3006 (SWEREF 99 TM) or "
                          "--crs 4326 (WGS 84)")
    if layers is None:
        order = layer_keys()
        keys = [k for k in order if k in snapshot.layer_keys()]
        keys += [k for k in snapshot.layer_keys() if k not in order]
    else:
        keys = []
        for k in layers:
            get_layer(k)  # raises UnknownLayerError listing the known layers
            if k not in keys:
                keys.append(k)
    tables: list[ExportTable] = []
    skipped: dict[str, str] = {}
    for key in keys:
        gdf = snapshot.layer(key)
        if gdf.empty:
            st = snapshot.layer_status(key)
            skipped[key] = render(st.reason) or "no features in this snapshot"
            continue
        title = layer_title(key, "en")
        tables.append(ExportTable(key, _clean(_to_crs(gdf, crs)), "layer", title,
                                  _layer_sources(snapshot, key, gdf), "uid"))
    for name in ("localities", "municipalities", "boundary"):
        try:
            gdf = getattr(snapshot, name)()
        except LivabilityError as exc:
            skipped[name] = str(exc)
            continue
        if gdf.empty:
            skipped[name] = "not in this snapshot"
            continue
        tables.append(ExportTable(name, _clean(_to_crs(gdf, crs)), "base", _BASE_TITLES[name],
                                  _base_sources(snapshot, name, gdf),
                                  "code" if "code" in gdf else None))
    scoring: dict[str, Any] = {}
    if scores is not None:
        scoring = _scoring_parameters(scores)
        all_sources: list[Provenance] = []
        for t in tables:
            for p in t.sources:
                if p not in all_sources:
                    all_sources.append(p)
        for name, gdf, title in _score_tables(snapshot, scores):
            tables.append(ExportTable(name, _clean(_to_crs(gdf, crs)), "scores", title,
                                      all_sources, _KEY_COLUMNS[name]))
    log.info("export bundle for %s: %d tables, %d skipped", snapshot.region_key, len(tables),
             len(skipped))
    return ExportBundle(snapshot.region_key, snapshot.region_name, crs, tables, skipped, scoring,
                        snapshot.built_at)
