"""OpenStreetMap features -> theme layers: tag filters from the layer specs, kinds, schema.

Shared by the PBF, XML and Overpass readers of :mod:`geo.sources.osm`, so all three give the same
columns, uids (``osm:<type>/<id>``) and kinds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers import LAYERS, LayerSpec, get_layer
from layers.vocab import NETWORK_MODES

from ..schema import LOCALITY_COLUMNS, Provenance, conform
from ..settings import STORE_CRS, WORK_CRS
from .base import SourceResult

log = logging.getLogger("geo.sources.osm")

#: Network modes the OSM source extracts (:class:`layers.vocab.NetworkMode`).
MODES: tuple[str, ...] = NETWORK_MODES
#: ``place=*`` values kept as localities (settlements, not neighbourhoods).
PLACE_VALUES: tuple[str, ...] = ("city", "town", "village", "hamlet")
_PLACE_TAGS: dict[str, bool | str | list[str]] = {"place": list(PLACE_VALUES)}


# --------------------------------------------------------------------------------------------
# layer selection and tags
# --------------------------------------------------------------------------------------------


def _specs(layers: Iterable[str] | None) -> list[LayerSpec]:
    keys = list(LAYERS) if layers is None else list(layers)
    return [get_layer(k) for k in keys if get_layer(k).osm]


def _merged_tags(specs: Iterable[LayerSpec]) -> dict[str, bool | str | list[str]]:
    """Union of the specs' osmnx ``tags`` dicts (``True`` wins over value lists)."""
    merged: dict[str, bool | str | list[str]] = {}
    for spec in specs:
        for key, val in spec.osm_tags.items():
            have = merged.get(key)
            if val is True or have is True:
                merged[key] = True
            else:
                assert isinstance(val, list)
                vals = list(have) if isinstance(have, list) else []
                merged[key] = vals + [v for v in val if v not in vals]
    return merged


def _rule_keys(specs: Iterable[LayerSpec]) -> list[str]:
    keys: list[str] = []
    for spec in specs:
        keys += [r.key for r in spec.osm if r.key not in keys]
    return keys


def _modes(modes: Iterable[str]) -> list[str]:
    out = list(modes)
    bad = [m for m in out if m not in MODES]
    if bad:
        raise ValueError(f"unknown network mode(s) {', '.join(bad)}; use some of {', '.join(MODES)}")
    return out


# --------------------------------------------------------------------------------------------
# raw features -> layers
# --------------------------------------------------------------------------------------------


