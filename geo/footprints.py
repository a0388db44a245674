"""Locality footprints: the area each locality (tätort) is built up on.

A locality's footprint is its outline from a tätort outline file (the Blekinge pack has
Lantmäteriet's generalised outlines, ``boundaries/tatort_outlines_lantmateriet_2020.geojson``),
joined to the locality's point (SCB's tätort point):

1. by name: casefolded, accents and punctuation folded (``Bräkne-Hoby`` = ``brakne hoby``), the
   outline no farther than :data:`NAME_MATCH_M` from the point (two places of one name are
   different places);
2. failing that, by overlap: the outline holding the point, else the nearest outline within
   :data:`OVERLAP_M`, among the outlines no other locality has taken.

Each outline goes to one locality at most. A locality without an outline gets a disc of its area
(``area_ha``, :data:`DEFAULT_AREA_HA` when unknown) around its point, labelled
``footprint_source = "disc"``; outlines are ``"outline"``.

>>> normalise_name("Bräkne-Hoby"), normalise_name("  SÖLVESBORG ")
('brakne hoby', 'solvesborg')
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .settings import STORE_CRS, WORK_CRS

__all__ = ["DEFAULT_AREA_HA", "FOOTPRINT_COLUMNS", "FOOTPRINT_SOURCES", "NAME_MATCH_M", "OVERLAP_M",
           "FootprintMatch", "disc_footprints", "locality_footprints", "normalise_name"]

log = logging.getLogger(__name__)

#: A locality point this close to an outline (and in none) is matched to it by overlap.
OVERLAP_M = 300.0
#: A name match needs the outline within this distance of the locality's point.
NAME_MATCH_M = 5000.0
#: Area of a locality's disc when its ``area_ha`` is unknown (about two H3 res-9 cells).
DEFAULT_AREA_HA = 20.0
#: ``footprint_source`` values: a matched outline, or the fallback disc.
FOOTPRINT_SOURCES = ("outline", "disc")
#: Columns of the ``footprints`` base table (one row per locality).
FOOTPRINT_COLUMNS = ("code", "name", "footprint_source", "matched_by", "outline_id", "outline_name",
                     "area_ha", "geometry")


def normalise_name(text: object) -> str:
    """Casefolded name without accents and punctuation, for joining outlines to localities."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    t = unicodedata.normalize("NFKD", str(text).casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


@dataclass(frozen=True)
class FootprintMatch:
    """The footprints of a region's localities and how the outlines were joined.

    Attributes
    ----------
    footprints
        One row per locality, in the localities' order: :data:`FOOTPRINT_COLUMNS` (EPSG:4326);
        ``matched_by`` is ``name``, ``overlap`` or None (a disc).
    n_outlines
        Outlines offered (after dissolving parts).
    unmatched_localities
        Names of the localities that got a disc although outlines were offered.
    unmatched_outlines
        Names (else codes) of the outlines no locality took.
    """

    footprints: gpd.GeoDataFrame
    n_outlines: int = 0
    unmatched_localities: list[str] = field(default_factory=list)
    unmatched_outlines: list[str] = field(default_factory=list)

    @property
    def n_matched(self) -> int:
        """Localities whose footprint is an outline."""
        return int((self.footprints["footprint_source"] == "outline").sum())

    def summary(self) -> dict[str, Any]:
        """Counts and names for the snapshot manifest's ``base.footprints`` entry."""
        by = self.footprints["matched_by"].value_counts()
        return {"outlines": self.n_outlines, "matched": self.n_matched,
                "matched_by_name": int(by.get("name", 0)),
                "matched_by_overlap": int(by.get("overlap", 0)),
                "discs": int((self.footprints["footprint_source"] == "disc").sum()),
                "unmatched_localities": list(self.unmatched_localities),
                "unmatched_outlines": list(self.unmatched_outlines)}

    def note(self) -> str:
        """One line for the build's notes ("" when every locality has an outline and vice versa)."""
        if not self.n_outlines or not (self.unmatched_localities or self.unmatched_outlines):
            return ""
        parts = [f"tätort outlines: {self.n_matched} of {len(self.footprints)} localities matched"]
        if self.unmatched_localities:
            parts.append("no outline for " + ", ".join(self.unmatched_localities)
                         + " (a disc of the locality's area is used)")
        if self.unmatched_outlines:
            parts.append("outlines matching no locality: " + ", ".join(self.unmatched_outlines))
        return "; ".join(parts)


