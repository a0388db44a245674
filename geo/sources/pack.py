"""Data packs: a folder of GeoJSON/GPKG/CSV files described by a ``pack.json`` manifest.

A pack is how offline data, official extracts and a planner's own files enter a build. The manifest
(see ``../shared/data/blekinge/pack.json``) lists ``layers`` (vector files with a ``theme`` that is a
layer key or ``localities``, a ``coverage``, ``fields`` mapping our names to the file's columns, and
``source``/``license``/``date``), ``tables`` (municipal statistics CSVs) and ``boundaries``.

A layer file's feature kind comes from, in order: ``fields.kind`` (a column), a constant ``kind``
entry, or the layer spec's ``pack_kind_hints`` matched against the file path.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import DataSourceError, UnknownLayerError
from ..schema import LOCALITY_COLUMNS, Provenance, conform
from ..settings import STORE_CRS
from .base import SourceResult, TableData
from .files import read_csv_table, read_vector

__all__ = ["PACK_MANIFEST", "read_file_as_layer", "read_pack", "tidy_table"]

log = logging.getLogger(__name__)

PACK_MANIFEST = "pack.json"
_ID_LIKE = re.compile(r"(relation|year|år|kod|code|id)$", re.IGNORECASE)


def _load_manifest(folder: Path) -> dict[str, Any]:
    mpath = folder / PACK_MANIFEST
    if not folder.is_dir():
        raise DataSourceError(f"pack folder {folder} does not exist; check the --pack path")
    if not mpath.is_file():
        raise DataSourceError(
            f"{folder} has no {PACK_MANIFEST}; a pack is a folder with a manifest "
            "(see ../shared/data/blekinge/pack.json), or add single files with --file LAYER=PATH"
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataSourceError(f"{mpath} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(manifest, dict):
        raise DataSourceError(f"{mpath} must hold a JSON object with 'layers' and/or 'tables'")
    missing = [e.get("file", "?") for sect in ("layers", "tables") for e in manifest.get(sect, [])
               if not (folder / str(e.get("file", ""))).is_file()]
    if missing:
        raise DataSourceError(
            f"pack {folder.name}: {PACK_MANIFEST} names missing file(s) {', '.join(missing)}; "
            "add the file(s) or remove their entries from the manifest"
        )
    return manifest


def _provenance(entry: Mapping[str, Any], pack_name: str) -> Provenance:
    src = str(entry.get("source") or f"data pack {pack_name}")
    lic = str(entry.get("license") or "unknown (see the pack)")
    attribution = "© OpenStreetMap contributors" if "openstreetmap" in src.lower() else src
    return Provenance(
        source=src, license=lic, date=str(entry.get("date", "")),
        coverage=str(entry.get("coverage", "complete")), attribution=attribution,
        note=str(entry.get("what", "")),
    )


def _name_to_code(munis: Mapping[str, str]) -> dict[str, str]:
    return {str(name).casefold(): str(code) for code, name in munis.items()}


def _municipality_column(gdf: gpd.GeoDataFrame, fields: Mapping[str, str],
                         munis: Mapping[str, str]) -> pd.Series | None:
    col = fields.get("municipality")
    if col and col in gdf.columns:
        return gdf[col].map(lambda v: None if pd.isna(v) else str(v).split(".")[0].zfill(4))
    col = fields.get("municipality_name")
    if col and col in gdf.columns:
        lookup = _name_to_code(munis)
        return gdf[col].map(lambda v: lookup.get(str(v).casefold(), f"outside:{v}"))
    return None


def read_file_as_layer(
    path: str | Path,
    layer: str,
    *,
    provenance: Provenance | None = None,
    fields: Mapping[str, str] | None = None,
    kind: str | None = None,
    municipalities: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector/CSV file as features of ``layer`` in the feature schema.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile, GeoParquet or CSV with lon/lat or WKT.
    layer
        A registered layer key.
    provenance
        Defaults to "user file <name>" with an unknown licence and ``partial`` coverage.
    fields
        Our column names (``id``, ``name``, ``kind``, ``municipality``, ``municipality_name``,
        ``value``) mapped to the file's.
    kind
        Constant kind; otherwise ``fields['kind']`` or the spec's hints for the file name.
    municipalities
        Code -> name of the region's municipalities (to translate ``municipality_name``).
    """
    from layers import get_layer

    spec = get_layer(layer)
    p = Path(path)
    fields = dict(fields or {})
    prov = provenance or Provenance(source=f"user file {p.name}", license="unknown (user file)",
                                    coverage="partial")
    gdf = read_vector(p)
    if gdf.empty:
        raise DataSourceError(f"{p} holds no features; nothing to add to layer {layer!r}")
    out = gpd.GeoDataFrame(geometry=gdf.geometry, crs=gdf.crs)
    name_col = fields.get("name") or next((c for c in ("name", "namn", "NAMN", "Name")
                                           if c in gdf.columns), None)
    out["name"] = gdf[name_col].astype("object") if name_col and name_col in gdf.columns else None
    if fields.get("value") in gdf.columns:
        out["value"] = gdf[fields["value"]]
    muni = _municipality_column(gdf, fields, municipalities or {})
    if muni is not None:
        out["municipality"] = muni
    id_col = fields.get("id")
    prefix = re.sub(r"[^a-z0-9]+", "-", p.stem.lower())
    if id_col and id_col in gdf.columns and gdf[id_col].notna().all():
        out["uid"] = [f"{prefix}:{v}" for v in gdf[id_col]]
    kinds: str | pd.Series
    if fields.get("kind") in gdf.columns:
        kinds = gdf[fields["kind"]].astype(str).str.strip().str.lower()
    else:
        kinds = kind or spec.kind_for_pack_file(p.as_posix())
    return conform(out, layer, prov, kind=kinds, uid_prefix=prefix)


