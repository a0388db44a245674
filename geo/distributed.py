"""Run a region's partitions (:mod:`geo.partition`) on Dask, or one after the other without it.

- **Where**: ``scheduler`` (``tcp://host:8786``) or ``$DASK_SCHEDULER_ADDRESS`` names an existing
  cluster; otherwise a :class:`distributed.LocalCluster` of worker *processes* on 127.0.0.1 sized
  to the machine (one single-threaded worker per core the process may use, at most ``workers``,
  memory split evenly). Without ``dask.distributed`` installed (or ``workers=0``) every partition
  runs in this process, through the same code: cache, retry and failure report alike.
- **Progress**: each finished partition is logged (name, seconds, peak RSS); the edges get the
  futures (``on_futures``: the CLI shows distributed's progress bar) and the client
  (``on_client``: the CLI prints the dashboard link). The engine prints nothing.
- **Failures**: a partition that raises is retried once (``retries=1``; a worker that dies is
  rescheduled by the scheduler on its own); if it fails again it is reported by name in
  :class:`PartitionsFailedError` while the others finish, and theirs are kept in the cache, so a
  rerun computes only the failed ones.
- **Rerun**: a partition's result is cached under ``<data>/cache/partitions/<region>/`` keyed by
  :meth:`geo.partition.Partition.fingerprint` (sha256 of its cells, the sha256 of every stored
  file it reads, its buffers, facts and the code version). A rerun loads the partitions whose
  fingerprint is unchanged and computes the rest.
- **Integrity**: a cache entry is numpy arrays (``allow_pickle=False``) and JSON, never a pickle;
  its seal holds the sha256 of each file and an HMAC-SHA256 over them and the fingerprint, keyed
  by a random key in ``<data>/cache/partitions/.key`` (mode 0600). An entry whose seal, checksum
  or HMAC does not match is recomputed and replaced, never trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from layers.vocab import Measure

from .access import IndicatorResult
from .errors import LivabilityError
from .fsutil import fsync_dir
from .messages import Message
from .partition import Partition, PartitionResult, code_version, score_partition
from .settings import data_dir

__all__ = [
    "ClientInfo",
    "PartitionCache",
    "PartitionsFailedError",
    "RunReport",
    "build_model_distributed",
    "build_region_distributed",
    "dask_client",
    "dask_map",
    "default_workers",
    "have_dask",
    "run_partitions",
    "scheduler_address",
]

log = logging.getLogger(__name__)

#: The environment variable naming an existing scheduler (as Dask's own tools read it).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
_SEAL = "seal.json"
_FILES = ("arrays.npz", "meta.json")


class PartitionsFailedError(LivabilityError):
    """Partitions that failed twice, by name; ``report`` holds what the others computed."""

    def __init__(self, failed: dict[str, str], report: RunReport) -> None:
        super().__init__(message=Message("partitions_failed", {
            "names": sorted(failed), "n": len(failed), "total": len(report.names),
            "error": next(iter(failed.values()), "")}))
        self.failed = failed
        self.report = report


@dataclass
class RunReport:
    """What :func:`run_partitions` did: results in task order, which partitions were computed
    and which loaded from the cache, the workers and the dashboard link."""

    names: list[str]
    results: list[PartitionResult | None]
    computed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    workers: int = 0
    where: str = "in-process"
    dashboard: str | None = None
    seconds: float = 0.0


def have_dask() -> bool:
    """Whether ``dask.distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The scheduler to use: ``scheduler``, else ``$DASK_SCHEDULER_ADDRESS``, else None."""
    return scheduler or os.environ.get(SCHEDULER_ENV) or None


def default_workers() -> int:
    """One worker per core this process may use (``sched_getaffinity``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "partition"


# -- the cache -------------------------------------------------------------------------------------
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _encode(res: PartitionResult) -> tuple[bytes, bytes]:
    """``(npz, json)`` of a partition's result: arrays without pickles, the rest as JSON."""
    arrays: dict[str, np.ndarray] = {"h3": np.asarray(res.h3, dtype=str)}
    meta: dict[str, Any] = {"name": res.name, "seconds": res.seconds,
                            "peak_rss_mb": res.peak_rss_mb, "features": res.features,
                            "results": {}}
    for i, (key, r) in enumerate(res.results.items()):
        p = f"r{i}_"
        arrays[p + "raw"] = np.asarray(r.raw, dtype=float)
        arrays[p + "score"] = np.asarray(r.score, dtype=float)
        arrays[p + "nearest"] = np.asarray(r.nearest, dtype=np.int64)
        uids = (r.amenities["uid"].astype(str).to_numpy() if "uid" in r.amenities
                else np.zeros(0, dtype=str))
        arrays[p + "uids"] = np.asarray(uids, dtype=str)
        if r.thresholds is not None:
            arrays[p + "thresholds"] = np.asarray(r.thresholds, dtype=float)
        for j, (_, d) in enumerate(r.classes):
            arrays[f"{p}class{j}"] = np.asarray(d, dtype=float)
        meta["results"][key] = {
            "prefix": p, "measure": str(r.measure), "mode": str(r.mode), "missing": r.missing,
            "reason": r.reason.to_dict() if r.reason else None, "approximate": r.approximate,
            "partial": r.partial, "notes": [m.to_dict() for m in r.notes],
            "factors": [float(f) for f, _ in r.classes], "decay": str(r.decay),
            "threshold_m": float(r.threshold_m), "max_m": r.max_m, "unit": r.unit,
            "gaps": list(r.gaps), "gap_kinds": list(r.gap_kinds),
            "thresholds": r.thresholds is not None, "has_uid": "uid" in r.amenities}
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue(), json.dumps(meta, sort_keys=True).encode()


def _decode(npz: bytes, meta_b: bytes) -> PartitionResult:
    meta = json.loads(meta_b)
    with np.load(io.BytesIO(npz), allow_pickle=False) as z:
        arr = {k: z[k] for k in z.files}
    results: dict[str, IndicatorResult] = {}
    for key, m in meta["results"].items():
        p = m["prefix"]
        amen = (pd.DataFrame({"uid": arr[p + "uids"].astype(object)}) if m["has_uid"]
                else pd.DataFrame())
        results[key] = IndicatorResult(
            key, Measure(m["measure"]), m["mode"], missing=bool(m["missing"]),
            reason=Message.from_dict(m["reason"]) if m["reason"] else None,
            approximate=bool(m["approximate"]), partial=bool(m["partial"]),
            notes=[Message.from_dict(n) for n in m["notes"]], raw=arr[p + "raw"],
            score=arr[p + "score"], nearest=arr[p + "nearest"], amenities=amen,
            classes=[(float(f), arr[f"{p}class{j}"]) for j, f in enumerate(m["factors"])],
            decay=m["decay"], threshold_m=float(m["threshold_m"]), max_m=m["max_m"],
            unit=m["unit"], gaps=list(m["gaps"]), gap_kinds=list(m["gap_kinds"]),
            thresholds=arr[p + "thresholds"] if m["thresholds"] else None)
    return PartitionResult(meta["name"], arr["h3"].astype(object), results,
                           float(meta["seconds"]), float(meta["peak_rss_mb"]),
                           int(meta["features"]))


class PartitionCache:
    """Partition results of one region under ``<data>/cache/partitions/<region>/`` (see the
    module docstring: sealed by sha256 and an HMAC, recomputed when anything does not match)."""

    def __init__(self, region: str, data: str | os.PathLike[str] | None = None) -> None:
        base = data_dir(data) / "cache" / "partitions"
        self.root = base / _slug(region)
        self._key_path = base / ".key"

    def _key(self) -> bytes:
        self._key_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self._key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = self._key_path.read_bytes()
            if len(key) < 32:
                raise LivabilityError(f"the cache key {self._key_path} is damaged; remove "
                                      f"{self._key_path.parent} to start a new cache") from None
            return key
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key

    def _mac(self, fingerprint: str, files: dict[str, str]) -> str:
        body = json.dumps({"fingerprint": fingerprint, "files": files}, sort_keys=True).encode()
        return hmac.new(self._key(), body, hashlib.sha256).hexdigest()

    def folder(self, name: str) -> Path:
        """The folder of partition ``name``'s entry."""
        return self.root / _slug(name)

    def load(self, name: str, fingerprint: str) -> PartitionResult | None:
        """The cached result of ``name`` for ``fingerprint``; None when absent, stale or not
        intact (the reason is logged)."""
        folder = self.folder(name)
        seal_path = folder / _SEAL
        if not seal_path.is_file():
            return None
        try:
            seal = json.loads(seal_path.read_bytes())
            if seal.get("fingerprint") != fingerprint:
                log.info("partition %s: inputs changed, recomputing", name)
                return None
            files = {str(k): str(v) for k, v in seal["files"].items()}
            if set(files) != set(_FILES) or not hmac.compare_digest(
                    str(seal.get("hmac", "")), self._mac(fingerprint, files)):
                raise ValueError("seal does not match")
            data = {f: (folder / f).read_bytes() for f in _FILES}
            for f, b in data.items():
                if _sha256(b) != files[f]:
                    raise ValueError(f"{f} does not match its checksum")
            return _decode(data["arrays.npz"], data["meta.json"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("partition %s: cache entry %s not intact (%s); recomputing", name,
                        folder, exc)
            return None

    def save(self, result: PartitionResult, fingerprint: str) -> None:
        """Store ``result`` for ``fingerprint`` (files first, the seal last, each atomically)."""
        folder = self.folder(result.name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / _SEAL).unlink(missing_ok=True)
            npz, meta = _encode(result)
            blobs = {"arrays.npz": npz, "meta.json": meta}
            for f, b in blobs.items():
                _write_atomic(folder / f, b)
            files = {f: _sha256(b) for f, b in blobs.items()}
            seal = {"fingerprint": fingerprint, "files": files,
                    "hmac": self._mac(fingerprint, files)}
            _write_atomic(folder / _SEAL, json.dumps(seal, sort_keys=True).encode())
            fsync_dir(folder)
        except OSError as exc:  # a cache that cannot be written costs a rerun, nothing else
            log.warning("partition %s: cannot write the cache in %s (%s)", result.name, folder,
                        exc.strerror)

    def clear(self) -> None:
        """Remove this region's entries (only the folders this cache wrote)."""
        if self.root.is_dir():
            for sub in self.root.iterdir():
                if (sub.is_dir() and (sub / _SEAL).exists()) or (sub / "meta.json").exists():
                    shutil.rmtree(sub, ignore_errors=True)


# -- running ---------------------------------------------------------------------------------------
def _serial(todo: Sequence[tuple[int, Partition]], fn: Callable[[Partition], PartitionResult],
            retries: int, done: Callable[[int, PartitionResult], None],
            failed: dict[str, str]) -> None:
    """Each partition in this process, retried ``retries`` times."""
    for i, task in todo:
        for attempt in range(retries + 1):
            try:
                done(i, fn(task))
                break
            except Exception as exc:  # a partition's failure is reported, the others go on
                log.warning("partition %s failed (attempt %d of %d): %s", task.name, attempt + 1,
                            retries + 1, exc)
                if attempt == retries:
                    failed[task.name] = f"{type(exc).__name__}: {exc}"


def _cluster(workers: int | None, scheduler: str | None) -> tuple[Any, Any, int, str]:
    """``(client, cluster or None, workers, where)`` for the address or a new LocalCluster."""
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler, timeout="20s")
        n = len(client.scheduler_info().get("workers", {}))
        return client, None, n, scheduler
    n = workers or default_workers()
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0",
                           memory_limit=int(total * 0.9 / n), silence_logs=logging.WARNING)
    return Client(cluster), cluster, n, "LocalCluster"


@dataclass
class ClientInfo:
    """The client :func:`dask_client` opened (None: run in this process) and where it runs."""

    client: Any = None
    workers: int = 1
    where: str = "in-process"
    #: True for a LocalCluster of this machine (its workers share this process's filesystem)
    local: bool = False


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None, *,
                client: Any = None, local: bool = False) -> Iterator[ClientInfo]:
    """The Dask client a run uses, closed (with its LocalCluster) on exit.

    ``client`` is used as it is (not closed; ``local``: its workers share this machine's
    filesystem, as a LocalCluster's do); else ``scheduler`` or ``$DASK_SCHEDULER_ADDRESS``
    names a cluster, else a LocalCluster of ``workers`` processes (default one per core) is
    started. ``workers=0`` without an address or client, or no ``dask.distributed``: no client
    (``ClientInfo.client`` None, one worker, in this process).
    """
    address = scheduler_address(scheduler)
    if client is not None:
        yield ClientInfo(client, len(client.scheduler_info().get("workers", {})), "client",
                         local=local)
        return
    if not (address or workers != 0) or not have_dask():
        if workers != 0 and not have_dask():
            log.info("dask.distributed is not installed: running in this process")
        yield ClientInfo()
        return
    own, cluster, n, where = _cluster(workers, address)
    try:
        yield ClientInfo(own, n, where, local=cluster is not None)
    finally:
        own.close()
        if cluster is not None:
            cluster.close()


