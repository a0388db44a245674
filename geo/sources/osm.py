"""OpenStreetMap source: theme features and street networks from a PBF file, an OSM XML file or Overpass.

Three twins give the same schema (:data:`geo.schema.FEATURE_COLUMNS`, uids ``osm:<type>/<id>``,
kinds from the layer specs):

- :func:`osm_from_pbf` reads a PBF extract with pyrosm (offline, fast, whole counties),
- :func:`osm_from_xml` reads an ``.osm`` XML file with osmnx (offline, small areas),
- :func:`osm_online` asks Overpass through osmnx (cached on disk in ``<data>/cache``).

Each reads every layer's tags in one pass, then hands every feature to the layers whose
:meth:`layers.LayerSpec.kind_for_tags` gives it a kind. Networks are plain node/edge frames
(:class:`geo.sources.base.NetworkData`); walk and bike networks store both directions of every edge.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers import LAYERS, LayerSpec, get_layer

from ..errors import DataSourceError, OfflineError
from ..schema import LOCALITY_COLUMNS, Provenance, conform
from ..settings import OSM_ATTRIBUTION, OSM_LICENSE, STORE_CRS, WORK_CRS
from .base import NetworkData, SourceResult

__all__ = [
    "MODES",
    "network_from_graph",
    "osm_from_pbf",
    "osm_from_xml",
    "osm_online",
    "osm_places_from_pbf",
    "osm_places_online",
]

log = logging.getLogger(__name__)

#: Network modes this source extracts.
MODES: tuple[str, ...] = ("walk", "bike", "drive")
_PYROSM_NETWORK = {"walk": "walking", "bike": "cycling", "drive": "driving"}
_BIDIRECTIONAL = frozenset({"walk", "bike"})
#: ``place=*`` values kept as localities (settlements, not neighbourhoods).
PLACE_VALUES: tuple[str, ...] = ("city", "town", "village", "hamlet")
_PLACE_TAGS: dict[str, bool | str | list[str]] = {"place": list(PLACE_VALUES)}
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})
_OVERPASS_HOST = "overpass-api.de"
#: Overpass server-side and HTTP timeout (seconds) for the queries this module sends.
OVERPASS_TIMEOUT_S = 300
_OFFLINE_HINT = "no network: use --offline with --pbf/--pack, or try again online"


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


#: Per-layer post-processing after kinds are known (dispatch table).
_POSTPROCESS: dict[str, Callable[[gpd.GeoDataFrame, LayerSpec], gpd.GeoDataFrame]] = {
    "housing": _buildings_to_points,
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
        post = _POSTPROCESS.get(spec.key)
        if post is not None:
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
    import json

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


# --------------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------------


def _first(value: object) -> object:
    if isinstance(value, list | tuple | np.ndarray):
        return value[0] if len(value) else None
    return value


_SPEED = re.compile(r"(\d+(?:\.\d+)?)\s*(mph)?")


def _parse_maxspeed(value: object) -> float:
    """OSM ``maxspeed`` (``"50"``, ``"30 mph"``, lists from simplified edges) -> km/h, NaN if unknown."""
    if isinstance(value, list | tuple | np.ndarray):
        speeds = [_parse_maxspeed(v) for v in value]
        speeds = [s for s in speeds if s == s]
        return float(min(speeds)) if speeds else float("nan")
    if value is None or (isinstance(value, float) and value != value):
        return float("nan")
    m = _SPEED.search(str(value))
    if not m:
        return float("nan")
    speed = float(m.group(1))
    return speed * 1.609344 if m.group(2) else speed


def _finish_network(
    nodes: pd.DataFrame, edges: pd.DataFrame, mode: str, prov: Provenance
) -> NetworkData:
    """Normalise dtypes, add reverse edges for walk/bike, drop unused nodes."""
    edges = edges.copy()
    edges["u"] = edges["u"].astype("int64")
    edges["v"] = edges["v"].astype("int64")
    edges["length"] = pd.to_numeric(edges["length"], errors="coerce").astype(float)
    edges["highway"] = pd.Series(
        [None if h is None or h != h else str(h) for h in map(_first, edges.get("highway", []))],
        index=edges.index,
        dtype=object,
    )
    edges["maxspeed"] = [_parse_maxspeed(s) for s in edges.get("maxspeed", [None] * len(edges))]
    edges = edges[["u", "v", "length", "highway", "maxspeed"]]
    edges = edges[edges["u"] != edges["v"]]
    if mode in _BIDIRECTIONAL:
        rev = edges.rename(columns={"u": "v", "v": "u"})[edges.columns]
        both = pd.concat([edges, rev], ignore_index=True)
        # keep one edge per direction and way-length (parallel ways of other lengths stay)
        both["_len"] = both["length"].round(1)
        edges = both.drop_duplicates(["u", "v", "_len"]).drop(columns="_len")
    edges = edges.reset_index(drop=True)
    used = pd.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()]))
    nodes = nodes[nodes["node"].isin(used)].drop_duplicates("node")
    nodes = pd.DataFrame(
        {
            "node": nodes["node"].astype("int64").to_numpy(),
            "x": nodes["x"].astype(float).to_numpy(),
            "y": nodes["y"].astype(float).to_numpy(),
        }
    )
    log.info("%d nodes and %d edges in the %s network", len(nodes), len(edges), mode)
    return NetworkData(nodes=nodes, edges=edges, provenance=prov)


def network_from_graph(G: Any, mode: str, prov: Provenance) -> NetworkData:
    """Turn an osmnx ``MultiDiGraph`` (lon/lat node coordinates) into :class:`NetworkData`.

    Parameters
    ----------
    G
        Unprojected osmnx graph: nodes carry ``x``/``y``, edges ``length``, ``highway``, ``maxspeed``.
    mode
        ``walk``, ``bike`` or ``drive``; walk and bike get both directions of every edge.
    prov
        Provenance of the network.
    """
    nodes = pd.DataFrame(
        [(n, d.get("x"), d.get("y")) for n, d in G.nodes(data=True)], columns=["node", "x", "y"]
    )
    edges = pd.DataFrame(
        [
            (u, v, d.get("length"), d.get("highway"), d.get("maxspeed"))
            for u, v, d in G.edges(data=True)
        ],
        columns=["u", "v", "length", "highway", "maxspeed"],
    )
    return _finish_network(nodes, edges, mode, prov)


def _pyrosm_directed(edges: pd.DataFrame, mode: str) -> pd.DataFrame:
    """pyrosm drive edges are stored as drawn: apply ``oneway``/roundabouts like osmnx."""
    if mode in _BIDIRECTIONAL:
        return edges
    oneway = edges.get("oneway", pd.Series(None, index=edges.index)).astype(str).str.lower()
    junction = edges.get("junction", pd.Series(None, index=edges.index)).astype(str)
    forward_only = oneway.isin(_ONEWAY_YES) | ((junction == "roundabout") & ~oneway.isin(["no"]))
    reverse_only = oneway.isin(_ONEWAY_REVERSE)
    fwd = edges[~reverse_only]
    back = edges[~forward_only].rename(columns={"u": "v", "v": "u"})
    return pd.concat([fwd, back[fwd.columns]], ignore_index=True)


# --------------------------------------------------------------------------------------------
# PBF (pyrosm)
# --------------------------------------------------------------------------------------------


def _bad_pbf(path: Path, why: object) -> DataSourceError:
    return DataSourceError(
        f"{path} is not a readable OSM PBF file: {why}; download an extract from e.g. Geofabrik "
        "(https://download.geofabrik.de/europe/sweden.html)"
    )


def _open_pbf(path: str | os.PathLike[str], polygon: BaseGeometry | None, **kw: Any) -> Any:
    import pyrosm
    from pyrosm.exceptions import PBFException

    p = Path(path)
    if not p.is_file():
        raise _bad_pbf(p, "no such file")
    try:
        return pyrosm.OSM(str(p), bounding_box=polygon, progress=False, **kw)
    except PBFException as e:
        raise _bad_pbf(p, str(e).splitlines()[0] if str(e) else type(e).__name__) from e


def _pbf_date(path: Path, timestamps: Iterable[pd.Series]) -> str:
    """Replication time from the PBF header, else the newest element edit seen (ISO date)."""
    try:
        from pyrosm.pbf_export import read_header_block

        header = read_header_block(str(path))
        ts = int(getattr(header, "osmosis_replication_timestamp", 0) or 0)
        if ts > 0:
            return datetime.fromtimestamp(ts, tz=timezone.utc).date().isoformat()
    except Exception as e:  # a private pyrosm helper: any failure falls back to element times
        log.debug("no PBF header timestamp in %s: %s", path, e)
    newest = 0
    for s in timestamps:
        vals = pd.to_numeric(s, errors="coerce")
        if len(vals) and vals.notna().any():
            newest = max(newest, int(vals.max()))
    if newest > 0:
        return datetime.fromtimestamp(newest, tz=timezone.utc).date().isoformat()
    return ""


def _pbf_call(path: Path, fn: Any, *args: Any, **kw: Any) -> Any:
    from pyrosm.exceptions import PBFException

    try:
        with warnings.catch_warnings():
            # an empty answer is normal here (no relations in a small area); None is handled
            warnings.filterwarnings("ignore", "Could not find any OSM data", UserWarning)
            return fn(*args, **kw)
    except PBFException as e:
        raise _bad_pbf(path, str(e).splitlines()[0] if str(e) else type(e).__name__) from e


def osm_from_pbf(
    path: str | os.PathLike[str],
    polygon: BaseGeometry | None = None,
    *,
    layers: Iterable[str] | None = None,
    modes: Iterable[str] = ("walk",),
) -> SourceResult:
    """Read theme features and street networks from an OSM PBF extract with pyrosm.

    Parameters
    ----------
    path
        ``.osm.pbf`` file (a Geofabrik extract of Sweden or a county cut of it).
    polygon
        (Multi)Polygon in EPSG:4326 to keep (features intersecting it are kept whole);
        None keeps the whole file.
    layers
        Layer keys to read (default: every registered layer).
    modes
        Networks to build, some of ``walk``, ``bike``, ``drive``.

    Returns
    -------
    SourceResult
        Layers that have features, and one network per mode.

    Raises
    ------
    DataSourceError
        When the file is missing or not a valid PBF.
    """
    p = Path(path)
    specs = _specs(layers)
    mode_list = _modes(modes)
    osm = _open_pbf(p, polygon)
    keys = _rule_keys(specs)
    frames: list[gpd.GeoDataFrame | None] = []
    if specs:
        # Relations are read apart: in one read pyrosm drops the member ways of a kept relation,
        # even members with tags of their own (a tennis court inside a park multipolygon).
        parts = [
            _pbf_call(
                p,
                osm.get_data_by_custom_criteria,
                custom_filter=_merged_tags(specs),
                tags_as_columns=["name", *keys],
                keep_other_tags=False,
                filter_type="keep",
                keep_nodes=which != "relations",
                keep_ways=which != "relations",
                keep_relations=which == "relations",
            )
            for which in ("nodes+ways", "relations")
        ]
        found = [f for f in parts if f is not None and len(f)]
        if found:
            frames.append(
                gpd.GeoDataFrame(pd.concat(found, ignore_index=True), crs=found[0].crs)
            )
    raw_nets: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    for mode in mode_list:
        got = _pbf_call(
            p,
            osm.get_network,
            network_type=_PYROSM_NETWORK[mode],
            nodes=True,
            extra_attributes=["junction"] if mode == "drive" else None,
        )
        if got is None or got[1] is None or len(got[1]) == 0:
            log.info("no %s network in %s", mode, p.name)
            continue
        raw_nets[mode] = got
    date = _pbf_date(p, [f["timestamp"] for f in frames if f is not None and "timestamp" in f])
    prov = Provenance(
        source=f"OpenStreetMap (pbf file {p.name})",
        license=OSM_LICENSE,
        date=date,
        coverage="complete",
        attribution=OSM_ATTRIBUTION,
        url="https://download.geofabrik.de/",
    )
    result = SourceResult(name=f"OSM pbf {p.name}")
    raw = _raw_from_pyrosm(frames[0] if frames else None, keys)
    _split_layers(_clip(raw, polygon), specs, prov, result)
    for mode, (nodes, edges) in raw_nets.items():
        n = pd.DataFrame({"node": nodes["id"], "x": nodes["lon"], "y": nodes["lat"]})
        result.networks[mode] = _finish_network(n, _pyrosm_directed(edges, mode), mode, prov)
    return result


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


def osm_places_from_pbf(
    path: str | os.PathLike[str], polygon: BaseGeometry | None = None
) -> gpd.GeoDataFrame:
    """Settlements (``place`` = city, town, village, hamlet) from a PBF, as a locality fallback.

    Returns
    -------
    geopandas.GeoDataFrame
        Locality schema (:data:`geo.schema.LOCALITY_COLUMNS`) plus ``place``; ``code`` is the OSM
        uid, ``population`` from the ``population`` tag (NaN if absent), ``coverage`` ``partial``.
    """
    p = Path(path)
    osm = _open_pbf(p, polygon)
    gdf = _pbf_call(
        p,
        osm.get_data_by_custom_criteria,
        custom_filter={"place": list(PLACE_VALUES)},
        tags_as_columns=["name", "place", "population"],
        keep_other_tags=False,
        keep_nodes=True,
        keep_ways=True,
        keep_relations=False,
    )
    stamps = [gdf["timestamp"]] if gdf is not None and "timestamp" in gdf else []
    prov = Provenance(
        source=f"OpenStreetMap (pbf file {p.name})",
        license=OSM_LICENSE,
        date=_pbf_date(p, stamps),
        coverage="partial",
        attribution=OSM_ATTRIBUTION,
        note="place=city/town/village/hamlet points; population only where tagged",
    )
    raw = _clip(_raw_from_pyrosm(gdf, ["place", "population"]), polygon)
    return _places_frame(raw.drop(columns="geometry"), raw.geometry, raw.crs, prov)


# --------------------------------------------------------------------------------------------
# osmnx: XML and Overpass
# --------------------------------------------------------------------------------------------

_BRACKET = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')


def _way_filter(mode: str) -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    """osmnx's Overpass way filter for ``mode`` as ``(key, op, regex)`` predicates."""
    from osmnx._overpass import _get_network_filter

    return [
        (k, op or None, re.compile(rx) if op else None)
        for k, op, rx in _BRACKET.findall(_get_network_filter(mode))
    ]


