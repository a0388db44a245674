"""Data packs: a folder of GeoJSON/GPKG/CSV files described by a ``pack.json`` manifest.

A pack is how offline data, official extracts and a planner's own files enter a build. The manifest
(see ``../shared/data/blekinge/pack.json``) lists ``layers`` (vector files with a ``theme`` that is a
layer key or ``localities``, a ``coverage``, ``fields`` mapping our names to the file's columns, and
``source``/``license``/``date``), ``tables`` (municipal statistics CSVs) and ``boundaries``.

A layer file's feature kind comes from, in order: ``fields.kind`` (a column), a constant ``kind``
entry, or the layer spec's ``pack_kind_hints`` matched against the file path.

A manifest is checked before any file is read: it must match :data:`PACK_SCHEMA` (errors name the
key path, e.g. ``layers[3].fields``), every ``file`` must resolve (symbolic links followed) inside
the pack folder, at most one layer may have the theme ``localities``, and every column named in
``fields`` must exist in its file.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers import LAYERS, LayerSpec, get_layer

from ..errors import DataSourceError, UnknownLayerError
from ..schema import LOCALITY_COLUMNS, Provenance, conform
from ..settings import STORE_CRS
from .base import MapFn, SourceResult, TableData
from .files import CRS_HINT, NO_COORDINATES, read_csv_table, read_vector

__all__ = ["ORIGIN", "PACK_MANIFEST", "PACK_SCHEMA", "read_file_as_layer", "read_pack", "tidy_table"]

log = logging.getLogger(__name__)

PACK_MANIFEST = "pack.json"
_ID_LIKE = re.compile(r"(relation|year|år|kod|code|id)$", re.IGNORECASE)


#: Column naming the file or source each feature was read from while a build runs (drop
#: accounting in :mod:`geo.build`); it is removed before the layer is stored.
ORIGIN = "_origin"
#: Our names a layer entry's ``fields`` may map, and those of a ``localities`` entry.
LAYER_FIELDS = ("id", "name", "kind", "municipality", "municipality_name", "value")
LOCALITY_FIELDS = ("id", "name", "municipality", "municipality_name", "population", "area_ha")

_TEXT: dict[str, Any] = {"type": "string", "description": "a text (a JSON string)"}
_FILE: dict[str, Any] = {"type": "string", "minLength": 1,
                         "description": "the file's path inside the pack folder (a non-empty string)"}
_FIELDS: dict[str, Any] = {
    "type": "object",
    "description": "an object mapping our names to the file's columns (e.g. {\"name\": \"NAMN\"})",
    "additionalProperties": {"type": "string", "minLength": 1,
                             "description": "the name of a column of the file (a non-empty string)"},
}
_COMMON: dict[str, Any] = {
    "file": _FILE, "theme": _TEXT, "what": _TEXT, "source": _TEXT, "license": _TEXT, "date": _TEXT,
    "key": _TEXT, "kind": _TEXT,
    "crs": {"type": "string", "minLength": 1,
            "description": "the CRS of the file's CSV coordinates (e.g. \"EPSG:3006\")"},
    "coverage": {"enum": ["complete", "partial"], "description": "\"complete\" or \"partial\""},
    "fields": _FIELDS,
}


def _entries(required: list[str], what: str) -> dict[str, Any]:
    return {"type": "array", "description": f"a list of {what}",
            "items": {"type": "object", "required": required, "properties": _COMMON,
                      "description": "an object with at least " + " and ".join(
                          f"\"{k}\"" for k in required)}}


#: JSON Schema (draft 2020-12) of ``pack.json``; unknown keys are allowed and ignored.
PACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "a JSON object with \"layers\", \"tables\" and/or \"boundaries\"",
    "properties": {
        "name": _TEXT,
        "crs": _COMMON["crs"],
        "region": {"type": "object", "description": "an object with \"name\" and \"municipalities\"",
                   "properties": {"name": _TEXT, "county_code": _TEXT,
                                  "municipalities": {
                                      "type": "object",
                                      "description": "an object mapping municipality codes to names",
                                      "additionalProperties": _TEXT}}},
        "layers": _entries(["file", "theme"], "layer entries ({\"file\": ..., \"theme\": ...})"),
        "tables": _entries(["file"], "table entries ({\"file\": ...})"),
        "boundaries": _entries(["file"], "boundary entries ({\"file\": ...})"),
        "not_available_offline": {"type": "array", "items": _TEXT,
                                  "description": "a list of texts"},
    },
}


def _json_kind(value: object) -> str:
    """Describe a JSON value for an error message: ``a string ('NAMN')``, ``an object``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})" if value else "an empty string"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return "a list" if isinstance(value, list) else "an object"


