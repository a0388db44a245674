"""Partitioned and distributed scoring (geo.partition, geo.distributed): the buffer rule, the same
numbers on a 2-worker LocalCluster as in one process (Blekinge, from the real pack), a worker
SIGKILLed mid-run, a partition failing twice reported by name, a rerun of changed partitions
only, a tampered cache recomputed, and the fallback without Dask."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from geo.access import DistanceEngine, compute_indicator, decay_score
from geo.cli import main
from geo.distributed import (
    PartitionCache,
    PartitionsFailedError,
    build_model_distributed,
    have_dask,
    run_partitions,
)
from geo.partition import (
    EPS,
    Partition,
    PartitionResult,
    buffer_m,
    cost_reach,
    plan_partitions,
    score_partition,
)
from geo.scoring import build_model, score
from geo.settings import WORK_CRS
from layers import get_indicator
from layers.vocab import Mode, PlaceType

TOL = 1e-9


# -- the buffer rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["services.hospital", "transit.bus", "nature.green_space"])
def test_cost_reach_is_where_the_decay_falls_below_eps(key: str) -> None:
    ind = get_indicator(key)
    t = ind.threshold_for(PlaceType.COUNTRYSIDE)  # the widest standard
    r = cost_reach(ind)
    assert decay_score(np.array([r]), ind.decay, t)[0] <= EPS
    assert decay_score(np.array([0.99 * r]), ind.decay, t)[0] > EPS


def test_buffer_is_reach_over_detour_without_network() -> None:
    hosp = get_indicator("services.hospital")
    assert buffer_m(hosp) == pytest.approx(cost_reach(hosp) / Mode.CAR.detour)
    jobs = get_indicator("workplaces.jobs_30min")
    # a count: the 30-minute budget at the car's reference speed, exactly
    assert cost_reach(jobs) == pytest.approx(30 * Mode.CAR.speed_kmh * 1000 / 60)
    # a network with 100 km/h roads lets a car go farther per cost metre
    assert buffer_m(jobs, networks={"drive": 100.0}) > 2 * buffer_m(jobs)


def _one_point_score(key: str, amenities: list[tuple[float, float]], kind: str) -> float:
    """``key``'s score at (0, 0) (a countryside point) with amenities at metric ``amenities``."""
    ind = get_indicator(key)
    layer = gpd.GeoDataFrame({"kind": [kind] * len(amenities), "name": ["x"] * len(amenities),
                              "uid": [f"a{i}" for i in range(len(amenities))],
                              "coverage": ["complete"] * len(amenities)},
                             geometry=[Point(500_000 + x, 6_300_000 + y) for x, y in amenities],
                             crs=WORK_CRS)
    engine = DistanceEngine(np.array([[500_000.0, 6_300_000.0]]))
    res = compute_indicator(ind, engine, layer=layer,
                            place_types=np.array([PlaceType.COUNTRYSIDE.value], dtype=object))
    return float(res.score[0])


@pytest.mark.parametrize(("key", "kind"), [("services.hospital", "hospital"),
                                           ("transit.bus", "bus_stop")])
def test_amenity_just_outside_the_buffer_changes_nothing(key: str, kind: str) -> None:
    b = buffer_m(get_indicator(key))
    far = [(3 * b, 0.0)]  # the only amenity so far: far beyond reach
    base = _one_point_score(key, far, kind)
    outside = _one_point_score(key, [*far, (1.001 * b, 0.0)], kind)
    inside = _one_point_score(key, [*far, (0.9 * b, 0.0)], kind)
    assert abs(outside - base) <= EPS
    assert inside - base > EPS  # just inside it can


def test_count_outside_the_budget_counts_nothing() -> None:
    ind = get_indicator("workplaces.jobs_30min")
    b = buffer_m(ind)

    def count(at: float) -> float:
        layer = gpd.GeoDataFrame({"kind": ["office"], "name": ["o"], "uid": ["o1"],
                                  "coverage": ["complete"]},
                                 geometry=[Point(500_000 + at, 6_300_000)], crs=WORK_CRS)
        res = compute_indicator(ind, DistanceEngine(np.array([[500_000.0, 6_300_000.0]])),
                                layer=layer)
        return float(res.raw[0])

    assert count(1.001 * b) == 0
    assert count(0.999 * b) == 1


# -- Blekinge: the plan and one process --------------------------------------------------------------
@pytest.fixture(scope="module")
def snap(blekinge_snapshot: Any) -> Any:
    return blekinge_snapshot


@pytest.fixture(scope="module")
def single(snap: Any) -> Any:
    return build_model(snap)


