"""Reading single vector or CSV files into GeoDataFrames, with clear errors for bad input."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely import wkt as shapely_wkt

from ..errors import DataSourceError

__all__ = ["CRS_HINT", "NO_COORDINATES", "read_csv_table", "read_vector"]

log = logging.getLogger(__name__)

_LON = ("lon", "lng", "long", "longitude", "x", "wgs84longitude", "wgs84_lon")
_LAT = ("lat", "latitude", "y", "wgs84latitude", "wgs84_lat")
_WKT = ("wkt", "geometry", "geom", "the_geom")
#: ``GeoDataFrame.attrs`` key: rows :func:`read_vector` dropped for missing or non-finite coordinates.
NO_COORDINATES = "no_coordinates"
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".geoparquet")


def _find(cols: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.lower().strip(): c for c in cols}
    for n in names:
        if n in low:
            return low[n]
    return None


#: Where SWEREF 99 TM (EPSG:3006) coordinates of Sweden lie, in metres (easting, northing).
SWEREF99TM_ENVELOPE = (180_000.0, 6_050_000.0, 1_100_000.0, 7_750_000.0)
#: How to declare a CSV's CRS, named in every coordinate error.
CRS_HINT = "pass --file-crs 3006 for a --file, or set \"crs\": \"EPSG:3006\" on its pack.json entry"


def _read_csv_frame(path: Path) -> pd.DataFrame:
    """Read a CSV with sniffed separator; empty, header-only and unparsable files are errors."""
    size = path.stat().st_size
    if size == 0 or (size < 4096 and not path.read_bytes().strip()):
        raise DataSourceError(f"{path} is empty (0 bytes of data); export the file again with a header "
                              "row and one row per feature")
    try:
        df = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise DataSourceError(f"{path} is not a readable CSV file ({exc}); save it as UTF-8 CSV") from None
    if df.empty:
        raise DataSourceError(f"{path} has a header ({', '.join(map(str, list(df.columns)[:12]))}) "
                              "but no rows; add one row per feature")
    return df


def _check_degrees(path: Path, x: pd.Series, y: pd.Series, lon: str, lat: str) -> None:
    """Refuse projected coordinates read as degrees, naming SWEREF 99 TM when they look like it."""
    out = (x.abs() > 180) | (y.abs() > 90)
    if not out.any():
        return
    minx, miny, maxx, maxy = SWEREF99TM_ENVELOPE
    sweref = x.between(minx, maxx) & y.between(miny, maxy)
    if sweref[out].all():
        raise DataSourceError(
            f"{path}: columns {lon!r}/{lat!r} hold values like {x[out].iloc[0]:.0f}/{y[out].iloc[0]:.0f}, "
            f"which are SWEREF 99 TM (EPSG:3006) metres, not WGS 84 degrees; {CRS_HINT}"
        )
    raise DataSourceError(
        f"{path}: {int(out.sum())} of {len(x)} rows have {lon!r}/{lat!r} outside -180..180/-90..90, so "
        "they are not WGS 84 degrees; give the file's CRS: --file-crs EPSG for a --file, or \"crs\" "
        "on its pack.json entry"
    )


def _read_csv_points(path: Path, crs: str) -> gpd.GeoDataFrame:
    df = _read_csv_frame(path)
    cols = list(df.columns)
    lon, lat, wkt = _find(cols, _LON), _find(cols, _LAT), _find(cols, _WKT)
    if lon and lat:
        x = pd.to_numeric(df[lon].astype(str).str.replace(",", "."), errors="coerce")
        y = pd.to_numeric(df[lat].astype(str).str.replace(",", "."), errors="coerce")
        keep = pd.Series(np.isfinite(x) & np.isfinite(y), index=df.index)  # NaN, "Infinity", blanks
        bad = int((~keep).sum())
        if bad == len(df):
            raise DataSourceError(f"{path}: columns {lon!r}/{lat!r} hold no finite numeric coordinates "
                                  "(all empty, text, NaN or Infinity)")
        if pyproj.CRS.from_user_input(crs).is_geographic:
            _check_degrees(path, x[keep], y[keep], lon, lat)
        if bad:
            log.warning("%s: %d of %d rows without usable coordinates (empty, NaN or Infinity) dropped",
                        path.name, bad, len(df))
        gdf = gpd.GeoDataFrame(df[keep], geometry=gpd.points_from_xy(x[keep], y[keep]), crs=crs)
        gdf.attrs[NO_COORDINATES] = bad
        return gdf
    if wkt:
        try:
            geoms = df[wkt].map(lambda s: shapely_wkt.loads(s) if isinstance(s, str) and s else None)
        except Exception as exc:  # shapely raises GEOSException subclasses
            raise DataSourceError(f"{path}: column {wkt!r} is not valid WKT ({exc})") from None
        return gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=geoms.values, crs=crs)
    raise DataSourceError(
        f"{path} has no coordinates: add lon/lat columns (WGS 84) or a WKT column named 'wkt'. "
        f"Columns found: {', '.join(map(str, cols[:12]))}"
    )


def read_vector(path: str | Path, *, default_crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage, Shapefile, FlatGeobuf, GeoParquet or CSV (lon/lat or WKT) file.

    Parameters
    ----------
    path
        The file.
    default_crs
        CRS for CSV coordinates (files carry their own).

    Returns
    -------
    geopandas.GeoDataFrame
        The features with a geometry; ``attrs[NO_COORDINATES]`` counts the rows dropped for
        having none (empty or non-finite CSV coordinates, null or empty geometries).

    Raises
    ------
    DataSourceError
        Missing file, unreadable or broken file, a 0-byte or header-only CSV, CSV without
        coordinates or with none finite, projected coordinates in a degrees CSV (SWEREF 99 TM
        is named), no CRS.
    """
    p = Path(path)
    if not p.is_file():
        raise DataSourceError(f"{p} does not exist; check the path")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        gdf = _read_csv_points(p, default_crs)
    elif suffix in (".parquet", ".geoparquet"):
        try:
            gdf = gpd.read_parquet(p)
        except Exception as exc:  # pyarrow raises several error types
            raise DataSourceError(f"{p} is not a readable GeoParquet file ({exc})") from None
    elif suffix in VECTOR_SUFFIXES:
        try:
            gdf = gpd.read_file(p, engine="pyogrio")
        except Exception as exc:  # pyogrio.errors.DataSourceError and friends
            msg = str(exc).splitlines()[0][:200]
            raise DataSourceError(
                f"{p} is not a readable {suffix[1:].upper()} file ({msg}); check that it is complete "
                "and valid (e.g. open it in QGIS or run ogrinfo on it)"
            ) from None
    else:
        raise DataSourceError(
            f"{p}: unsupported file type {suffix!r}; use one of "
            f"{', '.join((*VECTOR_SUFFIXES, '.csv'))}"
        )
    if gdf.crs is None:
        if suffix in (".geojson", ".json"):
            gdf = gdf.set_crs("EPSG:4326")  # RFC 7946: GeoJSON is WGS 84
        else:
            raise DataSourceError(f"{p} has no CRS; save it with one (e.g. EPSG:4326 or EPSG:3006)")
    dropped = int(gdf.attrs.get(NO_COORDINATES, 0))
    has_geom = gdf.geometry.notna() & ~gdf.geometry.is_empty
    if not has_geom.all():
        log.warning("%s: %d features without geometry dropped", p.name, int((~has_geom).sum()))
    gdf = gdf[has_geom]
    gdf.attrs[NO_COORDINATES] = dropped + int((~has_geom).sum())
    log.info("%d features read from %s", len(gdf), p.name)
    return gdf


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """Read a statistics CSV: plain (comma) or a Skolverket export (semicolon, preamble, decimal comma).

    Returns the raw table with numeric columns converted (``..`` and empty cells become NaN).
    """
    p = Path(path)
    if not p.is_file():
        raise DataSourceError(f"{p} does not exist; check the path")
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        lines = p.read_text(encoding="latin-1").splitlines()
    if not any(ln.strip() for ln in lines):
        raise DataSourceError(f"{p} is empty (0 bytes of data); export the table again")
    header = next((i for i, ln in enumerate(lines) if ln.lower().startswith("kommun;")), None)
    if header is not None:
        # Skolverket export: preamble lines, ';' separated, decimal comma, '..' for suppressed values
        rows = [ln.rstrip(";").split(";") for ln in lines[header:] if ln.count(";") >= 3]
        head = _unique([h.strip() for h in rows[0]])
        body = [r[: len(head)] + [""] * (len(head) - len(r)) for r in rows[1:]]
        df = pd.DataFrame(body, columns=head)
        for c in df.columns:
            raw = df[c].str.strip().replace({"..": None, "": None, "-": None})
            conv = pd.to_numeric(raw.str.replace(",", ".", regex=False).str.lstrip("~"), errors="coerce")
            if raw.notna().any() and conv.notna().sum() == raw.notna().sum():
                df[c] = conv
        return df
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataSourceError(f"{p} is not a readable CSV table ({exc})") from None
    if df.empty:
        raise DataSourceError(f"{p} has a header ({', '.join(map(str, list(df.columns)[:12]))}) but "
                              "no rows; export the table again with its data")
    return df