def _key_path(parts: Iterable[object]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def _validate(manifest: Any, mpath: Path) -> None:
    """Check ``manifest`` against :data:`PACK_SCHEMA`; raise one line naming the key path."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(PACK_SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(manifest))
    if error is None:
        return
    where = _key_path(error.absolute_path)
    if error.validator == "required":
        key = str(error.message).split("'")[1]
        desc = _COMMON.get(key, {}).get("description", "a value")
        raise DataSourceError(f"{mpath}: {where} has no {key!r} key; add {key!r}: {desc}")
    desc = error.schema.get("description", str(error.message)) if isinstance(error.schema, dict) else ""
    raise DataSourceError(f"{mpath}: {where} must be {desc}, got {_json_kind(error.instance)}")


def _inside(root: Path, name: str, where: str, file: str) -> Path:
    """Return ``root / file`` resolved, refusing absolute paths, ``..`` and symbolic links out."""
    rel = Path(file)
    how = ("is an absolute path" if rel.is_absolute() or rel.anchor else
           "climbs out of the pack with '..'" if ".." in rel.parts else "")
    target = (root / rel).resolve()
    if not how and not target.is_relative_to(root):
        how = "is (or lies under) a symbolic link pointing outside the pack"
    if how:
        raise DataSourceError(
            f"pack {name}: {where}.file {file!r} {how}; a pack reads only files inside its folder "
            f"{root}: copy the file into it and name it relative to {PACK_MANIFEST}"
        )
    return target


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
    _validate(manifest, mpath)
    name = str(manifest.get("name", folder.name))
    paths = {(sect, i): _inside(folder, name, f"{sect}[{i}]", e["file"])
             for sect in ("layers", "tables", "boundaries") for i, e in enumerate(manifest.get(sect, []))}
    missing = [manifest[sect][i]["file"] for (sect, i), path in paths.items() if not path.is_file()]
    if missing:
        raise DataSourceError(
            f"pack {folder.name}: {PACK_MANIFEST} names missing file(s) {', '.join(missing)}; "
            "add the file(s) or remove their entries from the manifest"
        )
    loc = [i for i, e in enumerate(manifest.get("layers", [])) if e["theme"] == "localities"]
    if len(loc) > 1:
        files = ", ".join(f"layers[{i}] {manifest['layers'][i]['file']}" for i in loc)
        raise DataSourceError(
            f"{mpath}: {len(loc)} layers have theme 'localities' ({files}); a build takes one "
            "localities file: keep one and remove the others or give them another theme"
        )
    return manifest


def _check_fields(path: Path, fields: Mapping[str, str], columns: Iterable[str], allowed: tuple[str, ...],
                  where: str) -> None:
    """Refuse ``fields`` keys we do not know and columns the file does not have."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise DataSourceError(
            f"{where}.fields has unknown name(s) {', '.join(map(repr, unknown))}; use "
            f"{', '.join(allowed)}"
        )
    cols = [str(c) for c in columns if c != "geometry"]
    for key, col in fields.items():
        if col not in cols:
            raise DataSourceError(
                f"{path}: {where}.fields.{key} names column {col!r}, which the file does not have; "
                f"columns available: {', '.join(cols[:30])}"
            )


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