@pytest.fixture(scope="module")
def plan(snap: Any) -> Any:
    return plan_partitions(snap, by="municipality")


def _assert_same(a: Any, b: Any) -> None:
    """Every cell and locality indicator score, and the composites, within TOL."""
    assert list(a.cells.index) == list(b.cells.index)
    assert list(a.localities.index) == list(b.localities.index)
    for fa, fb in ((a.cell_scores, b.cell_scores), (a.loc_scores, b.loc_scores)):
        x, y = fa.to_numpy(), fb.to_numpy()
        assert np.array_equal(np.isnan(x), np.isnan(y))
        assert np.nanmax(np.abs(x - y)) <= TOL
    sa, sb = score(a), score(b)
    for fa, fb in ((sa.cells, sb.cells), (sa.localities, sb.localities)):
        x, y = fa["composite"].to_numpy(dtype=float), fb["composite"].to_numpy(dtype=float)
        assert np.nanmax(np.abs(x - y)) <= TOL
    assert sa.localities["rank"].equals(sb.localities["rank"])
    assert [r.partial for r in a.results.values()] == [r.partial for r in b.results.values()]
    assert [r.notes for r in a.results.values()] == [r.notes for r in b.results.values()]
    assert a.missing == b.missing
    for key in ("services.hospital", "services.grocery"):  # the named nearest, gap bounds too
        na, nb = a.indicator_values(key)["nearest"], b.indicator_values(key)["nearest"]
        assert na.fillna("-").equals(nb.fillna("-")), key


def test_plan_covers_every_cell_once(plan: Any, snap: Any) -> None:
    h3 = np.concatenate([p.cells["h3"].to_numpy() for p in plan.partitions])
    assert sorted(h3) == sorted(plan.cells["h3"])
    munis = {str(m) for m in snap.municipalities()["code"]}
    assert {m for p in plan.partitions for m in p.municipalities} <= munis | {"__none__"}
    assert len({p.name for p in plan.partitions}) == len(plan.partitions)


def test_partitions_in_one_process_equal_the_model(plan: Any, single: Any) -> None:
    from geo.partition import merge_partitions

    _assert_same(single, merge_partitions(plan, [score_partition(p) for p in plan.partitions]))


