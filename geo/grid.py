"""The hexagon grid: H3 cells where people live in a region, with population weights.

Cells come from two places:

1. every locality's footprint (see :mod:`geo.footprints`): its tätort outline when the build
   matched one, else a disc of its area ``area_ha`` around its point. The cells whose centres fall
   inside it, plus the cell holding the locality's point; an outline part too small to hold any
   cell centre gives the cells it touches;
2. residential land and residential buildings from the ``housing`` layer, when it has them: the
   cells they fall in (polygons are filled, points and small polygons give their cell).

Each cell belongs to at most one locality: one whose footprint holds the cell's centre before one
that only holds its point or touches it, then the one whose point is nearest. Housing cells outside
every footprint but within :data:`ATTACH_M` of one join that locality; the rest are kept as rural
cells (``locality`` empty, weight 0 in locality roll-ups).

Municipality of a cell: its locality's (a locality is one place in one municipality: SCB's code,
or the one the build assigned it by the island-keeping polygons); a cell outside every locality (a
rural housing cell), or of a locality without a municipality, takes the municipality polygon holding
its centre (the snapshot's, which keep the coastal islands when the build had a pack's municipality
boundaries), else the nearest locality's. Generalised polygons are not trusted inside a locality:
the pack's put 8 cells of Pukavik (Sölvesborg) more than 1 km into Karlshamn.

Population weight: a locality's population is spread over its cells in proportion to the number of
housing features in each cell where the locality has any, otherwise evenly. Whole municipalities are
never covered: only cells near where people live are scored.

Cells are uint64 H3 indexes (h3's integer API) inside the build and become h3's strings once, at
the end. h3 4.x has no array form of ``latlng_to_cell`` / ``cell_to_latlng``: points and centres go
through one C call each on plain floats (no geometry object, string or tuple made per point);
polygon fills are h3's; housing features are split by geometry type with shapely's array
functions; joins (claims, attachment, municipalities, weights) are numpy / pandas / STRtree passes.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import h3
import h3.api.basic_int as h3i
import h3.api.numpy_int as h3n
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from layers import residential_layer

from .errors import LimitError
from .footprints import disc_footprints
from .network import project_lonlat
from .settings import H3_RESOLUTIONS, STORE_CRS, WORK_CRS

__all__ = ["ATTACH_M", "GRID_COLUMNS", "build_grid", "cell_polygons", "check_resolution",
           "footprint_cells", "home_kinds"]

log = logging.getLogger(__name__)

#: Housing cells this close to a locality's footprint join that locality.
ATTACH_M = 1000.0
#: Columns of :func:`build_grid`'s frame.
GRID_COLUMNS = ("h3", "locality", "municipality", "weight", "n_housing", "lon", "lat", "x", "y")
#: How a locality claims a cell, strongest first (see :func:`footprint_cells`).
_INSIDE, _POINT, _TOUCH = 0, 1, 2


def _ring(ring: BaseGeometry) -> list[list[float]]:
    """A shapely ring's ``[lat, lon]`` pairs, as h3's shapes take them."""
    return shapely.get_coordinates(ring)[:, ::-1].tolist()  # type: ignore[no-any-return]


def _fill_ids(poly: Polygon, res: int) -> np.ndarray:
    """H3 cells (uint64, h3's order) whose centres fall in a lon/lat polygon."""
    shape = h3n.LatLngPoly(_ring(poly.exterior), *(_ring(r) for r in poly.interiors))
    return np.asarray(h3n.polygon_to_cells(shape, res), dtype=np.uint64)


def _fill(poly: Polygon, res: int) -> list[str]:
    """H3 cells whose centres fall in a lon/lat polygon."""
    return _to_str(_fill_ids(poly, res))


def _touching_ids(poly: Polygon, res: int) -> np.ndarray:
    """H3 cells (uint64) a lon/lat polygon overlaps (for parts too small to hold a cell centre)."""
    try:
        return np.asarray(h3n.h3shape_to_cells_experimental(h3n.geo_to_h3shape(poly), res,
                                                            "overlap"), dtype=np.uint64)
    except (AttributeError, TypeError, ValueError, h3.H3BaseException):  # experimental API moved
        ids = {h3i.latlng_to_cell(lat, lon, res) for lon, lat in poly.exterior.coords}
        return np.fromiter(ids, dtype=np.uint64, count=len(ids))


def _point_ids(lon: np.ndarray, lat: np.ndarray, res: int) -> np.ndarray:
    """H3 cells (uint64) of points given as lon/lat arrays.

    h3 4.x has no array form of ``latlng_to_cell``; this is one C call per point on plain floats
    (about 0.7 us each), with no geometry objects or strings made per point.
    """
    cell = h3i.latlng_to_cell
    out = [cell(la, lo, res) for la, lo in zip(np.asarray(lat, float).tolist(),
                                               np.asarray(lon, float).tolist())]
    return np.asarray(out, dtype=np.uint64).reshape(-1)


def _centres(ids: np.ndarray) -> np.ndarray:
    """``(n, 2)`` lat/lon centres of uint64 H3 cells (h3's ``cell_to_latlng``, one C call each)."""
    centre = h3i.cell_to_latlng
    return np.array([centre(c) for c in ids.tolist()], dtype=float).reshape(-1, 2)


def _to_str(ids: np.ndarray) -> list[str]:
    """H3 string ids (as h3's string API writes them) of uint64 cells."""
    return [h3i.int_to_str(c) for c in np.asarray(ids, dtype=np.uint64).tolist()]


def _geom_cell_ids(geoms: np.ndarray, res: int) -> np.ndarray:
    """Cells (uint64) covering each lon/lat geometry, concatenated in feature and part order.

    A geometry gives the cells whose centres fall in its polygon parts (each part's cells, in
    h3's order); one with none (a point, a line, a polygon smaller than a cell) gives its
    representative point's cell. Only polygon parts are visited one by one; points go through
    :func:`_point_ids` in one pass.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return np.empty(0, dtype=np.uint64)
    multi = np.flatnonzero(shapely.get_type_id(geoms) != shapely.GeometryType.POINT)
    parts, owner = shapely.get_parts(geoms[multi], return_index=True)
    is_poly = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    chunks: list[np.ndarray] = []
    whose: list[np.ndarray] = []
    for part, i in zip(parts[is_poly], multi[owner[is_poly]]):
        ids = _fill_ids(part, res)
        if len(ids):
            chunks.append(ids)
            whose.append(np.full(len(ids), i, dtype=np.int64))
    filled = np.zeros(len(geoms), dtype=bool)
    if whose:
        filled[np.concatenate(whose)] = True
    rest = np.flatnonzero(~filled)
    if len(rest):
        pts = geoms[rest]
        other = shapely.get_type_id(pts) != shapely.GeometryType.POINT
        pts[other] = shapely.point_on_surface(pts[other])
        chunks.append(_point_ids(shapely.get_x(pts), shapely.get_y(pts), res))
        whose.append(rest.astype(np.int64))
    cells, idx = np.concatenate(chunks), np.concatenate(whose)
    return cells[np.argsort(idx, kind="stable")]


def _geom_cells(geom: object, res: int) -> list[str]:
    """Cells covering a lon/lat geometry (its representative point's cell at the least)."""
    return _to_str(_geom_cell_ids(np.array([geom], dtype=object), res))


def footprint_cells(footprint: BaseGeometry, point: BaseGeometry, res: int, *,
                    touch: bool = True) -> dict[str, int]:
    """Cells of one locality: ``{h3: how}`` with how 0 (centre inside), 1 (its point), 2 (touched).

    Parameters
    ----------
    footprint
        The locality's (multi)polygon, EPSG:4326.
    point
        The locality's point, EPSG:4326: its cell always belongs to the locality.
    res
        H3 resolution.
    touch
        A polygon part holding no cell centre adds the cells it overlaps (a tiny outline part,
        an islet); False for the fallback discs, which keep just the point's cell.
    """
    ids, how = _claim_sequence(footprint, point, res, touch=touch)
    out: dict[str, int] = {}
    for c, h in zip(_to_str(ids), how.tolist()):
        if h == _INSIDE:
            out[c] = _INSIDE
        else:
            out.setdefault(c, h)
    return out


def _claim_sequence(footprint: BaseGeometry, point: BaseGeometry | None, res: int, *,
                    touch: bool) -> tuple[np.ndarray, np.ndarray]:
    """One locality's claims in the order :func:`footprint_cells` makes them: uint64 cells and
    how (repeats kept; a cell's claim is ``_INSIDE`` if any says so, else its first one)."""
    ids: list[np.ndarray] = []
    hows: list[np.ndarray] = []
    for part in getattr(footprint, "geoms", [footprint]):
        if not isinstance(part, Polygon) or part.is_empty:
            continue
        inside = _fill_ids(part, res)
        if len(inside):
            ids.append(inside)
            hows.append(np.full(len(inside), _INSIDE, dtype=np.int8))
        elif touch:
            touched = _touching_ids(part, res)
            ids.append(touched)
            hows.append(np.full(len(touched), _TOUCH, dtype=np.int8))
    if point is not None and not point.is_empty:
        ids.append(np.array([h3i.latlng_to_cell(point.y, point.x, res)], dtype=np.uint64))
        hows.append(np.array([_POINT], dtype=np.int8))
    if not ids:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int8)
    return np.concatenate(ids), np.concatenate(hows)


def _claims(geoms: list[BaseGeometry], points: gpd.GeoSeries, outline: np.ndarray,
            res: int) -> pd.DataFrame:
    """Every locality's cells: ``h3`` (uint64), ``li`` (locality row), ``how``, one row per
    (locality, cell) in :func:`footprint_cells`'s order, localities in row order."""
    ids: list[np.ndarray] = []
    hows: list[np.ndarray] = []
    lis: list[np.ndarray] = []
    for i, (fp, pt) in enumerate(zip(geoms, points)):
        c, h = _claim_sequence(fp, pt, res, touch=bool(outline[i]))
        ids.append(c)
        hows.append(h)
        lis.append(np.full(len(c), i, dtype=np.int64))
    seq = pd.DataFrame({
        "h3": np.concatenate(ids) if ids else np.empty(0, dtype=np.uint64),
        "li": np.concatenate(lis) if lis else np.empty(0, dtype=np.int64),
        "how": np.concatenate(hows) if hows else np.empty(0, dtype=np.int8),
    })
    # per (locality, cell): inside if any claim says so, else the first claim (a touched part
    # comes before the point's cell, so that is the largest code); first-claim order kept
    g = seq.groupby(["li", "h3"], sort=False)["how"].agg(["min", "max"])
    how = np.where(g["min"].to_numpy() == _INSIDE, _INSIDE, g["max"].to_numpy())
    return pd.DataFrame({"h3": g.index.get_level_values("h3").to_numpy(dtype=np.uint64),
                         "li": g.index.get_level_values("li").to_numpy(dtype=np.int64),
                         "how": how.astype(np.int64)})


def check_resolution(resolution: object) -> int:
    """Return ``resolution`` as an int when it is in :data:`~geo.settings.H3_RESOLUTIONS`.

    Raises
    ------
    LimitError
        For anything else (``-1``, ``0``, ``15``, ``9.5``, ``"nine"``), naming the allowed range.
    """
    lo, hi = H3_RESOLUTIONS[0], H3_RESOLUTIONS[-1]
    value = (int(resolution) if isinstance(resolution, (int, np.integer))
             and not isinstance(resolution, bool) else None)
    if value is None or value not in H3_RESOLUTIONS:
        raise LimitError(
            f"H3 resolution {resolution!r} is outside {lo}-{hi}; use {lo} (coarse) to {hi} (fine), "
            "9 is the default (about 0.1 km2 per cell)"
        )
    return value


def _footprints_for(loc: gpd.GeoDataFrame,
                    footprints: gpd.GeoDataFrame | None) -> tuple[list[BaseGeometry], np.ndarray]:
    """Each locality's footprint (EPSG:4326) and whether it is an outline (else a disc)."""
    discs = disc_footprints(loc)
    geoms = list(discs.values)
    outline = np.zeros(len(loc), dtype=bool)
    if footprints is not None and len(footprints) and "code" in footprints:
        fp = footprints.to_crs(STORE_CRS)
        fp = fp[fp.geometry.notna() & ~fp.geometry.is_empty]
        by_code = dict(zip(fp["code"].astype(str), range(len(fp))))
        srcs = fp["footprint_source"].astype(str).to_numpy() if "footprint_source" in fp else \
            np.array(["outline"] * len(fp))
        for i, code in enumerate(loc["code"].astype(str)):
            j = by_code.get(code)
            if j is not None:
                geoms[i] = fp.geometry.iloc[j]
                outline[i] = srcs[j] != "disc"
    return geoms, outline


def _cell_municipalities(lon: np.ndarray, lat: np.ndarray,
                         municipalities: gpd.GeoDataFrame | None) -> np.ndarray:
    """Code of the municipality polygon holding each point (None: none; overlaps: first listed)."""
    out = np.full(len(lon), None, dtype=object)
    if municipalities is None or municipalities.empty or "code" not in municipalities or not len(lon):
        return out
    m = municipalities.to_crs(STORE_CRS).reset_index(drop=True)
    m = m[m.geometry.notna()]
    tree = shapely.STRtree(m.geometry.values)
    pi, mi = tree.query(shapely.points(lon, lat), predicate="within")
    order = np.lexsort((mi, pi))  # per point, the first-listed polygon first
    pi, mi = pi[order], mi[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.array([], dtype=bool)
    codes = m["code"].astype(str).to_numpy()
    out[pi[first]] = codes[mi[first]]
    return out


def _nearest_within(geoms: np.ndarray, points: np.ndarray,
                    max_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """``(point index, geometry index)`` of each point's nearest geometry within ``max_distance``.

    The same pairs as ``STRtree.query_nearest(points, max_distance, all_matches=False)``, in
    about a third of its time: one ``dwithin`` query and one vectorised distance pass; a point
    with several geometries at its least distance (inside two overlapping footprints) is
    answered by ``query_nearest`` itself, so ties go the same way.
    """
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(points, predicate="dwithin", distance=max_distance)
    if not len(pi):
        return pi, gi
    d = shapely.distance(points[pi], geoms[gi])
    order = np.lexsort((d, pi))
    pi, gi, d = pi[order], gi[order], d[order]
    first = np.r_[True, pi[1:] != pi[:-1]]
    tied = np.unique(pi[1:][~first[1:] & (d[1:] == d[:-1])])
    keep = first & ~np.isin(pi, tied)
    pi, gi = pi[keep], gi[keep]
    if len(tied):
        ti, tg = tree.query_nearest(points[tied], max_distance=max_distance, all_matches=False)
        pi, gi = np.r_[pi, tied[ti]], np.r_[gi, tg]
        order = np.argsort(pi, kind="stable")
        pi, gi = pi[order], gi[order]
    return pi, gi


def home_kinds() -> tuple[str, ...]:
    """The feature kinds that mark where people live: the residential layer's declared
    ``home_kinds`` (:attr:`layers.spec.LayerSpec.home_kinds`); none without a residential layer."""
    spec = residential_layer()
    return spec.home_kinds if spec is not None else ()


def _housing_counts(housing: gpd.GeoDataFrame | None, resolution: int) -> pd.Series:
    """Housing features per cell (uint64 H3 index; empty without housing data)."""
    if housing is None or housing.empty or "kind" not in housing.columns:
        return pd.Series(dtype=float, index=pd.Index([], dtype=np.uint64))
    hs = housing[housing["kind"].isin(home_kinds())]
    if hs.empty:
        return pd.Series(dtype=float, index=pd.Index([], dtype=np.uint64))
    hs = hs.to_crs(STORE_CRS)
    geoms = hs.geometry.values
    geoms = np.asarray(geoms[~(geoms.isna() | geoms.is_empty)], dtype=object)
    counts = pd.Series(_geom_cell_ids(geoms, resolution)).value_counts().astype(float)
    log.info("%d housing features fall in %d cells", len(hs), len(counts))
    return counts


def build_grid(localities: gpd.GeoDataFrame, *, resolution: int = 9,
               housing: gpd.GeoDataFrame | None = None,
               footprints: gpd.GeoDataFrame | None = None,
               municipalities: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Build the scoring grid.

    Parameters
    ----------
    localities
        Locality points (EPSG:4326) with ``code``, ``municipality``, ``population``, ``area_ha``.
    resolution
        H3 resolution (9: about 0.1 km2 per cell), within :data:`~geo.settings.H3_RESOLUTIONS`.
    housing
        The residential layer, if any; features of :func:`home_kinds` add cells and weights.
    footprints
        The snapshot's ``footprints`` (``code``, ``footprint_source``, polygons; see
        :mod:`geo.footprints`); localities without one get a disc of their area.
    municipalities
        Municipality polygons (``code``) that decide the municipality of a cell outside every
        locality (or of a locality without one) by the cell's centre.

    Returns
    -------
    pandas.DataFrame
        One row per cell (:data:`GRID_COLUMNS`): ``h3``, ``locality`` (code or None),
        ``municipality``, ``weight`` (people), ``n_housing``, ``lon``, ``lat``, ``x``, ``y``
        (metric centre).

    Raises
    ------
    LimitError
        For a resolution outside :data:`~geo.settings.H3_RESOLUTIONS`.
    """
    resolution = check_resolution(resolution)
    if localities.empty:
        return pd.DataFrame(columns=list(GRID_COLUMNS))
    loc = localities.to_crs(STORE_CRS).reset_index(drop=True)
    metric = loc.to_crs(WORK_CRS)
    geoms, outline = _footprints_for(loc, footprints)
    claims = _claims(geoms, loc.geometry, outline, resolution)
    counts = _housing_counts(housing, resolution)

    all_ids = pd.unique(np.concatenate([claims["h3"].to_numpy(dtype=np.uint64),
                                        counts.index.to_numpy(dtype=np.uint64)]))
    all_cells = pd.Index(all_ids)
    latlng = _centres(all_ids)

    xy = project_lonlat(latlng[:, 1], latlng[:, 0])
    centre = metric.geometry
    cx, cy = centre.x.to_numpy(), centre.y.to_numpy()

    # a cell claimed by several localities: centre inside a footprint first, then the nearest point
    cpos = all_cells.get_indexer(claims["h3"])
    d = np.hypot(xy[cpos, 0] - cx[claims["li"]], xy[cpos, 1] - cy[claims["li"]])
    claims = claims.assign(d=d, pos=cpos).sort_values(["how", "d"], kind="stable").drop_duplicates("h3")
    li = np.full(len(all_cells), -1, dtype=np.int64)
    li[claims["pos"].to_numpy()] = claims["li"].to_numpy()

    # housing cells outside every footprint: attach to the nearest one within ATTACH_M
    free = np.flatnonzero(li < 0)
    mi = li.copy()  # whose municipality a cell takes: its locality's, else the nearest one's
    if len(free):
        from scipy.spatial import cKDTree  # here: the app's map page never builds a grid

        _, near = cKDTree(np.column_stack([cx, cy])).query(xy[free])
        mi[free] = near
        fp_metric = gpd.GeoSeries(geoms, crs=STORE_CRS).to_crs(WORK_CRS).values
        fi, ti = _nearest_within(fp_metric, shapely.points(xy[free, 0], xy[free, 1]), ATTACH_M)
        li[free[fi]] = ti

    n_h = counts.reindex(all_cells).fillna(0.0).to_numpy()
    pop = pd.to_numeric(loc.get("population"), errors="coerce").fillna(0.0).to_numpy(dtype=float)
    weight = np.zeros(len(all_cells))
    has = li >= 0
    frame = pd.DataFrame({"li": li[has], "n": n_h[has]})
    tot_n = frame.groupby("li")["n"].transform("sum").to_numpy()
    n_cells = frame.groupby("li")["n"].transform("size").to_numpy()
    share = np.where(tot_n > 0, frame["n"].to_numpy() / np.where(tot_n > 0, tot_n, 1.0),
                     1.0 / n_cells)
    weight[has] = share * pop[li[has]]

    codes = loc["code"].astype(str).to_numpy()
    munis = loc["municipality"].astype(object).to_numpy() if "municipality" in loc else None
    if munis is None:
        cell_mun = _cell_municipalities(latlng[:, 1], latlng[:, 0], municipalities)
    else:
        own = np.where(has, munis[np.maximum(li, 0)], None)  # a locality is in one municipality
        # the polygons decide only where the locality does not (rural cells, no municipality)
        ask = np.flatnonzero(pd.isna(own))
        cell_mun = np.asarray(own, dtype=object)
        cell_mun[ask] = _cell_municipalities(latlng[ask, 1], latlng[ask, 0], municipalities)
        cell_mun = np.where(pd.isna(cell_mun), munis[np.maximum(mi, 0)], cell_mun)
    named = np.asarray(~pd.isna(cell_mun), dtype=bool)
    names = np.full(len(cell_mun), None, dtype=object)
    names[named] = np.asarray(cell_mun, dtype=object)[named].astype(str)
    out = pd.DataFrame({
        "h3": np.array(_to_str(all_ids), dtype=object),
        "locality": np.where(has, codes[np.maximum(li, 0)], None),
        "municipality": names,
        "weight": weight,
        "n_housing": n_h,
        "lon": latlng[:, 1],
        "lat": latlng[:, 0],
        "x": xy[:, 0],
        "y": xy[:, 1],
    })
    log.info("grid at H3 resolution %d: %d cells (%d in %d localities, %d of them on outlines; "
             "%d rural)", resolution, len(out), int(has.sum()), len(loc), int(outline.sum()),
             int((~has).sum()))
    return out


def cell_polygons(h3_ids: pd.Series | list[str]) -> gpd.GeoSeries:
    """Hexagon polygons (EPSG:4326) of H3 cell ids, for maps and exports.

    One ``cell_to_boundary`` C call per cell; the polygons are made in one shapely pass.
    """
    ids = [str(c) for c in h3_ids]
    if not ids:
        return gpd.GeoSeries([], crs=STORE_CRS)
    bounds = [h3.cell_to_boundary(c) for c in ids]
    sizes = np.fromiter(map(len, bounds), dtype=np.int64, count=len(bounds))
    polys = np.empty(len(ids), dtype=object)
    for k in np.unique(sizes):  # 6 vertices, 5 at pentagons, more where a cell crosses a face
        at = np.flatnonzero(sizes == k)
        ring = np.array([bounds[i] for i in at], dtype=float).reshape(len(at), int(k), 2)
        polys[at] = shapely.polygons(np.concatenate([ring, ring[:, :1]], axis=1)[:, :, ::-1])
    return gpd.GeoSeries(polys, crs=STORE_CRS)
