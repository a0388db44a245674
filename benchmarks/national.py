"""The national row: all of Sweden (the national pack) built, then scored in one process and by
partitions on LocalClusters of 1, 2 and 4 workers; a scaling model from the per-partition costs.

Every configuration runs in a fresh child process (``python -m benchmarks.national --one CFG``),
round-robin over the runs, so each gets the same machine state and its own peak RSS:

- ``single``: :func:`geo.scoring.build_model` + :func:`geo.scoring.score`, one process;
- ``inproc``: the same by partitions, one after the other in the process (``--workers 0``);
- ``cluster-N``: by partitions on a ``LocalCluster`` of N single-threaded worker processes on
  127.0.0.1 (its start counted in the wall time and also shown apart).

Peak RSS: the driver's ``VmHWM``, each worker's (``client.run``), and the total over the driver
and every process under it (nannies and workers: ``/proc/*/status``), read before the cluster
closes; the build's child reports its own ``VmHWM`` too, not ``getrusage`` maxrss, which Linux
carries over from the parent through fork and exec (after the other suites a child reported the
benchmark process's 2.2 GiB). Partition caches are off (every run computes everything).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .harness import Row

__all__ = ["run"]

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT.parent / "shared" / "data" / "sweden"
#: Configurations of a full run, in the order they are interleaved.
CONFIGS = ("single", "inproc", "cluster-1", "cluster-2", "cluster-4")


def vmhwm_mib(pid: int | str = "self") -> float | None:
    """Peak RSS (VmHWM, MiB) of a process, None when it is gone."""
    try:
        for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1]) / 1024
    except OSError:
        return None
    return None


def worker_peak() -> tuple[int, float | None]:
    """``(pid, VmHWM MiB)`` of the process it runs in (sent to each worker)."""
    return os.getpid(), vmhwm_mib()


def _descendants(root: int) -> list[int]:
    """Every process under ``root`` (from /proc's parent ids)."""
    parent: dict[int, int] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                for ln in (p / "status").read_text().splitlines():
                    if ln.startswith("PPid:"):
                        parent[int(p.name)] = int(ln.split()[1])
                        break
            except OSError:
                continue
    out, todo = [], [root]
    while todo:
        cur = todo.pop()
        kids = [c for c, pp in parent.items() if pp == cur]
        out += kids
        todo += kids
    return out


def _one(cfg: str, data: str, by: str) -> dict[str, Any]:
    """Run configuration ``cfg`` once in this process; its figures as JSON-ready values."""
    from geo.scoring import build_model, score
    from geo.store import open_snapshot

    logging.disable(logging.WARNING)
    t0 = time.perf_counter()
    snap = open_snapshot("sverige", data)
    out: dict[str, Any] = {"cfg": cfg}
    if cfg == "single":
        model = build_model(snap)
        score(model)
        out["wall_s"] = time.perf_counter() - t0
        out["driver_mib"] = vmhwm_mib()
        out["total_mib"] = out["driver_mib"]
        out["cells"], out["localities"] = len(model.cells), len(model.localities)
        return out
    from geo.distributed import build_model_distributed

    if cfg == "inproc":
        model, report = build_model_distributed(snap, by=by, workers=0, use_cache=False)
        score(model)
        out["start_s"] = 0.0
        out["workers_mib"] = {}
    else:
        from distributed import Client, LocalCluster

        n = int(cfg.split("-")[1])
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        out["start_s"] = time.perf_counter() - t0
        try:
            model, report = build_model_distributed(snap, by=by, client=client, use_cache=False)
            score(model)
            out["wall_s"] = time.perf_counter() - t0
            out["workers_mib"] = {str(pid): mib for pid, mib in client.run(worker_peak).values()}
            kids = _descendants(os.getpid())
            out["total_mib"] = (vmhwm_mib() or 0) + sum(vmhwm_mib(k) or 0 for k in kids)
            out["processes"] = 1 + len(kids)
        finally:
            client.close()
            cluster.close()
    out.setdefault("wall_s", time.perf_counter() - t0)
    out["driver_mib"] = vmhwm_mib()
    out.setdefault("total_mib", out["driver_mib"])
    out["partitions"] = [{"name": r.name, "s": r.seconds, "cells": len(r.h3),
                          "features": r.features, "peak_mib": r.peak_rss_mb}
                         for r in report.results if r is not None]
    out["run_s"] = report.seconds
    out["cells"], out["localities"] = len(model.cells), len(model.localities)
    return out


def _child(cfg: str, data: str, by: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.national", "--one", cfg, "--data",
                           data, "--by", by], capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=1800, check=False)
    if proc.returncode != 0:
        return {"cfg": cfg, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _build(data: str) -> dict[str, Any]:
    """``livability build --region sverige`` in a child: wall time, peak RSS, counts (``info``)."""
    cmd = [sys.executable, "-c",
           "import sys, time; t = time.perf_counter(); from geo.cli import main; "
           "rc = main(sys.argv[1:]); from benchmarks.national import vmhwm_mib; "
           "print('BENCH', time.perf_counter() - t, vmhwm_mib() or float('nan'), rc)",
           "--data-dir", data, "build", "--region", "sverige", "--pack", str(PACK),
           "--no-default-packs", "--offline"]
    line, error = _bench_line(cmd)
    if line is None:
        return {"error": error}
    _, wall, rss, rc = line.split()
    return {"wall_s": float(wall), "peak_mib": float(rss), "rc": int(rc)}


def _model(results: dict[str, list[dict[str, Any]]]) -> str:
    """The scaling model from the partitioned runs' per-partition costs (see README)."""
    parts = [p for runs in results.values() for r in runs for p in r.get("partitions", [])]
    if not parts:
        return "no partitioned run: no scaling model"
    by_name: dict[str, list[float]] = {}
    for p in parts:
        by_name.setdefault(p["name"], []).append(p["s"])
    med = {k: statistics.median(v) for k, v in by_name.items()}
    work, longest = sum(med.values()), max(med.values())
    single = [r["wall_s"] for r in results.get("single", []) if "wall_s" in r]
    inproc = [r for r in results.get("inproc", []) if "wall_s" in r]
    fixed = (statistics.median([r["wall_s"] - r["run_s"] for r in inproc]) if inproc else 0.0)
    starts = {c: statistics.median([r["start_s"] for r in runs if "start_s" in r])
              for c, runs in results.items() if c.startswith("cluster") and runs}
    peak = max(p["peak_mib"] for p in parts)
    pred = ", ".join(f"{n} workers ~{fixed + max(work / n, longest):.1f} s + cluster start"
                     for n in (8, 16, 32))
    return (f"scaling model: {len(med)} partitions, summed partition work {work:.1f} s (median "
            f"per partition {statistics.median(med.values()):.2f} s, longest {longest:.2f} s), "
            f"plan+merge in the driver {fixed:.1f} s; wall(N) ~ plan+merge + max(work/N, "
            f"longest) + cluster start ({', '.join(f'{c}: {s:.1f} s' for c, s in starts.items())}); "
            f"{pred}. One process: "
            f"{f'{statistics.median(single):.1f} s' if single else 'not run (--quick)'}. "
            "A worker peaks at "
            f"{peak:.0f} MiB without networks. " + _network_note())


def _network_note() -> str:
    """What street networks would need (an ESTIMATE from the buffers and the measured 24 GiB at
    ~16.5M nodes; the networks themselves are not in the offline pack)."""
    from geo.partition import buffer_m
    from layers import all_indicators

    nets = {"walk": None, "drive": 120.0}
    walk = max(buffer_m(i, networks=nets) for i in all_indicators() if i.mode != "car"
               and i.measure != "stat")
    car = max(buffer_m(i, networks=nets) for i in all_indicators() if i.mode == "car")
    kib_per_node = 24 * 1024 * 1024 / 16.5e6
    return (f"Street networks (ESTIMATE; not in the offline pack): one process reached 24 GiB at "
            f"~16.5M nodes (~{kib_per_node:.1f} KiB per node) and Sweden's walk network is 30-40M "
            f"nodes, so a national run with networks must be partitioned. With networks the "
            f"buffers grow (lengths, not detour factors): walk/bike {walk / 1000:.0f} km, car "
            f"{car / 1000:.0f} km at 120 km/h roads (services.hospital), i.e. the drive network "
            "stays whole in every partition while the walk network is cut per county plus "
            f"{walk / 1000:.0f} km; a county holding 10-25 % of the walk nodes (3-10M) needs "
            f"~{3e6 * kib_per_node / 1024**2:.0f}-{10e6 * kib_per_node / 1024**2:.0f} GiB per "
            "worker, so a 24 GiB machine runs 1-4 such workers and 21 counties need ~6-21 worker "
            "slots for one wave. Pre-split the national .osm.pbf per partition (its polygon plus "
            "the buffer) with osmium-tool (osmium extract --polygon) or pyosmium once, since "
            "pyrosm reads the whole file for every region; per-partition graph build and "
            "searches are taken as linear in nodes (benchmarks/scaling.py fits the exponents on "
            "the synthetic 20k-1.5M-node networks and Helsinki's 5.6k real nodes; not rerun "
            "here).")


_DASK_BUILD = """
import json, os, sys, time
t = time.perf_counter()
from distributed import Client, LocalCluster
from benchmarks.national import vmhwm_mib, worker_peak
from geo.distributed import build_region_distributed
from geo.regions import resolve_region
from geo.sources.registry import BuildOptions
n, data, pack = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                       dashboard_address=None, silence_logs=40)
client = Client(cluster)
opts = BuildOptions(packs=(pack,), offline=True, data=data, default_packs=False)
build_region_distributed(resolve_region("sverige", offline=True), opts, client=client, local=True)
wall = time.perf_counter() - t
workers = [m for _, m in client.run(worker_peak).values()]
client.close(); cluster.close()
driver = vmhwm_mib() or float('nan')
print("BENCH " + json.dumps({"wall_s": wall, "driver_mib": driver, "workers_mib": workers,
                             "total_mib": driver + sum(w or 0 for w in workers)}))
"""



def _bench_line(cmd: list[str]) -> tuple[str | None, str]:
    """Run ``cmd`` (a child Python) from the project root; its ``BENCH ...`` line, else None
    and the last line of its stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT),
                          timeout=1800, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")), None)
    return line, (proc.stderr.strip().splitlines() or ["?"])[-1]

def _build_dask(data: str, n: int) -> dict[str, Any]:
    """The same build with its read and write stages on an ``n``-worker LocalCluster
    (:func:`geo.distributed.build_region_distributed`), in a child: wall time including the
    cluster's start, peak RSS of the driver and of each worker (VmHWM), and their sum."""
    cmd = [sys.executable, "-c", _DASK_BUILD, str(n), data, str(PACK)]
    line, error = _bench_line(cmd)
    if line is None:
        return {"error": error}
    return dict(json.loads(line[6:]))


def _build_rows(data: str, runs: int) -> list[Row]:
    """The build on a 1- and a 2-worker LocalCluster, ``runs`` times each (medians)."""
    rows = []
    for n in (1, 2):
        res = [_build_dask(data, n) for _ in range(runs)]
        ok = [r for r in res if "wall_s" in r]
        if not ok:
            rows.append(Row(f"national build, {n}-worker LocalCluster", "Sweden pack",
                            note=f"failed: {res[0].get('error')}"))
            continue
        total = statistics.median(r["total_mib"] for r in ok)
        driver = statistics.median(r["driver_mib"] for r in ok)
        rows.append(Row(
            f"national build, {n}-worker LocalCluster", "Sweden pack (real, offline)",
            times=[r["wall_s"] for r in ok],
            note=(f"build --workers {n}: pack files read as tasks, parts written by county as "
                  f"tasks; wall incl. cluster start; peak RSS driver {driver:.0f} MiB + workers "
                  f"= {total:.0f} MiB"),
            extra={"peak_rss_mib": total, "driver_mib": driver}, peak_rss_mb=total))
    return rows


def run(quick: bool = False, runs: int = 2, by: str = "county") -> list[Row]:
    """The national rows (``quick``: the build and one partitioned in-process run only)."""
    if not (PACK / "pack.json").is_file():
        return [Row("national", "-", note=f"skipped: no Sweden pack at {PACK}")]
    with tempfile.TemporaryDirectory(prefix="bench-national-") as data:
        b = _build(data)
        data_desc = "Sweden pack (real, offline)"
        rows = [Row("national build (one process)", data_desc,
                    times=[b["wall_s"]] if "wall_s" in b else [],
                    note=(f"livability build --region sverige --offline; peak RSS "
                          f"{b['peak_mib']:.0f} MiB; no --workers (README)" if "wall_s" in b
                          else f"failed: {b.get('error')}"),
                    extra={"peak_rss_mib": b.get("peak_mib")}, peak_rss_mb=b.get("peak_mib"))]
        if "wall_s" not in b:
            return rows
        if importlib.util.find_spec("distributed") is not None:
            rows += _build_rows(data, 1 if quick else runs)
        configs = ("inproc",) if quick else CONFIGS
        results: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
        for k in range(1 if quick else runs):
            order = configs[k % len(configs):] + configs[:k % len(configs)]
            for cfg in order:
                results[cfg].append(_child(cfg, data, by))
        for cfg in configs:
            ok = [r for r in results[cfg] if "wall_s" in r]
            if not ok:
                rows.append(Row(f"national model {cfg}", data_desc,
                                note=f"failed: {results[cfg][0].get('error')}"))
                continue
            workers = [m for r in ok for m in r.get("workers_mib", {}).values() if m]
            parts = len(ok[0].get("partitions", [])) or 1
            note = (f"{ok[0]['cells']:,} cells, {ok[0]['localities']:,} localities; "
                    f"partitions {parts} (by {by})" if cfg != "single" else
                    f"{ok[0]['cells']:,} cells, {ok[0]['localities']:,} localities; build_model "
                    "+ score")
            note += f"; peak RSS driver {statistics.median(r['driver_mib'] for r in ok):.0f} MiB"
            if workers:
                note += (f", per worker {min(workers):.0f}-{max(workers):.0f} MiB, total "
                         f"{statistics.median(r['total_mib'] for r in ok):.0f} MiB over "
                         f"{ok[0].get('processes', 1)} processes; cluster start "
                         f"{statistics.median(r['start_s'] for r in ok):.1f} s")
            rows.append(Row(f"national model {cfg}", data_desc, times=[r["wall_s"] for r in ok],
                            note=note, extra={"runs": ok},
                            peak_rss_mb=statistics.median(r["total_mib"] for r in ok)))
        rows.append(Row("national scaling model", data_desc, note=_model(results)))
        return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", choices=CONFIGS)
    ap.add_argument("--data")
    ap.add_argument("--by", default="county")
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(_one(a.one, a.data, a.by)))
    else:
        from .harness import format_table

        print(format_table(run(runs=a.runs, by=a.by)))
