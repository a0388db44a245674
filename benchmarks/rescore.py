"""Re-scoring for new weights: every cell, locality and municipality, ranks included.

Ours: ``geo.scoring.score(model, weights)`` (one matrix product over the model's precomputed,
weight-independent blocks; see ``geo.scoring._Kernel``). The alternative, in the same run: the same
computation written the obvious pandas way (long table, ``groupby`` weighted means per theme,
composite, roll-up, ranks). Both get the same random theme weights per run, and the composites
and ranks are checked to agree.

Two kinds of model:

- the end-to-end model (real Blekinge pack + SYNTHETIC amenities and network; its cell count is
  in the row);
- SYNTHETIC models of 2k, 12k, 100k and 500k cells (:func:`synthetic_model`: random indicator
  scores with gaps, statistics constant per municipality, about 230 cells per locality as in
  Blekinge, missing and partial indicators), to show how the cost grows with the cells.

At 500k cells the pandas version is not run (its long table has 13M rows: minutes and GiB); the
agreement there is checked against ``capped_composites`` recomputed from the indicator arrays
(the same formulas with nothing precomputed: a check of the kernel's caching and packing, not an
independent implementation) and the ranks against ``scipy.stats.rankdata``. The < 20 ms target
is for up to 100k cells; the 500k row is reported without a target.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

import numpy as np
import pandas as pd

from .fixtures import blekinge_snapshot, pack_path, synthetic_pack, temp_data_dir
from .harness import Row, measure, peak_mb
from .synthetic import synthetic_network

__all__ = ["SIZES", "dense_check", "pandas_score", "random_weights", "run",
           "synthetic_model"]


def random_weights(themes: list[str], rng: np.random.Generator) -> dict[str, float]:
    """Random theme weights in 0.5 .. 3 (a slider's range)."""
    return {t: float(w) for t, w in zip(themes, rng.uniform(0.5, 3.0, len(themes)), strict=True)}


def _themes_composite(long: pd.DataFrame, key: str, weights: dict[str, float],
                      cap: float) -> pd.DataFrame:
    """Theme scores and composite per ``key`` from a long (key, theme, weight, stat, score) table,
    municipal statistics capped at ``cap`` inside mixed themes and in the composite (as
    :func:`geo.scoring.capped_composites`)."""
    ok = long.dropna(subset=["score"])
    ok = ok.assign(ws=ok["score"] * ok["weight"])
    g = ok.groupby([key, "theme", "stat"], sort=False)[["ws", "weight"]].sum()
    part = (g["ws"] / g["weight"]).rename("mean").to_frame().join(g["weight"]).reset_index()
    wide = part.pivot_table(index=[key, "theme"], columns="stat", values=["mean", "weight"])
    local = wide[("mean", False)] if ("mean", False) in wide else pd.Series(np.nan, wide.index)
    stat = wide[("mean", True)] if ("mean", True) in wide else pd.Series(np.nan, wide.index)
    w_l = (wide[("weight", False)] if ("weight", False) in wide else 0 * local).fillna(0.0)
    w_s = (wide[("weight", True)] if ("weight", True) in wide else 0 * local).fillna(0.0)
    sigma = np.where(w_l > 0, np.minimum(w_s / (w_l + w_s), cap), 1.0)
    sigma = pd.Series(np.where(w_s > 0, sigma, 0.0), index=wide.index)
    theme = ((1 - sigma) * local.fillna(0) + sigma * stat.fillna(0)).rename("theme_score")
    t = pd.DataFrame({"theme_score": theme, "sigma": sigma, "local": local.fillna(0),
                      "stat": stat.fillna(0)}).reset_index()
    t["tw"] = t["theme"].map(weights)
    t["lw"], t["sw"] = t["tw"] * (1 - t["sigma"]), t["tw"] * t["sigma"]
    t["lv"], t["sv"] = t["lw"] * t["local"], t["sw"] * t["stat"]
    c = t.groupby(key, sort=False)[["tw", "lw", "sw", "lv", "sv"]].sum()
    natural = c["sw"] / c["tw"]
    share = np.where((natural > cap) & (c["lw"] > 0), cap, natural)
    lc = c["lv"] / c["lw"].where(c["lw"] > 0, 1.0)
    sc = c["sv"] / c["sw"].where(c["sw"] > 0, 1.0)
    out = t.pivot(index=key, columns="theme", values="theme_score")
    out.columns = [f"theme:{col}" for col in out.columns]
    out["composite"] = (1 - share) * lc + share * sc
    return out


#: Cells of the SYNTHETIC models (``--quick``: the first only).
SIZES = (2_000, 12_000, 100_000, 500_000)
#: Largest SYNTHETIC model the pandas version runs on (beyond: checked against the dense path).
PANDAS_MAX = 100_000


def synthetic_model(n_cells: int, seed: int = 0) -> Any:
    """A SYNTHETIC :class:`geo.scoring.ScoreModel` of ``n_cells`` cells for timing ``score``.

    Every indicator of the registry: distance and count scores uniform in 0-100 with 5 % gaps,
    statistics one value per municipality (10 % without), every ninth indicator missing and every
    fifth partial. One locality per 230 cells (Blekinge: 11.9k cells, 52 localities), a municipality
    per 10 localities, about 20 % of the cells in no locality (countryside) and 20 % unpopulated.
    """
    from geo.access import IndicatorResult
    from geo.scoring import ScoreModel, _rollup, _rollup_matrix
    from layers import LAYERS, all_indicators

    rng = np.random.default_rng(seed)
    inds = all_indicators()
    n_loc = max(4, n_cells // 230)
    n_mun = max(2, n_loc // 10)
    codes = np.array([f"SYN{i:05d}" for i in range(n_loc)], dtype=object)
    mcodes = np.array([f"{9000 + i:04d}" for i in range(n_mun)], dtype=object)
    lmun = np.arange(n_loc) % n_mun
    ptype = rng.choice(["town", "small_town", "village", "archipelago"], n_loc)
    loc_of = rng.integers(-(n_loc // 4) - 1, n_loc, n_cells)
    loc_of[loc_of < 0] = -1
    inside = loc_of >= 0
    mi = np.where(inside, lmun[np.maximum(loc_of, 0)], np.arange(n_cells) % n_mun)
    weight = np.round(rng.gamma(0.6, 20.0, n_cells)) * (rng.random(n_cells) < 0.8)
    h3 = np.array([f"synthetic-{i:09d}" for i in range(n_cells)], dtype=object)
    cells = pd.DataFrame({
        "h3": h3, "locality": np.where(inside, codes[np.maximum(loc_of, 0)], np.array(None)),
        "municipality": mcodes[mi],
        "place_type": np.where(inside, ptype[np.maximum(loc_of, 0)], "countryside"),
        "weight": weight, "lon": 14.5 + 1.5 * rng.random(n_cells),
        "lat": 56.0 + 0.4 * rng.random(n_cells), "x": rng.random(n_cells),
        "y": rng.random(n_cells)}, index=pd.Index(h3))
    cols, results = [], {}
    for k, ind in enumerate(inds):
        if ind.measure == "stat":
            per = np.round(rng.uniform(0, 100, n_mun), 1)
            per[rng.random(n_mun) < 0.1] = np.nan
            col = per[mi]
        else:
            col = np.round(rng.uniform(0, 100, n_cells), 2)
            col[rng.random(n_cells) < 0.05] = np.nan
        missing = k % 9 == 4
        col = np.full(n_cells, np.nan) if missing else col
        cols.append(col)
        results[ind.key] = IndicatorResult(ind.key, ind.measure, ind.mode, missing=missing,
                                           partial=k % 5 == 1, raw=col, score=col)
    cell_arr = np.column_stack(cols)
    rollup = _rollup_matrix(loc_of.astype(np.int64), weight, n_loc)
    loc_arr = _rollup(rollup, cell_arr)
    themes = list(LAYERS)
    keys = [i.key for i in inds]
    pop = np.bincount(loc_of[inside], weights=weight[inside], minlength=n_loc)
    localities = pd.DataFrame({
        "code": codes, "name": [f"SYNTHETIC place {c}" for c in codes],
        "municipality": mcodes[lmun], "municipality_name": [f"SYNTHETIC {m}" for m in mcodes[lmun]],
        "population": pop, "place_type": ptype, "lon": 15.0, "lat": 56.2}, index=pd.Index(codes))
    return ScoreModel(
        region="synthetic", region_name="SYNTHETIC", resolution=9, decay=None, cells=cells,
        localities=localities, indicators=inds, results=results,
        cell_scores=pd.DataFrame(cell_arr, index=cells.index, columns=keys),
        loc_scores=pd.DataFrame(loc_arr, index=localities.index, columns=keys), rollup=rollup,
        themes=themes, ind_theme=np.array([themes.index(i.layer) for i in inds], dtype=np.int64),
        ind_weight=np.array([i.weight for i in inds], dtype=float),
        municipality_names={str(m): f"SYNTHETIC {m}" for m in mcodes},
        loc_missing=[", ".join(k for k, v in zip(keys, r, strict=True) if np.isnan(v))
                     for r in loc_arr])


def dense_check(model: Any, ours: Any, weights: dict[str, float]) -> tuple[float, float, bool]:
    """Max |difference| of the cell and locality composites against ``capped_composites`` on the
    model's indicator arrays (nothing precomputed), and whether the locality ranks equal
    ``scipy.stats.rankdata(-composite, method="min")``."""
    from scipy.stats import rankdata

    from geo.scoring import capped_composites, resolve_weights

    tw = resolve_weights(model.themes, weights)[None, :]
    cell_arr, loc_arr = model.indicator_arrays()
    diffs = []
    for arr, frame in ((cell_arr, ours.cells), (loc_arr, ours.localities)):
        _, comp, _ = capped_composites(arr, model.theme_matrix, tw, stat_mask=model.ind_stat)
        diffs.append(float(np.nanmax(np.abs(comp[:, 0] - frame["composite"].to_numpy()))))
    lc = ours.localities["composite"].to_numpy()
    ok = ~np.isnan(lc)
    same = bool((rankdata(-lc[ok], method="min") == ours.localities["rank"].to_numpy()[ok]).all())
    return diffs[0], diffs[1], same


def pandas_score(model: Any, weights: dict[str, float]) -> dict[str, pd.DataFrame]:
    """The obvious pandas version of ``score``: groupby weighted means, roll-up, ranks."""
    keys = model.ind_keys
    theme_of = {k: model.themes[t] for k, t in zip(keys, model.ind_theme, strict=True)}
    weight_of = dict(zip(keys, model.ind_weight, strict=True))
    stat_of = dict(zip(keys, model.ind_stat, strict=True))
    from geo.scoring import STAT_CAP
    out = {}
    for name, mat, ids in (("cells", model.cell_scores, model.cells["h3"].to_numpy()),
                           ("localities", model.loc_scores, model.localities["code"].to_numpy())):
        wide = pd.DataFrame(mat, columns=keys)
        wide["id"] = ids
        long = wide.melt(id_vars="id", var_name="indicator", value_name="score")
        long["theme"] = long["indicator"].map(theme_of)
        long["weight"] = long["indicator"].map(weight_of)
        long["stat"] = long["indicator"].map(stat_of).astype(bool)
        res = _themes_composite(long, "id", weights, STAT_CAP).reindex(ids)
        res["rank"] = res["composite"].rank(ascending=False, method="min")
        out[name] = res
    loc = out["localities"].join(model.localities.set_index("code")[["municipality",
                                                                     "population"]])
    cols = [c for c in loc.columns if c.startswith("theme:") or c == "composite"]

    def wmean(df: pd.DataFrame) -> pd.Series:
        w = df["population"].to_numpy(dtype=float)
        vals = {}
        for c in cols:
            v = df[c].to_numpy(dtype=float)
            ok = ~np.isnan(v) & (w > 0)
            vals[c] = float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else np.nan
        return pd.Series(vals)

    mun = loc.groupby("municipality")[[*cols, "population"]].apply(wmean)
    mun["rank"] = mun["composite"].rank(ascending=False, method="min")
    out["municipalities"] = mun
    return out


def _agreement(model: Any, weights: dict[str, float], ours: Any) -> tuple[float, float, bool]:
    """Max |difference| of the locality and cell composites against the pandas version, and
    whether the locality ranks are equal."""
    alt = pandas_score(model, weights)
    d_loc = np.nanmax(np.abs(ours.localities.set_index("code")["composite"].to_numpy()
                             - alt["localities"]["composite"].to_numpy()))
    d_cell = np.nanmax(np.abs(ours.cells["composite"].to_numpy()
                              - alt["cells"]["composite"].to_numpy()))
    same_rank = bool((ours.localities.set_index("code")["rank"].to_numpy()
                      == alt["localities"]["rank"].to_numpy()).all())
    return float(d_loc), float(d_cell), same_rank


def _rows(model: Any, label: str, runs: int, alt_runs: int, pandas: bool,
          note: str, target: bool = True) -> list[Row]:
    """Our row (and the pandas row, when ``pandas``) for one model."""
    from geo.scoring import score

    rng = np.random.default_rng(5)
    w = random_weights(model.themes, rng)
    t0 = time.perf_counter()
    ours = score(model, w)  # the first call also builds the model's precomputed kernel
    first_s = time.perf_counter() - t0

    def ours_fn() -> Any:
        return score(model, random_weights(model.themes, rng))

    t_ours = measure(ours_fn, runs, warmup=2)
    med = float(np.median(t_ours))
    head = f"random theme weights each run; first call (builds the kernel) {first_s * 1000:.0f} ms"
    if not pandas:
        d_cell, d_loc, same_rank = dense_check(model, ours, w)
        agree = (f"checked against capped_composites on the raw indicator arrays (pandas version "
                 f"not run at this size): max|diff| localities {d_loc:.2g}, cells {d_cell:.2g}; "
                 f"locality ranks {'equal' if same_rank else 'DIFFER'} (rankdata)")
        return [Row("re-score new weights: score(model, w)", label, t_ours,
                    peak_mb=peak_mb(ours_fn), target="< 20 ms" if target else "",
                    met=med < 0.020 if target else None,
                    note=f"{head}; {note}; {agree}" + ("" if target else
                                                        "; no target at this size (reported)"),
                    extra={"max_abs_diff_localities": d_loc, "max_abs_diff_cells": d_cell,
                           "ranks_equal": same_rank, "agree": bool(max(d_loc, d_cell) < 1e-9)})]
    d_loc, d_cell, same_rank = _agreement(model, w, ours)

    def alt_fn() -> Any:
        return pandas_score(model, random_weights(model.themes, rng))

    t_alt = measure(alt_fn, alt_runs, warmup=1)
    ratio = float(np.median(t_alt)) / med
    agree = f"composites agree: max|diff| localities {d_loc:.2g}, cells {d_cell:.2g}; " \
            f"locality ranks {'equal' if same_rank else 'DIFFER'}"
    return [
        Row("re-score new weights: score(model, w)", label, t_ours, peak_mb=peak_mb(ours_fn),
            target="< 20 ms", met=med < 0.020, note=f"{head}; {note}"),
        Row("re-score: pandas groupby version", label, t_alt, peak_mb=peak_mb(alt_fn),
            ratio=ratio, ratio_vs="pandas/ours", note=agree,
            extra={"max_abs_diff_localities": d_loc, "max_abs_diff_cells": d_cell,
                   "ranks_equal": same_rank, "agree": bool(max(d_loc, d_cell) < 1e-9)}),
    ]


def _end_to_end_rows(quick: bool) -> list[Row]:
    """Rows for the model built from the real pack + SYNTHETIC amenities and network."""
    if pack_path() is None:
        return [Row("re-score new weights", "Blekinge pack + synthetic",
                    note="skipped: the Blekinge pack (../shared/data/blekinge) is not here")]
    from geo.scoring import build_model

    scale, runs, alt_runs = (0.02, 5, 2) if quick else (1.0, 51, 7)
    net = synthetic_network(scale)
    data = temp_data_dir()
    try:
        extra = synthetic_pack(data / "synthetic_pack", net, scale)
        snap = blekinge_snapshot(data, net=net, extra_pack=extra)
        t0 = time.perf_counter()
        model = build_model(snap)
        model_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(data, ignore_errors=True)
    label = (f"{len(model.cells):,} cells + {len(model.localities)} localities + municipalities, "
             f"{len(model.indicators)} indicators (real pack + synthetic amenities/network)")
    return _rows(model, label, runs, alt_runs, True,
                 f"the weight-independent model took {model_s:.1f} s once")


def _synthetic_rows(quick: bool) -> list[Row]:
    """Rows for the SYNTHETIC models of :data:`SIZES` cells."""
    out = []
    for n in SIZES[:1] if quick else SIZES:
        t0 = time.perf_counter()
        model = synthetic_model(n)
        build_s = time.perf_counter() - t0
        label = (f"SYNTHETIC {n:,} cells + {len(model.localities):,} localities + "
                 f"{len(model.municipality_names)} municipalities, {len(model.indicators)} "
                 f"indicators (random scores)")
        runs, alt_runs = (5, 1) if quick else ((51, 5) if n <= 12_000 else (21, 3))
        out += _rows(model, label, runs, alt_runs, n <= PANDAS_MAX,
                     f"SYNTHETIC model made in {build_s:.1f} s", target=n <= 100_000)
        del model
    return out


def run(quick: bool = False) -> list[Row]:
    """Run the re-scoring benchmark (``quick``: tiny inputs, few runs)."""
    return _end_to_end_rows(quick) + _synthetic_rows(quick)
