"""OpenStreetMap street networks as node/edge frames (:class:`geo.sources.base.NetworkData`).

pyrosm edge lists and osmnx graphs end up in the same shape: ``node``/``x``/``y`` nodes and
``u``/``v``/``length``/``highway``/``maxspeed`` edges; walk and bike networks hold both directions.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from layers.vocab import NetworkMode, parse_maxspeed

from ..schema import Provenance
from .base import NetworkData

log = logging.getLogger("geo.sources.osm")

_BIDIRECTIONAL = frozenset(n.value for n in NetworkMode if n.bidirectional)
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})


def _first(value: object) -> object:
    if isinstance(value, list | tuple | np.ndarray):
        return value[0] if len(value) else None
    return value


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
    edges["maxspeed"] = [parse_maxspeed(s) for s in edges.get("maxspeed", [None] * len(edges))]
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


_BRACKET = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')


def _way_filter(mode: str) -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    """The Overpass way filter of ``mode`` as ``(key, op, regex)`` predicates.

    The filter is our own public string, :attr:`layers.vocab.NetworkMode.osm_filter` (a copy of
    osmnx 2.1.1's, which osmnx keeps private); tests/test_vocab.py fails when an osmnx upgrade
    changes osmnx's, so the XML reader and the Overpass path (osmnx's ``network_type``) agree.
    """
    return [
        (k, op or None, re.compile(rx) if op else None)
        for k, op, rx in _BRACKET.findall(NetworkMode(mode).osm_filter)
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
