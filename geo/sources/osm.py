"""OpenStreetMap source: theme features and street networks from a PBF file, an OSM XML file or Overpass.

Three twins give the same schema (:data:`geo.schema.FEATURE_COLUMNS`, uids ``osm:<type>/<id>``,
kinds from the layer specs):

- :func:`osm_from_pbf` reads a PBF extract with pyrosm (offline, fast, whole counties),
- :func:`osm_from_xml` reads an ``.osm`` XML file with osmnx (offline, small areas),
- :func:`osm_online` asks Overpass through osmnx (cached on disk in ``<data>/cache``).

Each reads every layer's tags in one pass, then hands every feature to the layers whose
:meth:`layers.LayerSpec.kind_for_tags` gives it a kind. Networks are plain node/edge frames
(:class:`geo.sources.base.NetworkData`); walk and bike networks store both directions of every edge.
Tag handling lives in :mod:`geo.sources.osm_tags`, network frames in :mod:`geo.sources.osm_network`.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import requests
import shapely
from shapely.geometry.base import BaseGeometry

from layers.vocab import NetworkMode

from ..errors import DataSourceError, OfflineError
from ..schema import Provenance
from ..settings import OSM_ATTRIBUTION, OSM_LICENSE
from ..settings import cache_dir as default_cache
from .base import SourceResult
from .osm_network import _finish_network, _pyrosm_directed, _xml_graph, network_from_graph
from .osm_tags import (
    _PLACE_TAGS,
    MODES,
    PLACE_VALUES,
    _clip,
    _merged_tags,
    _modes,
    _places_frame,
    _raw_from_osmnx,
    _raw_from_pyrosm,
    _rule_keys,
    _specs,
    _split_layers,
)
from .osmnx_errors import insufficient_response_error, response_status_code_error
from .pbf_header import replication_timestamp

__all__ = [
    "MODES",
    "OVERPASS_TIMEOUT_S",
    "PLACE_VALUES",
    "network_from_graph",
    "osm_from_pbf",
    "osm_from_xml",
    "osm_online",
    "osm_places_from_pbf",
    "osm_places_online",
]

log = logging.getLogger(__name__)

_PYROSM_NETWORK = {"walk": "walking", "bike": "cycling", "drive": "driving"}
_OVERPASS_HOST = "overpass-api.de"
#: Overpass server-side and HTTP timeout (seconds) for the queries this module sends.
OVERPASS_TIMEOUT_S = 300
_OFFLINE_HINT = "no network: use --offline with --pbf/--pack, or try again online"


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
        # complete_relations: a relation crossing the polygon's edge (a nature reserve on the
        # county border) gets its whole geometry, not only the member ways inside
        return pyrosm.OSM(
            str(p),
            bounding_box=polygon,
            complete_relations=polygon is not None,
            progress=False,
            **kw,
        )
    except PBFException as e:
        raise _bad_pbf(p, str(e).splitlines()[0] if str(e) else type(e).__name__) from e


def _pbf_date(path: Path, timestamps: Iterable[pd.Series]) -> str:
    """Replication time from the PBF header, else the newest element edit seen (ISO date)."""
    try:
        ts = replication_timestamp(path)
        if ts > 0:
            return datetime.fromtimestamp(ts, tz=timezone.utc).date().isoformat()
    except Exception as e:  # a private pyrosm helper (see pbf_header): fall back to element times
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



def _xml_date(path: Path) -> str:
    """Newest ``timestamp`` attribute of the file's elements (ISO date), else the file's mtime."""
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
    try:
        gdf = fetch()
    except insufficient_response_error() as e:
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
    try:
        with socket.create_connection((_OVERPASS_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


class _OsmnxSettings:
    """Temporarily set osmnx settings: cache on, cache folder, timeout, no rate-limit pause offline."""

    def __init__(self, cache_dir: str | os.PathLike[str] | None) -> None:

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
    try:
        return call()
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
        raise OfflineError(f"cannot reach Overpass for {what} ({type(e).__name__}); "
                           f"{_OFFLINE_HINT}") from e
    except response_status_code_error() as e:
        first = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise OfflineError(f"Overpass answered {what} with an error ({first}); try again later, "
                           "or use --offline with --pbf/--pack") from e


def _graph_or_none(call: Any, what: str) -> Any:
    """Run an osmnx graph builder; None when the area holds no such ways."""
    try:
        return call()
    except insufficient_response_error() as e:
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
                    # our public way filter (the one the XML reader applies); network_type
                    # only decides which networks osmnx keeps bidirectional (walk)
                    lambda: ox.graph_from_polygon(
                        polygon, network_type=m, custom_filter=NetworkMode(m).osm_filter,
                        simplify=True, retain_all=True,
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