def _edge_passes(attrs: dict[str, Any], preds: list[tuple[str, str | None, Any]]) -> bool:
    for key, op, rx in preds:
        val = attrs.get(key)
        vals = [str(v) for v in val] if isinstance(val, list) else [] if val is None else [str(val)]
        if op is None and not vals:
            return False
        if op == "~" and not any(rx.search(v) for v in vals):
            return False
        if op == "!~" and any(rx.search(v) for v in vals):
            return False
    return True


def _xml_graph(path: Path, mode: str) -> Any:
    """osmnx graph of ``mode`` from an XML file: all ways read, then osmnx's way filter applied."""
    import osmnx as ox

    preds = _way_filter(mode)
    keep = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys(keep + [k for k, _, _ in preds]))
    try:
        G = ox.graph_from_xml(
            path, bidirectional=mode == "walk", simplify=False, retain_all=True
        )
    finally:
        ox.settings.useful_tags_way = keep
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not _edge_passes(d, preds)]
    G.remove_edges_from(drop)
    import networkx as nx

    G.remove_nodes_from(list(nx.isolates(G)))
    if len(G.edges):
        G = ox.simplify_graph(G)
    return G


def _xml_date(path: Path) -> str:
    """Newest ``timestamp`` attribute of the file's elements (ISO date), else the file's mtime."""
    import xml.etree.ElementTree as ET

    newest = ""
    try:
        for _, el in ET.iterparse(path, events=("start",)):
            ts = el.get("timestamp") or el.get("osm_base") or ""
            newest = max(newest, ts)
    except ET.ParseError as e:
        raise DataSourceError(
            f"{path} is not a readable OSM XML file: {e}; export one from openstreetmap.org "
            "or convert a PBF with osmium"
        ) from e
    if newest:
        return newest[:10]
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).date().isoformat()


