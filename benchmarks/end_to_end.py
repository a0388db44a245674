"""End to end: build plus score a Blekinge-sized region from local inputs, all themes and modes.

Inputs: the real Blekinge pack, a SYNTHETIC pack of the amenity kinds the real pack lacks, and the
SYNTHETIC Blekinge-sized street network stored as the walk, bike and drive networks. Steps timed
together (one run = all of them, into a fresh temporary store):

1. ``geo.build.build_region`` (both packs, offline) and the snapshot rewritten through
   ``geo.store.write_snapshot`` with the synthetic networks added (what a build from a PBF would
   store in one go; counted, so the figure errs on the slow side);
2. ``geo.scoring.build_model`` (grid, every indicator by its mode along the networks);
3. ``geo.scoring.score`` for the default weights and every persona.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from .fixtures import blekinge_snapshot, pack_path, synthetic_pack, temp_data_dir
from .harness import Row, peak_mb
from .synthetic import synthetic_network

__all__ = ["BLEKINGE_AREA_KM2", "ghsci_minutes", "run", "run_once"]

#: Blekinge county's land area (SCB), km^2: the area GHSCI's published rate is applied to.
BLEKINGE_AREA_KM2 = 2946.0


def ghsci_minutes(area_km2: float) -> float:
    """GHSCI's published processing rate: about ``1 + 1.1 A / 100`` minutes for ``A`` km^2."""
    return 1.0 + 1.1 * area_km2 / 100.0


def run_once(net: Any, extra_pack: Path) -> dict[str, Any]:
    """One full build + model + scoring into a fresh temporary store; returns timings and sizes."""
    from geo.scoring import build_model, score
    from layers import PERSONAS

    data = temp_data_dir()
    try:
        t0 = time.perf_counter()
        snap = blekinge_snapshot(data, net=net, extra_pack=extra_pack)
        t1 = time.perf_counter()
        model = build_model(snap)
        t2 = time.perf_counter()
        outs = [score(model)] + [score(model, persona=p) for p in PERSONAS]
        t3 = time.perf_counter()
        return {"build": t1 - t0, "model": t2 - t1, "score": t3 - t2, "total": t3 - t0,
                "cells": len(model.cells), "localities": len(model.localities),
                "indicators": len(model.indicators), "missing": sorted(model.missing),
                "approximate": model.approximate, "scored": len(outs),
                "ranked": int(outs[0].localities["rank"].notna().sum())}
    finally:
        shutil.rmtree(data, ignore_errors=True)


def run_real_once() -> dict[str, Any]:
    """Build + model + score from the real pack alone (what ``make run`` does offline)."""
    from geo.scoring import build_model, score

    data = temp_data_dir()
    try:
        t0 = time.perf_counter()
        snap = blekinge_snapshot(data)
        model = build_model(snap)
        score(model)
        return {"total": time.perf_counter() - t0, "missing": len(model.missing),
                "indicators": len(model.indicators)}
    finally:
        shutil.rmtree(data, ignore_errors=True)


def run(quick: bool = False) -> list[Row]:
    """Run the end-to-end benchmark (``quick``: tiny network and amenity counts, one run)."""
    if pack_path() is None:
        return [Row("end to end: build + score", "Blekinge pack + synthetic",
                    note="skipped: the Blekinge pack (../shared/data/blekinge) is not here")]
    try:
        import geo.scoring  # noqa: F401
    except ImportError as exc:
        return [Row("end to end: build + score", "Blekinge pack + synthetic",
                    note=f"skipped: geo.scoring not importable ({exc})")]
    scale, runs = (0.02, 1) if quick else (1.0, 3)
    t0 = time.perf_counter()
    net = synthetic_network(scale)
    label = (f"Blekinge pack (real) + synthetic amenities + synthetic network "
             f"{net.n_nodes:,} nodes x3 modes")
    inputs = temp_data_dir()
    try:
        extra = synthetic_pack(inputs / "synthetic_pack", net, scale)
        gen = time.perf_counter() - t0
        res = [run_once(net, extra) for _ in range(runs)]
        peak = None if quick else peak_mb(lambda: run_once(net, extra))
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
    last = res[-1]
    est = ghsci_minutes(BLEKINGE_AREA_KM2)
    total = [r["total"] for r in res]
    rows = [
        Row("end to end: build snapshot", label, [r["build"] for r in res],
            note=f"build_region (real + synthetic pack) + rewrite with walk/bike/drive networks; "
                 f"synthetic network and pack generated once beforehand in {gen:.2f} s "
                 f"(not counted)"),
        Row("end to end: build_model (all themes, modes)", label, [r["model"] for r in res],
            note=f"{last['cells']:,} H3 cells + {last['localities']} localities, "
                 f"{last['indicators']} indicators; missing: {', '.join(last['missing']) or 'none'}"
                 f"; approximate distances: {last['approximate']}"),
        Row(f"end to end: score x{last['scored']} (default + personas)", label,
            [r["score"] for r in res], note=f"{last['ranked']} localities ranked"),
        Row("end to end: TOTAL build + score", label, total, peak_mb=peak,
            target="< 20 s", met=(sorted(total)[len(total) // 2] < 20.0) if not quick else None,
            note=f"GHSCI's published rate for Blekinge's {BLEKINGE_AREA_KM2:,.0f} km2 would be "
                 f"about {est:.0f} min (estimate from the rate, not run here)"),
    ]
    real = [run_real_once() for _ in range(runs)]
    rows.append(Row("end to end: real pack only (no network)", "Blekinge pack (real)",
                    [r["total"] for r in real],
                    note=f"what 'make run' builds offline: straight-line distances x detour "
                         f"(approximate); {real[-1]['missing']} of {real[-1]['indicators']} "
                         f"indicators missing for lack of data"))
    return rows