def _read_localities(path: Path, fields: Mapping[str, str], prov: Provenance,
                     munis: Mapping[str, str]) -> gpd.GeoDataFrame:
    gdf = read_vector(path).to_crs(STORE_CRS)
    def col(key: str, default: Any = None) -> Any:
        c = fields.get(key, key)
        return gdf[c] if c in gdf.columns else default
    out = gpd.GeoDataFrame(geometry=gdf.geometry.representative_point(), crs=STORE_CRS)
    out["code"] = col("id", pd.Series(range(len(gdf)), index=gdf.index)).astype(str)
    out["name"] = col("name").astype(str)
    mun = _municipality_column(gdf, fields, munis)
    out["municipality"] = mun if mun is not None else None
    out["municipality_name"] = out["municipality"].map(lambda c: munis.get(c) if c else None)
    out["population"] = pd.to_numeric(col("population", float("nan")), errors="coerce")
    out["area_ha"] = pd.to_numeric(col("area_ha", float("nan")), errors="coerce")
    out["source"], out["license"] = prov.source, prov.license
    out["source_date"], out["coverage"] = prov.date, prov.coverage
    return out[list(LOCALITY_COLUMNS)].reset_index(drop=True)


def tidy_table(raw: pd.DataFrame, munis: Mapping[str, str]) -> pd.DataFrame:
    """Normalise a municipal statistics table to ``municipality`` (code), optional ``year``, values.

    Skolverket exports keep only the all-schools, all-pupils rows (``Samtliga``). Tables keyed by
    municipality name are translated with ``munis``. When one value column remains it is also
    copied to ``value``; zeros in rent tables mean "no value" and become NaN.
    """
    df = raw.copy()
    for sel in ("Typ av huvudman", "Kön"):
        if sel in df.columns:
            df = df[df[sel].astype(str).str.strip() == "Samtliga"]
    lookup = _name_to_code(munis)
    code_col = next((c for c in df.columns if c.lower() in ("kommun-kod", "kommun_kod", "kommunkod",
                                                             "municipality", "mun_code")), None)
    name_col = next((c for c in df.columns if c.lower() in ("kommun", "municipality_name")), None)
    if code_col is not None:
        df["municipality"] = df[code_col].map(lambda v: str(v).split(".")[0].zfill(4))
    elif name_col is not None:
        df["municipality"] = df[name_col].map(lambda v: lookup.get(str(v).strip().casefold()))
    else:
        first = df.columns[0]
        df["municipality"] = df[first].astype(str).str[:4].where(
            df[first].astype(str).str[:4].isin(list(munis)), None)
    year_col = next((c for c in df.columns if c.lower() in ("year", "år")), None)
    if year_col and year_col != "year":
        df["year"] = pd.to_numeric(df[year_col], errors="coerce").astype("Int64")
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
               and not _ID_LIKE.search(c.strip()) and c not in ("municipality", "year")
               and not c.lower().startswith(("antal", "läns", "totalt"))]
    if len(numeric) == 1:
        df["value"] = df[numeric[0]].where(df[numeric[0]] != 0)
    return df.reset_index(drop=True)


def read_pack(folder: str | Path, *, municipalities: Mapping[str, str] | None = None) -> SourceResult:
    """Read a data pack into a :class:`SourceResult`.

    Parameters
    ----------
    folder
        The pack folder (holding ``pack.json``).
    municipalities
        Code -> name of the region's municipalities; defaults to the manifest's ``region``.

    Raises
    ------
    DataSourceError
        Missing folder or manifest, invalid JSON, a named file that is missing or unreadable,
        an unknown theme.
    """
    from layers import LAYERS

    root = Path(folder).expanduser().resolve()
    manifest = _load_manifest(root)
    name = str(manifest.get("name", root.name))
    munis = dict(municipalities or manifest.get("region", {}).get("municipalities", {}))
    result = SourceResult(name=f"pack {name}")
    for entry in manifest.get("layers", []):
        path, theme = root / entry["file"], str(entry.get("theme", ""))
        prov = _provenance(entry, name)
        fields = dict(entry.get("fields", {}))
        if theme == "localities":
            result.localities = _read_localities(path, fields, prov, munis)
            result.localities_provenance = prov
            continue
        if theme not in LAYERS:
            raise UnknownLayerError(
                f"pack {name}: {entry['file']} has theme {theme!r}; use one of "
                f"{', '.join(LAYERS)} or 'localities'"
            )
        gdf = read_file_as_layer(path, theme, provenance=prov, fields=fields,
                                 kind=entry.get("kind"), municipalities=munis)
        result.add_layer(theme, gdf, prov)
        log.info("pack %s: %d features from %s into %s", name, len(gdf), entry["file"], theme)
    for entry in manifest.get("tables", []):
        path = root / entry["file"]
        table = tidy_table(read_csv_table(path), munis)
        key = Path(entry["file"]).stem
        result.tables[key] = TableData(table, _provenance(entry, name), str(entry.get("what", "")))
    bounds = [e for e in manifest.get("boundaries", []) if (root / e["file"]).is_file()]
    if bounds:
        frames = []
        for e in bounds:
            g = read_vector(root / e["file"]).to_crs(STORE_CRS)
            frames.append(gpd.GeoDataFrame({"what": [e.get("what", "")], "source": [e.get("source", "")],
                                            "license": [e.get("license", "")]},
                                           geometry=[g.union_all()], crs=STORE_CRS))
        result.boundary = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORE_CRS)
    for missing in manifest.get("not_available_offline", []):
        result.notes.append(f"not in pack {name}: {missing}")
    return result