def _buildings_to_points(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Replace building polygons by their centroid with ``value`` = footprint area in m².

    Buildings are the features whose kind comes from a ``building=*`` rule; other polygons
    (residential landuse) stay polygons.
    """
    building_kinds = {r.kind for r in spec.osm if r.key == "building"}
    is_building = gdf["kind"].isin(building_kinds) & gdf.geometry.geom_type.isin(
        ["Polygon", "MultiPolygon"]
    )
    if not is_building.any():
        return gdf
    out = gdf.copy()
    metric = out.loc[is_building, "geometry"].to_crs(WORK_CRS)
    out.loc[is_building, "value"] = metric.area.round(1).to_numpy()
    out.loc[is_building, "geometry"] = metric.centroid.to_crs(out.crs).to_numpy()
    return out


#: Post-processing after kinds are known, by the spec flag that asks for it (dispatch table).
_POSTPROCESS: dict[str, Callable[[gpd.GeoDataFrame, LayerSpec], gpd.GeoDataFrame]] = {
    "residential": _buildings_to_points,
}


def _split_layers(
    raw: gpd.GeoDataFrame,
    specs: list[LayerSpec],
    prov: Provenance,
    result: SourceResult,
) -> None:
    """Hand each raw feature to the layers whose rules match it and add them to ``result``.

    ``raw`` has ``uid``, ``name``, one column per rule key and a geometry.
    """
    if raw.empty:
        for spec in specs:
            log.info("%d features in layer %s", 0, spec.key)
        return
    for spec in specs:
        keys = [k for k in dict.fromkeys(r.key for r in spec.osm) if k in raw.columns]
        if not keys:
            log.info("%d features in layer %s", 0, spec.key)
            continue
        records = raw[keys].to_dict("records")
        kinds = pd.Series([spec.kind_for_tags(t) for t in records], index=raw.index, dtype=object)
        hit = kinds.notna()
        log.info("%d features in layer %s", int(hit.sum()), spec.key)
        if not hit.any():
            continue
        sel = raw.loc[hit, ["uid", "name", "geometry"]].copy()
        sel["kind"] = kinds[hit]
        sel["value"] = np.nan
        sel = gpd.GeoDataFrame(sel, geometry="geometry", crs=raw.crs)
        for flag, post in _POSTPROCESS.items():
            if getattr(spec, flag):
                sel = post(sel, spec)
        result.add_layer(spec.key, conform(sel, spec.key, prov, uid_prefix="osm"), prov)


def _clip(gdf: gpd.GeoDataFrame, polygon: BaseGeometry | None) -> gpd.GeoDataFrame:
    """Keep features that intersect ``polygon`` (whole, not cut), like osmnx does."""
    if polygon is None or gdf.empty:
        return gdf
    shapely.prepare(polygon)
    return gdf[shapely.intersects(polygon, gdf.geometry.to_numpy())]


def _json_tag(tags: object, key: str) -> Any:
    if not isinstance(tags, str) or not tags:
        return None
    try:
        return json.loads(tags).get(key)
    except ValueError:
        return None


def _nulls_to_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Tag columns as plain objects with None for missing (not NaN, which would print as 'nan')."""
    for col in frame.columns:
        if col != "uid":
            vals = frame[col].astype(object)
            frame[col] = pd.Series(
                [None if (v is None or (isinstance(v, float) and v != v)) else v for v in vals],
                index=frame.index,
                dtype=object,
            )
    return frame


def _raw_from_pyrosm(gdf: gpd.GeoDataFrame | None, keys: list[str]) -> gpd.GeoDataFrame:
    """pyrosm frame (``id``, ``osm_type``, tag columns, JSON ``tags``) -> raw feature frame."""
    cols = ["uid", "name", *keys]
    if gdf is None or len(gdf) == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([]), crs=STORE_CRS)
    out = pd.DataFrame(index=gdf.index)
    out["uid"] = "osm:" + gdf["osm_type"].astype(str) + "/" + gdf["id"].astype("int64").astype(str)
    for key in ["name", *keys]:
        if key in gdf.columns:
            out[key] = gdf[key]
        elif "tags" in gdf.columns:
            out[key] = [_json_tag(t, key) for t in gdf["tags"]]
        else:
            out[key] = None
    crs = gdf.crs or STORE_CRS
    return gpd.GeoDataFrame(_nulls_to_none(out), geometry=gdf.geometry.to_numpy(), crs=crs)


def _raw_from_osmnx(gdf: gpd.GeoDataFrame, keys: list[str]) -> gpd.GeoDataFrame:
    """osmnx features frame (index ``element``, ``id``) -> raw feature frame."""
    if len(gdf) == 0:
        return _raw_from_pyrosm(None, keys)
    idx = gdf.index.to_frame(index=False)
    out = pd.DataFrame(
        {"uid": ("osm:" + idx["element"].astype(str) + "/" + idx["id"].astype(str)).to_numpy()}
    )
    for key in ["name", *keys]:
        out[key] = gdf[key].to_numpy() if key in gdf.columns else None
    return gpd.GeoDataFrame(
        _nulls_to_none(out), geometry=gdf.geometry.to_numpy(), crs=gdf.crs or STORE_CRS
    )


def _places_frame(
    raw: pd.DataFrame, geometry: Any, crs: Any, prov: Provenance
) -> gpd.GeoDataFrame:
    """Raw ``uid``/``name``/``place``/``population`` rows -> locality schema (points)."""
    gdf = gpd.GeoDataFrame(raw.reset_index(drop=True), geometry=list(geometry), crs=crs)
    gdf = gdf[gdf["place"].isin(PLACE_VALUES) & gdf["name"].notna()].to_crs(STORE_CRS)
    poly = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if poly.any():
        gdf.loc[poly, "geometry"] = (
            gdf.loc[poly, "geometry"].to_crs(WORK_CRS).representative_point().to_crs(STORE_CRS)
        )
    pop = pd.to_numeric(
        gdf["population"].astype(str).str.replace(r"[\s,]", "", regex=True), errors="coerce"
    )
    out = gpd.GeoDataFrame(
        {
            "code": gdf["uid"].to_numpy(),
            "name": gdf["name"].astype(str).to_numpy(),
            "municipality": None,
            "municipality_name": None,
            "population": pop.to_numpy(),
            "area_ha": np.nan,
            "source": prov.source,
            "license": prov.license,
            "source_date": prov.date,
            "coverage": "partial",
            "place": gdf["place"].to_numpy(),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=STORE_CRS,
    )
    cols = [c for c in LOCALITY_COLUMNS if c != "geometry"]
    out = gpd.GeoDataFrame(out[[*cols, "place", "geometry"]], geometry="geometry", crs=STORE_CRS)
    log.info("%d places (%s) as localities", len(out), ", ".join(PLACE_VALUES))
    return out.reset_index(drop=True)