def _osmnx_features(fetch: Any, keys: list[str]) -> gpd.GeoDataFrame:
    from osmnx._errors import InsufficientResponseError

    try:
        gdf = fetch()
    except InsufficientResponseError as e:
        log.info("no OSM features: %s", e)
        return _raw_from_pyrosm(None, keys)
    return _raw_from_osmnx(gdf, keys)


def osm_from_xml(
    path: str | os.PathLike[str],
    polygon: BaseGeometry | None = None,
    *,
    layers: Iterable[str] | None = None,
    modes: Iterable[str] = ("walk",),
) -> SourceResult:
    """Read theme features and street networks from an OSM XML (``.osm``) file with osmnx.

    Parameters are those of :func:`osm_from_pbf`. Networks are osmnx graphs (simplified, every
    component kept) filtered with osmnx's Overpass way filter of the mode.
    """
    import osmnx as ox

    p = Path(path)
    if not p.is_file():
        raise DataSourceError(f"{p} does not exist; give the path of an OSM XML (.osm) file")
    specs = _specs(layers)
    mode_list = _modes(modes)
    date = _xml_date(p)
    prov = Provenance(
        source=f"OpenStreetMap (OSM XML file {p.name})",
        license=OSM_LICENSE,
        date=date,
        coverage="complete",
        attribution=OSM_ATTRIBUTION,
    )
    result = SourceResult(name=f"OSM xml {p.name}")
    keys = _rule_keys(specs)
    if specs:
        tags = _merged_tags(specs)
        raw = _osmnx_features(lambda: ox.features_from_xml(p, polygon=polygon, tags=tags), keys)
        _split_layers(raw, specs, prov, result)
    for mode in mode_list:
        G = _graph_or_none(lambda m=mode: _xml_graph(p, m), f"{mode} network in {p.name}")
        if G is None:
            continue
        if polygon is not None and len(G):
            inside = [
                n for n, d in G.nodes(data=True) if polygon.intersects(shapely.Point(d["x"], d["y"]))
            ]
            G = G.subgraph(inside).copy()
        if len(G.edges):
            result.networks[mode] = network_from_graph(G, mode, prov)
    return result


