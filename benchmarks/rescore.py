"""Re-scoring for new weights: every cell, locality and municipality, ranks included.

Ours: ``geo.scoring.score(model, weights)`` (matrix products over the precomputed indicator
scores). The alternative, in the same run: the same computation written the obvious pandas way
(long table, ``groupby`` weighted means per theme, composite, roll-up, ranks). Both get the same
random theme weights per run, and the composites are checked to agree.

The model comes from the end-to-end inputs (real Blekinge pack + SYNTHETIC amenities and network).
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

__all__ = ["pandas_score", "random_weights", "run"]


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


def run(quick: bool = False) -> list[Row]:
    """Run the re-scoring benchmark (``quick``: tiny inputs, few runs)."""
    if pack_path() is None:
        return [Row("re-score new weights", "Blekinge pack + synthetic",
                    note="skipped: the Blekinge pack (../shared/data/blekinge) is not here")]
    from geo.scoring import build_model, score

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
    rng = np.random.default_rng(5)
    n_c, n_l = len(model.cells), len(model.localities)
    label = (f"{n_c:,} cells + {n_l} localities + municipalities, {len(model.indicators)} "
             f"indicators (real pack + synthetic amenities/network)")

    # correctness: same weights, same composites
    w = random_weights(model.themes, rng)
    ours = score(model, w)
    alt = pandas_score(model, w)
    d_loc = np.nanmax(np.abs(ours.localities.set_index("code")["composite"].to_numpy()
                             - alt["localities"]["composite"].to_numpy()))
    d_cell = np.nanmax(np.abs(ours.cells["composite"].to_numpy()
                              - alt["cells"]["composite"].to_numpy()))
    same_rank = bool((ours.localities.set_index("code")["rank"].to_numpy()
                      == alt["localities"]["rank"].to_numpy()).all())

    def ours_fn() -> Any:
        return score(model, random_weights(model.themes, rng))

    def alt_fn() -> Any:
        return pandas_score(model, random_weights(model.themes, rng))

    t_ours = measure(ours_fn, runs, warmup=2)
    t_alt = measure(alt_fn, alt_runs, warmup=1)
    med = float(np.median(t_ours))
    ratio = float(np.median(t_alt)) / med
    agree = f"composites agree: max|diff| localities {d_loc:.2g}, cells {d_cell:.2g}; " \
            f"locality ranks {'equal' if same_rank else 'DIFFER'}"
    return [
        Row("re-score new weights: score(model, w)", label, t_ours, peak_mb=peak_mb(ours_fn),
            target="< 20 ms", met=med < 0.020,
            note=f"random theme weights each run; the weight-independent model took "
                 f"{model_s:.1f} s once (a re-score avoids it: {model_s / med:,.0f}x)"),
        Row("re-score: pandas groupby version", label, t_alt, peak_mb=peak_mb(alt_fn),
            ratio=ratio, ratio_vs="pandas/ours", note=agree,
            extra={"max_abs_diff_localities": float(d_loc), "max_abs_diff_cells": float(d_cell),
                   "ranks_equal": same_rank}),
    ]