def _submit_all(client: Any, todo: Sequence[tuple[int, Partition]], tasks: Sequence[Partition],
                fn: Callable[[Partition], PartitionResult], retries: int,
                done: Callable[[int, PartitionResult], None], report: RunReport,
                on_client: Callable[[Any], None] | None,
                on_futures: Callable[[list[Any]], None] | None) -> None:
    """Each partition of ``todo`` as a task of ``client``; ``done`` as each one finishes."""
    from distributed import as_completed

    report.dashboard = getattr(client, "dashboard_link", None)
    if on_client is not None:
        on_client(client)
    run = secrets.token_hex(4)  # a key of its own per run: an erred key is never reused
    futures = {client.submit(fn, task, key=f"partition-{_slug(task.name)}-{run}",
                             retries=retries, pure=False): i for i, task in todo}
    if on_futures is not None:
        on_futures(list(futures))
    for fut in as_completed(list(futures)):
        i = futures[fut]
        try:
            done(i, fut.result())
        except Exception as exc:  # reported by name; the others go on
            log.warning("partition %s failed twice: %s", tasks[i].name, exc)
            report.failed[tasks[i].name] = f"{type(exc).__name__}: {exc}"


def run_partitions(tasks: Sequence[Partition], *, workers: int | None = None,
                   scheduler: str | None = None, cache: PartitionCache | None = None,
                   fn: Callable[[Partition], PartitionResult] = score_partition,
                   retries: int = 1, client: Any = None,
                   on_client: Callable[[Any], None] | None = None,
                   on_futures: Callable[[list[Any]], None] | None = None) -> RunReport:
    """Compute ``tasks`` (see the module docstring) and return them in task order.

    Parameters
    ----------
    tasks
        The plan's partitions.
    workers
        Size of the LocalCluster (default: one per core); 0 runs everything in this process.
    scheduler
        An existing cluster's address (default ``$DASK_SCHEDULER_ADDRESS``).
    cache
        Where results are kept between runs (None: nothing is kept).
    fn
        The partition function (tests wrap :func:`geo.partition.score_partition`).
    retries
        How often a failed partition is tried again.
    client
        A ``distributed.Client`` to use as it is (not closed here).
    on_client, on_futures
        Called with the client, and with the submitted futures (the edges' dashboard link and
        progress bar).

    Raises
    ------
    PartitionsFailedError
        Naming the partitions that failed ``retries + 1`` times; the others' results are cached.
    """
    t0 = time.perf_counter()
    version = code_version()
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise LivabilityError("two partitions share a name; partition names must be unique")
    report = RunReport(names, [None] * len(tasks))
    prints = [t.fingerprint(version) for t in tasks]
    todo: list[tuple[int, Partition]] = []
    for i, task in enumerate(tasks):
        hit = cache.load(task.name, prints[i]) if cache is not None else None
        if hit is not None:
            report.results[i] = hit
            report.cached.append(task.name)
        else:
            todo.append((i, task))
    log.info("%d partitions: %d from the cache, %d to compute", len(tasks), len(report.cached),
             len(todo))

    def done(i: int, res: PartitionResult) -> None:
        report.results[i] = res
        report.computed.append(tasks[i].name)
        if cache is not None:
            cache.save(res, prints[i])
        log.info("partition %s done: %.2f s, peak RSS %.0f MiB (%d of %d)", res.name, res.seconds,
                 res.peak_rss_mb, len(report.computed) + len(report.cached), len(tasks))

    if not todo:
        report.where = "cache"
    else:
        with dask_client(workers, scheduler, client=client) as info:
            report.workers, report.where = info.workers, info.where
            if info.client is None:
                _serial(todo, fn, retries, done, report.failed)
            else:
                _submit_all(info.client, todo, tasks, fn, retries, done, report, on_client,
                            on_futures)
    report.seconds = time.perf_counter() - t0
    if report.failed:
        raise PartitionsFailedError(report.failed, report)
    return report