def _overpass_reachable(timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the Overpass server opens within ``timeout`` seconds."""
    import socket

    try:
        with socket.create_connection((_OVERPASS_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


class _OsmnxSettings:
    """Temporarily set osmnx settings: cache on, cache folder, timeout, no rate-limit pause offline."""

    def __init__(self, cache_dir: str | os.PathLike[str] | None) -> None:
        from ..settings import cache_dir as default_cache

        self.values: dict[str, Any] = {
            "use_cache": True,
            "cache_folder": Path(cache_dir) if cache_dir else default_cache(),
            # county-sized queries need more than osmnx's 180 s server and client timeout
            "requests_timeout": OVERPASS_TIMEOUT_S,
        }
        if not _overpass_reachable():
            # cached answers still work; uncached ones fail at once instead of a 60 s pause
            self.values["overpass_rate_limit"] = False
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        import osmnx as ox

        for k, v in self.values.items():
            self.saved[k] = getattr(ox.settings, k)
            setattr(ox.settings, k, v)

    def __exit__(self, *exc: object) -> None:
        import osmnx as ox

        for k, v in self.saved.items():
            setattr(ox.settings, k, v)


def _online(call: Any, what: str) -> Any:
    """Run an Overpass call, turning network failures into :class:`OfflineError`."""
    import requests
    from osmnx._errors import ResponseStatusCodeError

    try:
        return call()
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
        raise OfflineError(f"cannot reach Overpass for {what} ({type(e).__name__}); "
                           f"{_OFFLINE_HINT}") from e
    except ResponseStatusCodeError as e:
        first = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise OfflineError(f"Overpass answered {what} with an error ({first}); try again later, "
                           "or use --offline with --pbf/--pack") from e


def _graph_or_none(call: Any, what: str) -> Any:
    """Run an osmnx graph builder; None when the area holds no such ways."""
    from osmnx._errors import InsufficientResponseError

    try:
        return call()
    except InsufficientResponseError as e:
        log.info("no %s: %s", what, e)
        return None


def _check_polygon(polygon: BaseGeometry) -> BaseGeometry:
    """Return ``polygon``, repaired if invalid (osmnx refuses invalid polygons)."""
    if polygon is None or polygon.geom_type not in ("Polygon", "MultiPolygon") or polygon.is_empty:
        raise ValueError(
            f"osm_online needs a non-empty (Multi)Polygon in EPSG:4326, got {polygon!r:.60}"
        )
    if not polygon.is_valid:
        fixed = shapely.make_valid(polygon)
        if fixed.geom_type == "GeometryCollection":
            fixed = shapely.union_all(
                [g for g in fixed.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
            )
        if fixed.geom_type in ("Polygon", "MultiPolygon") and not fixed.is_empty:
            log.info("repaired an invalid query polygon (%s)", shapely.is_valid_reason(polygon))
            return fixed
    return polygon


def osm_online(
    polygon: BaseGeometry,
    *,
    layers: Iterable[str] | None = None,
    modes: Iterable[str] = ("walk",),
    cache_dir: str | os.PathLike[str] | None = None,
) -> SourceResult:
    """Download theme features and street networks inside ``polygon`` from Overpass via osmnx.

    Answers are cached in ``cache_dir`` (default ``<data>/cache``), so a second build of the
    same area works offline.

    Raises
    ------
    OfflineError
        When Overpass cannot be reached and the answer is not cached.
    """
    import osmnx as ox

    polygon = _check_polygon(polygon)
    specs = _specs(layers)
    mode_list = _modes(modes)
    prov = Provenance(
        source="OpenStreetMap (Overpass via osmnx)",
        license=OSM_LICENSE,
        date=datetime.now(tz=timezone.utc).date().isoformat(),
        coverage="complete",
        attribution=OSM_ATTRIBUTION,
        url="https://overpass-api.de/",
    )
    result = SourceResult(name="OSM Overpass")
    keys = _rule_keys(specs)
    with _OsmnxSettings(cache_dir):
        if specs:
            tags = _merged_tags(specs)
            raw = _online(
                lambda: _osmnx_features(lambda: ox.features_from_polygon(polygon, tags), keys),
                "features",
            )
            _split_layers(raw, specs, prov, result)
        for mode in mode_list:
            G = _online(
                lambda m=mode: _graph_or_none(
                    lambda: ox.graph_from_polygon(
                        polygon, network_type=m, simplify=True, retain_all=True
                    ),
                    f"{m} network in the polygon",
                ),
                f"the {mode} network",
            )
            if G is not None and len(G.edges):
                result.networks[mode] = network_from_graph(G, mode, prov)
    return result


def osm_places_online(
    polygon: BaseGeometry, *, cache_dir: str | os.PathLike[str] | None = None
) -> gpd.GeoDataFrame:
    """Settlements (``place`` = city, town, village, hamlet) inside ``polygon`` from Overpass.

    Same schema as :func:`osm_places_from_pbf`.
    """
    import osmnx as ox

    polygon = _check_polygon(polygon)
    prov = Provenance(
        source="OpenStreetMap (Overpass via osmnx)",
        license=OSM_LICENSE,
        date=datetime.now(tz=timezone.utc).date().isoformat(),
        coverage="partial",
        attribution=OSM_ATTRIBUTION,
        note="place=city/town/village/hamlet points; population only where tagged",
    )
    with _OsmnxSettings(cache_dir):
        raw = _online(
            lambda: _osmnx_features(
                lambda: ox.features_from_polygon(polygon, _PLACE_TAGS),
                ["place", "population"],
            ),
            "places",
        )
    return _places_frame(raw.drop(columns="geometry"), raw.geometry, raw.crs, prov)