def test_without_dask_everything_runs_in_this_process(snap: Any, single: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert not have_dask()
    model, report = build_model_distributed(snap, by="county", workers=2, cache_dir=tmp_path)
    assert report.where == "in-process"
    assert report.computed == [p.name for p in plan_partitions(snap).partitions]
    _assert_same(single, model)


# -- rerun and the cache ----------------------------------------------------------------------------
def test_rerun_computes_only_changed_partitions(plan: Any, tmp_path: Path) -> None:
    cache = PartitionCache("blekinge", tmp_path)
    first = run_partitions(plan.partitions, workers=0, cache=cache)
    assert sorted(first.computed) == sorted(p.name for p in plan.partitions)
    again = run_partitions(plan.partitions, workers=0, cache=cache)
    assert again.computed == [] and len(again.cached) == len(plan.partitions)
    # a stored part read by the fewest partitions changes (its checksum, as a rebuild changes it)
    readers: dict[str, list[str]] = {}
    for p in plan.partitions:
        for f in p.files:
            if f.startswith("layers/"):
                readers.setdefault(f, []).append(p.name)
    part = min(readers, key=lambda f: len(readers[f]))
    assert len(readers[part]) < len(plan.partitions)
    changed = [dataclasses.replace(p, files={**p.files, part: "0" * 64}) if part in p.files else p
               for p in plan.partitions]
    third = run_partitions(changed, workers=0, cache=cache)
    assert sorted(third.computed) == sorted(readers[part])
    assert sorted(third.cached) == sorted(set(third.names) - set(readers[part]))


def test_tampered_cache_is_recomputed(plan: Any, tmp_path: Path) -> None:
    cache = PartitionCache("blekinge", tmp_path)
    tasks = plan.partitions[:2]
    first = run_partitions(tasks, workers=0, cache=cache)
    arrays = cache.folder(tasks[0].name) / "arrays.npz"
    blob = bytearray(arrays.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    arrays.write_bytes(bytes(blob))
    again = run_partitions(tasks, workers=0, cache=cache)
    assert again.computed == [tasks[0].name] and again.cached == [tasks[1].name]
    a, b = first.results[0], again.results[0]
    assert a is not None and b is not None
    for k in a.results:
        np.testing.assert_array_equal(a.results[k].score, b.results[k].score)
    # a consistent rewrite without the key: the checksum matches, the HMAC does not
    import hashlib
    import json

    meta = cache.folder(tasks[1].name) / "meta.json"
    doc = json.loads(meta.read_bytes())
    doc["seconds"] = 0.0
    meta.write_bytes(json.dumps(doc, sort_keys=True).encode())
    seal_path = cache.folder(tasks[1].name) / "seal.json"
    seal = json.loads(seal_path.read_bytes())
    seal["files"]["meta.json"] = hashlib.sha256(meta.read_bytes()).hexdigest()
    seal_path.write_text(json.dumps(seal))
    third = run_partitions(tasks, workers=0, cache=cache)
    assert third.computed == [tasks[1].name]


def _fails_for(bad: str, log: str, task: Partition) -> PartitionResult:
    """Fails for partition ``bad`` (recording each attempt in ``log``), computes the others."""
    if task.name == bad:
        with open(log, "a") as fh:
            fh.write("attempt\n")
        raise ValueError("synthetic failure of this partition")
    return score_partition(task)


def test_failing_partition_reported_by_name_in_process(plan: Any, tmp_path: Path) -> None:
    log = tmp_path / "attempts"
    bad = plan.partitions[0].name
    cache = PartitionCache("blekinge", tmp_path)
    with pytest.raises(PartitionsFailedError) as info:
        run_partitions(plan.partitions, workers=0, cache=cache,
                       fn=functools.partial(_fails_for, bad, str(log)))
    assert list(info.value.failed) == [bad]
    assert bad in str(info.value)
    assert log.read_text().count("attempt") == 2  # tried, retried once
    assert sorted(info.value.report.computed) == sorted(p.name for p in plan.partitions[1:])
    # the others were kept: a rerun computes only the failed one
    again = run_partitions(plan.partitions, workers=0, cache=cache)
    assert again.computed == [bad]


# -- a 2-worker LocalCluster ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client() -> Any:
    if not have_dask():
        pytest.skip("dask.distributed is not installed")
    import cloudpickle
    from distributed import Client, LocalCluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=40)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.mark.slow
def test_two_workers_equal_one_process(snap: Any, single: Any, client: Any,
                                       tmp_path: Path) -> None:
    model, report = build_model_distributed(snap, by="municipality", client=client,
                                            cache_dir=tmp_path)
    assert report.workers == 2 and len(report.computed) == len(report.names)
    _assert_same(single, model)


@pytest.mark.slow
def test_failing_partition_on_the_cluster(plan: Any, client: Any, tmp_path: Path) -> None:
    log = tmp_path / "attempts"
    bad = plan.partitions[-1].name
    with pytest.raises(PartitionsFailedError) as info:
        run_partitions(plan.partitions, client=client,
                       fn=functools.partial(_fails_for, bad, str(log)))
    assert list(info.value.failed) == [bad]
    assert log.read_text().count("attempt") == 2
    assert len(info.value.report.computed) == len(plan.partitions) - 1


@pytest.mark.slow
def test_existing_scheduler_from_the_environment(plan: Any, client: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    address = client.scheduler_info()["address"]
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    report = run_partitions(plan.partitions[:2])
    assert report.where == address and report.workers == 2
    assert sorted(report.computed) == sorted(p.name for p in plan.partitions[:2])


def _slow(task: Partition) -> PartitionResult:
    time.sleep(1.5)
    return score_partition(task)


@pytest.mark.slow
def test_worker_killed_mid_run_job_completes(snap: Any, single: Any, client: Any,
                                             tmp_path: Path) -> None:
    pids = client.run(os.getpid)
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                time.sleep(0.5)  # mid-task
                killed.append(pids[busy[0]])
                os.kill(pids[busy[0]], signal.SIGKILL)
                return
            time.sleep(0.05)

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    t0 = time.monotonic()
    model, report = build_model_distributed(snap, by="municipality", client=client,
                                            cache_dir=tmp_path, fn=_slow)
    th.join(5)
    assert killed, "no worker was busy to kill"
    assert time.monotonic() - t0 < 120
    assert len(report.computed) == len(report.names) and not report.failed
    _assert_same(single, model)
    client.wait_for_workers(2, timeout=30)
    assert killed[0] not in client.run(os.getpid).values()  # the nanny started a new one


# -- the CLI ---------------------------------------------------------------------------------------
def test_cli_partitioned_table_equals_one_process(blekinge_store: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--top", "5",
            "--sensitivity", "0"]
    assert main(args) == 0
    plain = capsys.readouterr().out
    assert main([*args, "--workers", "0", "--partitions", "municipality", "--lang", "en"]) == 0
    out = capsys.readouterr()
    assert out.out == plain
    assert "partitions (in-process, 1 workers)" in out.err


@pytest.mark.slow
def test_cli_scheduler_flag_runs_on_that_cluster(blekinge_store: Path, client: Any,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``--scheduler ADDR`` (not the environment) sends the partitions to that cluster."""
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    address = client.scheduler_info()["address"]
    args = ["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--top", "5",
            "--sensitivity", "0"]
    assert main(args) == 0
    plain = capsys.readouterr().out
    for cached in [d for d in blekinge_store.rglob("partitions") if d.is_dir()]:
        shutil.rmtree(cached)  # an earlier test's partitions: this run must compute them
    before = sum(len(v) for v in client.run(_task_log).values())
    assert main([*args, "--scheduler", address, "--partitions", "municipality",
                 "--lang", "en"]) == 0
    out = capsys.readouterr()
    assert out.out == plain
    assert address in out.err and "5 computed" in out.err
    # the cluster's workers ran the partitions: their task logs grew
    assert sum(len(v) for v in client.run(_task_log).values()) > before


def _task_log(dask_worker: Any) -> list[str]:
    return [str(entry[0]) for entry in dask_worker.state.log]


@pytest.mark.parametrize("nearest_km", [0.0, 12.0])
def test_network_cut_keeps_every_path_within_reach(nearest_km: float) -> None:
    """The proof's step 5 on a SYNTHETIC 30 x 30 km street grid: the partition's cut of the walk
    network and of the amenities gives the same distances within reach and the same scores
    (within EPS) as the whole network; stops from ``nearest_km`` east on (12 km: some within
    the bus stop's reach of 16.7 km along the grid, some beyond)."""
    import pandas as pd
    from pyproj import Transformer


    ind = get_indicator("transit.bus")
    step, n = 300.0, 100
    gx, gy = np.meshgrid(np.arange(n) * step, np.arange(n) * step)
    x, y = 500_000 + gx.ravel(), 6_250_000 + gy.ravel()
    lon, lat = Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True).transform(x, y)
    ids = np.arange(n * n)
    right = ids[(ids % n) < n - 1]
    up = ids[ids < n * (n - 1)]
    u = np.concatenate([right, right + 1, up, up + n])
    v = np.concatenate([right + 1, right, up + n, up])
    nodes = pd.DataFrame({"node": ids, "x": lon, "y": lat})
    edges = pd.DataFrame({"u": u, "v": v, "length": np.full(len(u), step * 1.01)})
    rng = np.random.default_rng(7)
    points = np.column_stack([500_000 + rng.uniform(0, 2000, 40), 6_250_000 + rng.uniform(0, 2000, 40)])
    stops = gpd.GeoDataFrame({"kind": "bus_stop", "name": "s", "uid": [f"s{i}" for i in range(60)],
                              "coverage": "complete"},
                             geometry=gpd.points_from_xy(
                                 500_000 + rng.uniform(nearest_km * 1000, 29_000, 60),
                                 6_250_000 + rng.uniform(0, 29_000, 60)),
                             crs=WORK_CRS)
    radius = buffer_m(ind, networks={"walk": None})
    full, part, n_cut, n_stops = cut_and_score(ind, nodes, edges, points, stops, radius,
                                               PlaceType.COUNTRYSIDE)
    assert n_cut < len(nodes) and n_stops < len(stops)
    within = full.raw <= cost_reach(ind)
    assert within.any()
    np.testing.assert_array_equal(full.raw[within], part.raw[within])
    assert np.max(np.abs(full.score - part.score)) <= EPS


def cut_and_score(ind: Any, nodes: Any, edges: Any, points: np.ndarray, stops: gpd.GeoDataFrame,
                  radius: float, place_type: PlaceType) -> tuple[Any, Any, int, int]:
    """``ind`` at ``points`` on the whole walk network and on the partition's cut of it and of
    ``stops`` to ``radius`` m around the points' hull (geo.partition, the proof's step 5):
    ``(full result, cut result, nodes kept, stops kept)``; both must be network distances."""
    import shapely

    from geo.partition import _cut_network, _within

    hull = shapely.multipoints(points).convex_hull
    cut_stops = _within(stops, stops.geometry.to_numpy(), hull, radius)
    cut = _cut_network((nodes, edges), hull, radius, points, [cut_stops.geometry])
    assert cut is not None
    types = np.array([place_type.value] * len(points), dtype=object)
    full = compute_indicator(ind, DistanceEngine(points, {"walk": (nodes, edges)}), layer=stops,
                             place_types=types)
    part = compute_indicator(ind, DistanceEngine(points, {"walk": cut}), layer=cut_stops,
                             place_types=types)
    assert not full.approximate and not part.approximate
    return full, part, len(cut[0]), len(cut_stops)