def _kinds_by_name(spec: LayerSpec, kind: str, names: pd.Series, file: str) -> str | pd.Series:
    """The hinted ``kind`` of a pack file, or per feature when the spec's ``name_kinds`` apply."""
    if not spec.name_kinds:
        return kind
    kinds = pd.Series([spec.kind_for_name(kind, n) for n in names], index=names.index, dtype=object)
    changed = kinds != kind
    if not changed.any():
        return kind
    log.info("%s: %d of %d features are %s by their name (%s)", file, int(changed.sum()),
             len(kinds), ", ".join(sorted(set(kinds[changed]))), kind)
    return kinds


def read_file_as_layer(
    path: str | Path,
    layer: str,
    *,
    provenance: Provenance | None = None,
    fields: Mapping[str, str] | None = None,
    kind: str | None = None,
    municipalities: Mapping[str, str] | None = None,
    crs: str = "EPSG:4326",
    origin: str | None = None,
    where: str = "",
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
        ``value``) mapped to the file's; every named column must exist.
    kind
        Constant kind; otherwise ``fields['kind']`` or the spec's hints for the file name.
    municipalities
        Code -> name of the region's municipalities (to translate ``municipality_name``).
    crs
        CRS of CSV coordinates (``--file-crs``, a pack entry's ``crs``).
    origin
        Label stored in the :data:`ORIGIN` column (default ``file <name>``).
    where
        The manifest entry (``layers[3]``) for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        In the feature schema plus :data:`ORIGIN`; ``attrs["no_coordinates"]`` counts the rows
        dropped for having no usable geometry.
    """

    spec = get_layer(layer)
    p = Path(path)
    fields = dict(fields or {})
    prov = provenance or Provenance(source=f"user file {p.name}", license="unknown (user file)",
                                    coverage="partial")
    gdf = read_vector(p, default_crs=crs)
    if gdf.empty:
        raise DataSourceError(f"{p} holds no features; nothing to add to layer {layer!r}")
    _check_fields(p, fields, gdf.columns, LAYER_FIELDS, where or "the entry")
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
    elif kind:
        kinds = kind
    else:
        kinds = _kinds_by_name(spec, spec.kind_for_pack_file(p.as_posix()), out["name"], p.name)
    result = conform(out, layer, prov, kind=kinds, uid_prefix=prefix)
    finite = result.geometry.map(_finite)
    if not finite.all():
        log.warning("%s: %d features with non-finite coordinates after reprojection dropped",
                    p.name, int((~finite).sum()))
        result = result[finite]
    minx, miny, maxx, maxy = result.total_bounds if len(result) else (0.0, 0.0, 0.0, 0.0)
    if min(minx, miny) < -180 or maxx > 180 or abs(miny) > 90 or abs(maxy) > 90:
        raise DataSourceError(
            f"{p}: coordinates reach {maxx:.0f}, {maxy:.0f}, outside the range of WGS 84 degrees, so the "
            f"CRS it states or is read with is wrong (GeoJSON is WGS 84 unless it says otherwise); "
            f"save it with its real CRS, or {CRS_HINT}"
        )
    result[ORIGIN] = origin or f"file {p.name}"
    result.attrs[NO_COORDINATES] = int(gdf.attrs.get(NO_COORDINATES, 0)) + len(gdf) - len(result)
    return result


def _finite(geom: BaseGeometry) -> bool:
    """True when every coordinate of ``geom`` is a finite number (no NaN, no Infinity)."""
    return bool(np.isfinite(shapely.get_coordinates(geom)).all())


def _read_localities(path: Path, fields: Mapping[str, str], prov: Provenance,
                     munis: Mapping[str, str], where: str = "the entry",
                     origin: str = "") -> gpd.GeoDataFrame:
    raw = read_vector(path)
    _check_fields(path, fields, raw.columns, LOCALITY_FIELDS, where)
    gdf = raw.to_crs(STORE_CRS)
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
    out = out[list(LOCALITY_COLUMNS)].reset_index(drop=True)
    if origin:
        out[ORIGIN] = origin
    out.attrs[NO_COORDINATES] = int(raw.attrs.get(NO_COORDINATES, 0))
    return out


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


def _read_entry(job: tuple[str, str, dict[str, str], str, int, Mapping[str, Any]]) -> gpd.GeoDataFrame:
    """One ``layers`` entry of a pack read (a task of :func:`read_pack`'s ``map``): ``job`` is
    ``(pack folder, pack name, municipalities, pack CRS, index, entry)``; returns the
    localities or the layer's features."""
    folder, name, munis, pack_crs, i, entry = job
    path, theme, where = Path(folder) / entry["file"], str(entry["theme"]), f"layers[{i}]"
    origin = f"pack {name}: {entry['file']}"
    prov = _provenance(entry, name)
    fields = dict(entry.get("fields", {}))
    if theme == "localities":
        return _read_localities(path, fields, prov, munis, where, origin)
    return read_file_as_layer(path, theme, provenance=prov, fields=fields,
                              kind=entry.get("kind"), municipalities=munis,
                              crs=str(entry.get("crs") or pack_crs), origin=origin, where=where)


def _read_boundary(job: tuple[str, Mapping[str, Any]]) -> gpd.GeoDataFrame:
    """One ``boundaries`` entry of a pack read (a task of :func:`read_pack`'s ``map``)."""
    folder, entry = job
    return _boundary_rows(Path(folder) / entry["file"], entry)


def read_pack(folder: str | Path, *, municipalities: Mapping[str, str] | None = None,
              map: MapFn = map) -> SourceResult:
    """Read a data pack into a :class:`SourceResult`.

    Parameters
    ----------
    folder
        The pack folder (holding ``pack.json``).
    municipalities
        Code -> name of the region's municipalities; defaults to the manifest's ``region``.
    map
        Applies a function to each item of a list and yields the results in order (default the
        builtin: one file after the other): every ``layers`` and ``boundaries`` file is one item,
        so a Dask map (:func:`geo.distributed.dask_map`) reads them on workers; the result is
        assembled here in manifest order, the same as the serial read's.

    Returns
    -------
    SourceResult
        Layers (each feature's :data:`ORIGIN` names its file), localities, tables, and as
        ``boundary`` the rows of every ``boundaries`` entry (see :func:`_boundary_rows`): one
        per outline file, one per municipality of a municipality boundary file and one per tätort
        of a tätort outline file, told apart by ``kind``; ``drops`` counts rows without usable
        coordinates per file.

    Raises
    ------
    DataSourceError
        Missing folder or manifest, invalid JSON, a manifest that breaks :data:`PACK_SCHEMA`, a
        file outside the pack, a named file that is missing or unreadable, two localities
        files, a ``fields`` column the file lacks, an unknown theme, a tätort outline file
        without tätort names or codes.
    """

    root = Path(folder).expanduser().resolve()
    manifest = _load_manifest(root)
    name = str(manifest.get("name", root.name))
    munis = dict(municipalities or manifest.get("region", {}).get("municipalities", {}))
    pack_crs = str(manifest.get("crs") or "EPSG:4326")
    result = SourceResult(name=f"pack {name}")
    entries = list(manifest.get("layers", []))
    for entry in entries:
        theme = str(entry["theme"])
        if theme != "localities" and theme not in LAYERS:
            raise UnknownLayerError(
                f"pack {name}: {entry['file']} has theme {theme!r}; use one of "
                f"{', '.join(LAYERS)} or 'localities'"
            )
    jobs = [(str(root), name, munis, pack_crs, i, e) for i, e in enumerate(entries)]
    frames = list(map(_read_entry, jobs))  # in manifest order, whatever ran them
    log.info("pack %s: %d layer files read", name, len(frames))
    for entry, gdf in zip(entries, frames, strict=True):
        theme, origin = str(entry["theme"]), f"pack {name}: {entry['file']}"
        prov = _provenance(entry, name)
        if theme == "localities":
            result.localities = gdf
            result.localities_provenance = prov
            _count_unreadable(result, origin, gdf)
            continue
        _count_unreadable(result, origin, gdf)
        result.add_layer(theme, gdf, prov)
        log.info("pack %s: %d features from %s into %s", name, len(gdf), entry["file"], theme)
    for entry in manifest.get("tables", []):
        path = root / entry["file"]
        table = tidy_table(read_csv_table(path), munis)
        key = Path(entry["file"]).stem
        result.tables[key] = TableData(table, _provenance(entry, name), str(entry.get("what", "")))
    outlines = list(map(_read_boundary, [(str(root), e) for e in manifest.get("boundaries", [])]))
    if outlines:
        result.boundary = gpd.GeoDataFrame(pd.concat(outlines, ignore_index=True), crs=STORE_CRS)
    for missing in manifest.get("not_available_offline", []):
        result.notes.append(f"not in pack {name}: {missing}")
    return result


def _count_unreadable(result: SourceResult, origin: str, gdf: pd.DataFrame) -> None:
    n = int(gdf.attrs.get(NO_COORDINATES, 0))
    if n:
        result.drops.setdefault(origin, {})[NO_COORDINATES] = n


#: Columns that make a boundary file a set of municipality polygons (4-digit SCB codes).
_MUNICIPALITY_CODE_COLUMNS = ("kommun_kod", "kommunkod", "kommun-kod", "knkod", "mun_code",
                              "municipality")
#: Columns naming a municipality in a municipality boundary file.
_MUNICIPALITY_NAME_COLUMNS = ("kommun", "kommunnamn", "kommun_namn", "name", "namn")
#: Columns holding a tätort's code (Lantmäteriet/SCB ``TATNR``) or name (``NAMN1``) in an outline file.
_TATORT_ID_COLUMNS = ("tatnr", "tatortskod", "tatort_kod", "tatortkod", "tatort_id")
_TATORT_NAME_COLUMNS = ("namn1", "tatortsnamn", "tatort", "tätort", "namn", "name")
#: A boundary entry whose ``what`` matches this (or whose file has a tätort code column, or whose
#: ``kind`` is ``tatort_outlines``) holds tätort (urban area) outlines.
_TATORT_WHAT = re.compile(r"t[äa]tort|urban area", re.IGNORECASE)
#: Our names a tätort outline entry's ``fields`` may map.
TATORT_OUTLINE_FIELDS = ("id", "name", "population", "area_ha")
#: ``kind`` of the rows :func:`_boundary_rows` returns.
BOUNDARY_KINDS = ("municipality", "tatort", "outline")


def _column(g: pd.DataFrame, fields: Mapping[str, str], key: str,
            candidates: tuple[str, ...]) -> str | None:
    """The column ``fields[key]`` names, else the first of ``candidates`` the file has (any case)."""
    if fields.get(key) in g.columns:
        return str(fields[key])
    by_lower = {str(c).lower(): str(c) for c in g.columns if c != "geometry"}
    return next((by_lower[c] for c in candidates if c in by_lower), None)


def _boundary_kind(g: pd.DataFrame, entry: Mapping[str, Any]) -> str:
    """``municipality``, ``tatort`` or ``outline`` (see :func:`_boundary_rows`)."""
    kind = str(entry.get("kind", "")).strip().lower()
    if kind in ("municipality", "municipalities"):
        return "municipality"
    if kind in ("tatort", "tatort_outlines", "tätort", "urban_areas"):
        return "tatort"
    if kind in ("outline", "region", "province"):
        return "outline"
    fields = entry.get("fields", {})
    if _column(g, fields, "municipality", _MUNICIPALITY_CODE_COLUMNS) is not None:
        return "municipality"
    if _column(g, {}, "id", _TATORT_ID_COLUMNS) is not None or _TATORT_WHAT.search(
            str(entry.get("what", ""))):
        return "tatort"
    return "outline"


def _meta(path: Path, entry: Mapping[str, Any]) -> dict[str, str]:
    return {"what": str(entry.get("what", "")), "source": str(entry.get("source", "")),
            "license": str(entry.get("license", "")), "date": str(entry.get("date", "")),
            "file": path.name}


def _boundary_rows(path: Path, entry: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """The rows a ``boundaries`` entry contributes to :attr:`SourceResult.boundary`.

    Every row has ``kind`` (one of :data:`BOUNDARY_KINDS`), ``municipality``, ``name``,
    ``tatort_id`` and the entry's ``what``, ``source``, ``license``, ``date`` and ``file``. The kind is
    the entry's ``kind`` when given, else:

    - ``municipality``: ``fields.municipality`` or a column such as ``kommun_kod`` holds 4-digit
      codes; one row per municipality (polygons dissolved by code, ``name`` from ``kommun``). These
      polygons may keep coastal islands that SCB's simplified boundaries miss.
    - ``tatort``: a tätort code column (``TATNR``) or a ``what`` that says tätort / urban area; one
      row per tätort (parts dissolved by code, else by name), see :func:`_tatort_rows`.
    - ``outline``: anything else (a province outline, with or without the sea): one row.

    Raises
    ------
    DataSourceError
        For a tätort outline file without names or codes (see :func:`_tatort_rows`).
    """
    g = read_vector(path).to_crs(STORE_CRS)
    meta = _meta(path, entry)
    fields = entry.get("fields", {})
    polys = g[g.geom_type.isin(["Polygon", "MultiPolygon"])]
    kind = _boundary_kind(g, entry)
    if kind == "tatort":
        return _tatort_rows(path, polys, fields, meta)
    col = _column(g, fields, "municipality", _MUNICIPALITY_CODE_COLUMNS)
    if kind == "municipality" and col is not None and len(polys):
        codes = polys[col].map(lambda v: None if pd.isna(v) else str(v).split(".")[0].zfill(4))
        if codes.notna().all() and codes.str.fullmatch(r"\d{4}").all():
            name_col = _column(g, fields, "name", _MUNICIPALITY_NAME_COLUMNS)
            names = polys[name_col].astype("object").values if name_col else [None] * len(polys)
            by_code = gpd.GeoDataFrame({"municipality": codes.values, "name": names},
                                       geometry=polys.geometry.values, crs=STORE_CRS)
            by_code = by_code.dissolve(by="municipality", aggfunc="first").reset_index()
            by_code["kind"], by_code["tatort_id"] = "municipality", None
            for k, v in meta.items():
                by_code[k] = v
            return by_code
    return gpd.GeoDataFrame({**{k: [v] for k, v in meta.items()}, "kind": ["outline"],
                             "municipality": [None], "name": [None], "tatort_id": [None]},
                            geometry=[g.union_all()], crs=STORE_CRS)


def _tatort_rows(path: Path, polys: gpd.GeoDataFrame, fields: Mapping[str, str],
                 meta: Mapping[str, str]) -> gpd.GeoDataFrame:
    """One row per tätort of an outline file: its parts dissolved by code (else by name).

    Raises
    ------
    DataSourceError
        When ``fields`` names a column the file lacks, or the file has neither a tätort name nor
        a code column: the outlines could not be joined to the localities.
    """
    _check_fields(path, fields, polys.columns, TATORT_OUTLINE_FIELDS, "the boundaries entry")
    id_col = _column(polys, fields, "id", _TATORT_ID_COLUMNS)
    name_col = _column(polys, fields, "name", _TATORT_NAME_COLUMNS)
    if id_col is None and name_col is None:
        cols = [str(c) for c in polys.columns if c != "geometry"]
        raise DataSourceError(
            f"{path}: tätort outlines need each outline's tätort name or code to be joined to the "
            f"localities, and the file has neither (columns: {', '.join(cols[:20]) or 'none'}); add "
            "a name column (NAMN1) or a code column (TATNR), or name yours in the pack entry's "
            "fields, e.g. \"fields\": {\"name\": \"NAMN1\", \"id\": \"TATNR\"}"
        )
    frame = gpd.GeoDataFrame({
        "tatort_id": polys[id_col].map(lambda v: None if pd.isna(v) else str(v).split(".")[0])
        if id_col else None,
        "name": polys[name_col].astype("object").where(polys[name_col].notna(), None)
        if name_col else None,
    }, geometry=polys.geometry.values, crs=STORE_CRS)
    key = "tatort_id" if id_col else "name"
    frame = frame[frame[key].notna()]
    out = frame.dissolve(by=key, aggfunc="first").reset_index()
    out["kind"], out["municipality"] = "tatort", None
    for k, v in meta.items():
        out[k] = v
    log.info("%s: %d tätort outlines in %d parts", path.name, len(out), len(frame))
    return out