def disc_footprints(localities: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Discs of each locality's area (``area_ha``) around its point, EPSG:4326."""
    if localities.empty:
        return gpd.GeoSeries([], crs=STORE_CRS)
    metric = localities.to_crs(WORK_CRS).geometry
    area = pd.to_numeric(localities.get("area_ha"), errors="coerce")
    area = pd.Series(area, index=localities.index).fillna(DEFAULT_AREA_HA).to_numpy(dtype=float)
    radius = np.sqrt(np.maximum(area, 0.0) * 1e4 / np.pi)
    discs = metric.representative_point().buffer(radius, 32)
    return gpd.GeoSeries(discs.values, index=localities.index, crs=WORK_CRS).to_crs(STORE_CRS)


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(parts)


def _match(points: gpd.GeoSeries, outlines: gpd.GeoDataFrame,
           loc_names: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """Outline position per locality (-1: none) and how it was matched (metric inputs).

    Only the (locality, outline) pairs within the larger of :data:`NAME_MATCH_M` and
    :data:`OVERLAP_M` can match, so the distances are computed for those pairs alone (an STRtree
    ``dwithin`` query), not for every pair (the national pack's 2,017 x 1,992 polygon distances
    took 7 s); the pairs keep the row-major order of the full matrix, so the result is the same.
    """
    n = len(points)
    pick = np.full(n, -1, dtype=np.int64)
    how: list[str | None] = [None] * n
    taken: set[int] = set()
    pts = points.to_numpy()
    shapes = outlines.geometry.to_numpy()
    reach = max(NAME_MATCH_M, OVERLAP_M)
    # a little wider than the reach: the exact distances below decide, the query only prunes
    ii, jj = shapely.STRtree(shapes).query(pts, predicate="dwithin", distance=reach * 1.001 + 1.0)
    order = np.lexsort((jj, ii))
    ii, jj = ii[order].astype(np.int64), jj[order].astype(np.int64)
    dist = shapely.distance(pts[ii], shapes[jj])
    onames = outlines["name"].map(normalise_name).to_numpy() if "name" in outlines else \
        np.array([""] * len(outlines))
    lnames = loc_names.map(normalise_name).to_numpy()
    same = (lnames[ii] == onames[jj]) & (lnames[ii] != "")
    # 1. names, nearest first (two outlines or localities of one name: the closest pair wins);
    # 2. overlap: the outline holding the point, else the nearest within OVERLAP_M
    for label, ok in (("name", same & (dist <= NAME_MATCH_M)), ("overlap", dist <= OVERLAP_M)):
        sel = np.flatnonzero(ok)
        for k in sel[np.argsort(dist[sel], kind="stable")]:
            i, j = int(ii[k]), int(jj[k])
            if pick[i] < 0 and j not in taken:
                pick[i], how[i] = j, label
                taken.add(j)
    return pick, how


def locality_footprints(localities: gpd.GeoDataFrame,
                        outlines: gpd.GeoDataFrame | None = None) -> FootprintMatch:
    """Footprint of every locality: its outline when one matches, else a disc of its area.

    Parameters
    ----------
    localities
        Locality points (EPSG:4326) with ``code``, ``name`` and ``area_ha``.
    outlines
        Tätort outlines (one row per tätort: ``name``, ``tatort_id``, polygon geometry), or None.

    Returns
    -------
    FootprintMatch
        The footprints (one per locality, same order) and the join's counts.
    """
    loc = localities.to_crs(STORE_CRS).reset_index(drop=True)
    discs = disc_footprints(loc)
    geoms = list(discs.values)
    src = ["disc"] * len(loc)
    how: list[str | None] = [None] * len(loc)
    oid: list[str | None] = [None] * len(loc)
    oname: list[str | None] = [None] * len(loc)
    n_out, lost_loc, lost_out = 0, [], []
    if outlines is not None and len(outlines) and len(loc):
        out = outlines.to_crs(STORE_CRS).reset_index(drop=True)
        out = out[out.geometry.notna() & ~out.geometry.is_empty].reset_index(drop=True)
        n_out = len(out)
        names = loc["name"] if "name" in loc else pd.Series([""] * len(loc))
        pick, how = _match(loc.to_crs(WORK_CRS).geometry, out.to_crs(WORK_CRS), names)
        for i, j in enumerate(pick):
            if j >= 0:
                geoms[i] = _polygonal(out.geometry.iloc[j])
                src[i] = "outline"
                tid = out["tatort_id"].iloc[j] if "tatort_id" in out else None
                oid[i] = None if pd.isna(tid) else str(tid)
                nm = out["name"].iloc[j] if "name" in out else None
                oname[i] = None if pd.isna(nm) else str(nm)
        lost_loc = [str(names.iloc[i]) for i in np.flatnonzero(pick < 0)]
        used = set(pick[pick >= 0].tolist())
        label = out["name"] if "name" in out else out.get("tatort_id", pd.Series(dtype=object))
        lost_out = [str(label.iloc[j]) for j in range(n_out) if j not in used]
        if lost_loc or lost_out:
            log.warning("tätort outlines: %d of %d localities matched; no outline for %s; outlines "
                        "matching no locality: %s", len(loc) - len(lost_loc), len(loc),
                        ", ".join(lost_loc) or "none", ", ".join(lost_out) or "none")
    fp = gpd.GeoDataFrame({
        "code": loc["code"].astype(str).to_numpy() if len(loc) else [],
        "name": loc["name"].astype("object").to_numpy() if "name" in loc else None,
        "footprint_source": src, "matched_by": how, "outline_id": oid, "outline_name": oname,
    }, geometry=geoms, crs=STORE_CRS)
    fp["area_ha"] = fp.to_crs(WORK_CRS).area.to_numpy() / 1e4 if len(fp) else []
    fp = fp[list(FOOTPRINT_COLUMNS)]
    return FootprintMatch(fp, n_out, lost_loc, lost_out)