def build_model_distributed(snapshot: Any, *, by: str = "county", resolution: int = 9,
                            decay: str | None = None, workers: int | None = None,
                            scheduler: str | None = None, use_cache: bool = True,
                            cache_dir: str | os.PathLike[str] | None = None,
                            fn: Callable[[Partition], PartitionResult] = score_partition,
                            client: Any = None, on_client: Callable[[Any], None] | None = None,
                            on_futures: Callable[[list[Any]], None] | None = None
                            ) -> tuple[Any, RunReport]:
    """:func:`geo.scoring.build_model` of ``snapshot`` by partitions (:mod:`geo.partition`) run
    by :func:`run_partitions`; the partition cache lives in the snapshot's data directory (or
    ``cache_dir``; ``use_cache=False``: none).

    Returns
    -------
    model, report
        The :class:`geo.scoring.ScoreModel` (scores within :data:`geo.partition.EPS` of the
        one-process model's) and what ran where.
    """
    from .partition import merge_partitions, plan_partitions

    plan = plan_partitions(snapshot, by=by, resolution=resolution, decay=decay)
    cache = (PartitionCache(snapshot.region_key, cache_dir or snapshot.path.parent) if use_cache
             else None)
    report = run_partitions(plan.partitions, workers=workers, scheduler=scheduler, cache=cache,
                            fn=fn, client=client, on_client=on_client, on_futures=on_futures)
    results = [r for r in report.results if r is not None]
    model = merge_partitions(plan, results)
    model.build_seconds = report.seconds + plan.seconds
    return model, report


# -- the partitioned build -------------------------------------------------------------------------
def dask_map(client: Any, stage: str = "read") -> Callable[[Callable[[Any], Any], Iterable[Any]],
                                                           list[Any]]:
    """A ``map(fn, items)`` (:data:`geo.sources.base.MapFn`) running each item as a task of
    ``client``; the results in the items' order, the count logged per stage."""

    def run(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        todo = list(items)
        t0 = time.perf_counter()
        futures = client.map(fn, todo, pure=False, key=[f"{stage}-{secrets.token_hex(6)}"
                                                        for _ in todo])
        out = list(client.gather(futures))
        log.info("stage %s: %d tasks in %.2f s", stage, len(todo), time.perf_counter() - t0)
        return out

    return run


def build_region_distributed(region: Any, options: Any = None, *, workers: int | None = None,
                             scheduler: str | None = None, client: Any = None,
                             local: bool = False, progress: Callable[[str], None] | None = None,
                             on_client: Callable[[Any], None] | None = None) -> tuple[Any, ClientInfo]:
    """:func:`geo.build.build_region` with its two parallel stages on Dask.

    - **read**: every ``layers`` and ``boundaries`` file of each data pack is one task
      (:func:`geo.sources.pack.read_pack`'s ``map``), on any cluster (the pack's path is given:
      a remote worker must see it at the same path); the results are assembled in manifest
      order, so the snapshot is the serial build's.
    - **write**: the GeoParquet parts of each layer and base frame are written county by county
      as tasks into the new snapshot's folder (:class:`geo.store.SnapshotWriter`'s ``submit``)
      only on a LocalCluster (its workers share this machine's filesystem) or a given
      ``client`` said to be ``local``; on a remote ``scheduler`` this process writes them.
      The commit (the atomic swap) is always this process's.

    Everything else (merging, clipping, footprints, networks) runs in this process. Without a
    cluster (``workers=0`` and no address, or no ``dask.distributed``) it is the serial build.

    Returns
    -------
    snapshot, info
        The new snapshot and where the stages ran.
    """
    from .build import build_region

    with dask_client(workers, scheduler, client=client, local=local) as info:
        if info.client is None:
            return build_region(region, options, progress=progress), info
        if on_client is not None:
            on_client(info.client)
        c = info.client
        submit = (lambda fn, *args: c.submit(fn, *args, pure=False)) if info.local else None
        log.info("build on %s (%d workers): reads as tasks, writes %s", info.where, info.workers,
                 "as tasks" if submit else "in this process")
        snap = build_region(region, options, progress=progress, map=dask_map(c, "read"),
                            submit=submit)
        return snap, info
