"""Timing, memory and table helpers shared by the benchmark modules.

Timing: ``time.perf_counter`` around each run, after one untimed warm-up run; calls faster than
20 ms are repeated within a run (``timeit``-style) and the run's time divided by the count.
Interleaving: :func:`measure_interleaved` times several functions round-robin (the order rotated
each round), so a load spike from other processes hits every side alike; ratios are of medians.

Memory: :func:`measure_rss` runs a row's function once more, untimed, in a FRESH child process
(``multiprocessing`` "forkserver" context, "spawn" where there is none) and reads the child's peak
resident set size (``/proc/self/status`` ``VmHWM``, reset through ``/proc/self/clear_refs`` after an
optional untimed ``setup``, so the peak covers the measured call with its inputs held; without the
reset it falls back to ``getrusage(RUSAGE_SELF).ru_maxrss`` of the whole child). RSS counts what
scipy, C++ libraries and numpy allocate alike. A suite opts in by setting ``Row.peak_rss_mb``;
rows that only have the older :func:`peak_mb` (:mod:`tracemalloc`: Python and numpy allocations
only, not RSS) show "-" in the "peak RSS MiB" column and the traced figure in their note.
The parent process's peak RSS (``RUSAGE_SELF``) is printed once per run of the whole suite.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import math
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Row", "RssResult", "format_table", "machine", "measure", "measure_interleaved",
           "measure_rss", "peak_mb", "quiet_stdout", "write_json"]

log = logging.getLogger("benchmarks")


@dataclass
class Row:
    """One line of the benchmark table.

    Attributes
    ----------
    name
        What was measured ("kernel ours", "kernel networkx", ...).
    data
        The input it ran on ("Helsinki walk (real OSM)", "synthetic 148,299 nodes").
    times
        Seconds of each timed run (empty when the row was skipped).
    peak_mb
        Peak traced allocation (:mod:`tracemalloc`) in MiB during one extra run (None when not
        measured). Python and numpy allocations only: shown in the note, not as peak RSS.
    ratio
        Time of the alternative divided by ours (None when there is no comparison).
    ratio_vs
        What the ratio compares ("networkx/ours").
    target
        The target in words ("< 100 ms", ">= 20x").
    met
        Whether the target is met (None when the row has no target or was skipped).
    note
        Anything the reader must know: skipped and why, agreement checks, sizes.
    extra
        Anything else for the JSON (``agree``: False makes ``make bench`` exit 1).
    peak_rss_mb
        Peak resident set size in MiB of a fresh child process running the row's function
        (:func:`measure_rss`; None when the suite did not measure it).
    """

    name: str
    data: str
    times: list[float] = field(default_factory=list)
    peak_mb: float | None = None
    ratio: float | None = None
    ratio_vs: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float | None = None

    @property
    def median(self) -> float | None:
        """Median seconds of the timed runs."""
        return statistics.median(self.times) if self.times else None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON, with the median/min/max added."""
        d = asdict(self)
        d.update(median_s=self.median, min_s=min(self.times) if self.times else None,
                 max_s=max(self.times) if self.times else None, runs=len(self.times))
        return d


def measure(fn: Callable[[], Any], runs: int, warmup: int = 1,
            min_run_s: float = 0.02) -> list[float]:
    """Seconds per call of ``fn`` for each of ``runs`` timed runs, after ``warmup`` untimed calls.

    A call faster than ``min_run_s`` is repeated within each run (``timeit``-style) so that clock
    resolution, the garbage collection before each run and cold caches do not dominate; the run's
    time is then divided by the number of calls.
    """
    for _ in range(warmup):
        fn()
    number = 1
    if warmup:
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        if first < min_run_s:
            number = max(1, min(1000, math.ceil(min_run_s / max(first, 1e-6))))
    out = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t0) / number)
    return out


def peak_mb(fn: Callable[[], Any]) -> float:
    """Run ``fn`` once under tracemalloc; return the peak traced allocation in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def measure_interleaved(fns: dict[str, Callable[[], Any]], runs: int | dict[str, int],
                        warmup: int = 1, min_run_s: float = 0.02) -> dict[str, list[float]]:
    """Seconds per call of each function, timed round-robin: round ``i`` runs every function once.

    Parameters
    ----------
    fns
        Functions by name.
    runs
        Timed runs, for all or per name (a function with fewer runs sits out the later rounds).
    warmup, min_run_s
        As in :func:`measure`: untimed calls first, and calls faster than ``min_run_s`` repeated
        within a run (the run's time divided by the count).

    Returns
    -------
    dict
        Name -> seconds per call of each timed run. The order within a round rotates each round
        so no function always runs right after the same other one.
    """
    want = {k: (runs[k] if isinstance(runs, dict) else runs) for k in fns}
    number = dict.fromkeys(fns, 1)
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        if warmup:
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
            if first < min_run_s:
                number[name] = max(1, min(1000, math.ceil(min_run_s / max(first, 1e-6))))
    out: dict[str, list[float]] = {k: [] for k in fns}
    names = list(fns)
    for i in range(max(want.values(), default=0)):
        for name in names[i % len(names):] + names[:i % len(names)]:
            if len(out[name]) >= want[name]:
                continue
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(number[name]):
                fns[name]()
            out[name].append((time.perf_counter() - t0) / number[name])
    return out


@dataclass
class RssResult:
    """Peak resident set size of one child process (:func:`measure_rss`).

    Attributes
    ----------
    peak_mib
        Peak RSS in MiB while the measured call ran (None when the child failed).
    base_mib
        RSS in MiB just before the call: interpreter, imported libraries, inputs (and ``setup``'s
        result).
    reset
        True when the peak was reset after ``setup`` (the peak covers the call alone, with its
        inputs held); False: the peak of the whole child (``getrusage`` maxrss).
    error
        Why the child failed ("" when it did not).
    setup_mib
        RSS in MiB before ``setup`` ran (None without a setup): ``base_mib - setup_mib`` is
        what the setup's result holds.
    """

    peak_mib: float | None
    base_mib: float | None = None
    reset: bool = False
    error: str = ""
    setup_mib: float | None = None

    def describe(self) -> str:
        """One phrase for a row's note."""
        if self.peak_mib is None:
            return f"peak RSS not measured: child failed ({self.error})"
        base = "" if self.base_mib is None else f", {self.base_mib:.0f} MiB before the call"
        how = "" if self.reset else " (whole child, setup included)"
        return f"peak RSS {self.peak_mib:.0f} MiB in a fresh child{base}{how}"


#: Modules the forkserver imports once, so each child starts with them loaded (as a fresh
#: interpreter that imported them would be); the row's own libraries load in the child.
_PRELOAD = ["numpy", "pandas", "scipy.sparse", "scipy.sparse.csgraph", "scipy.spatial"]
_ctx: Any = None


def _context() -> Any:
    global _ctx
    if _ctx is None:
        if "forkserver" in mp.get_all_start_methods():
            _ctx = mp.get_context("forkserver")
            _ctx.set_forkserver_preload(_PRELOAD)
        else:  # pragma: no cover - not on Linux
            _ctx = mp.get_context("spawn")
    return _ctx


def _status_kib(key: str) -> int | None:
    with contextlib.suppress(OSError):
        for ln in Path("/proc/self/status").read_text().splitlines():
            if ln.startswith(key + ":"):
                return int(ln.split()[1])
    return None


def _reset_peak() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def _rss_child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...],
               setup: Callable[..., Any] | None) -> None:
    try:
        logging.disable(logging.CRITICAL)
        pre = None
        if setup is not None:
            gc.collect()
            pre = _status_kib("VmRSS")
            args = (setup(*args),)
        gc.collect()
        reset = _reset_peak()
        base = _status_kib("VmRSS")
        with quiet_stdout():
            fn(*args)
        peak = _status_kib("VmHWM") if reset else None
        if peak is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send(("ok", peak / 1024, None if base is None else base / 1024, reset,
                   None if pre is None else pre / 1024))
    except BaseException as exc:  # reported to the parent as one line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def measure_rss(fn: Callable[..., Any], *args: Any, setup: Callable[..., Any] | None = None,
                timeout_s: float = 1800.0) -> RssResult:
    """Run ``fn`` once in a fresh child process and return the child's peak RSS.

    Parameters
    ----------
    fn
        A module-level (picklable) function. Called as ``fn(*args)``, or ``fn(setup(*args))``
        when ``setup`` is given.
    args
        Picklable inputs, sent to the child.
    setup
        Optional module-level function run first in the child, untimed and outside the peak
        (for instance building the graph a query row needs); the peak is reset after it, so the
        figure covers ``fn``'s call while ``setup``'s result is held.
    timeout_s
        Give up (and kill the child) after this long.

    Returns
    -------
    RssResult
        ``peak_mib`` None with ``error`` when the child failed, was killed or timed out (a row then
        says so in its note instead of failing the suite).
    """
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_rss_child, args=(child, fn, args, setup), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout_s):
            proc.kill()
            proc.join()
            return RssResult(None, error=f"timed out after {timeout_s:.0f} s")
        msg = parent.recv()
    except EOFError:
        proc.join()
        return RssResult(None, error=f"child exited with code {proc.exitcode} (killed: out of "
                                     "memory?)")
    finally:
        parent.close()
    proc.join()
    if msg[0] != "ok":
        log.warning("measure_rss(%s): %s", getattr(fn, "__name__", fn), msg[1])
        return RssResult(None, error=msg[1])
    return RssResult(msg[1], msg[2], msg[3], setup_mib=msg[4])


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1 (C++ libraries such as pandana print progress there)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1.0:
        return f"{s * 1000:.1f} ms"
    return f"{s:.2f} s"


def _note(r: Row) -> str:
    """The row's note, plus its traced peak when it has one but no RSS (not comparable to RSS)."""
    if r.peak_rss_mb is None and r.peak_mb is not None:
        traced = (f"peak RSS not measured; tracemalloc peak {r.peak_mb:.1f} MiB (Python and "
                  "numpy allocations only)")
        return f"{r.note}; {traced}" if r.note else traced
    return r.note


def format_table(rows: list[Row]) -> str:
    """Render the rows as a fixed-width text table (notes listed below it)."""
    head = ("#", "benchmark", "data", "median", "min", "max", "runs", "peak RSS MiB", "ratio",
            "target", "met")
    body = []
    for i, r in enumerate(rows, 1):
        ratio = "-" if r.ratio is None or not math.isfinite(r.ratio) else (
            f"{r.ratio:.1f}x {r.ratio_vs}")
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        body.append((str(i), r.name, r.data, _fmt_s(r.median),
                     _fmt_s(min(r.times)) if r.times else "-",
                     _fmt_s(max(r.times)) if r.times else "-", str(len(r.times)),
                     "-" if r.peak_rss_mb is None else f"{r.peak_rss_mb:.0f}", ratio,
                     r.target or "-", met))
    widths = [max(len(x[c]) for x in [head, *body]) for c in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    out = [line(head), line(tuple("-" * w for w in widths))]
    out += [line(b) for b in body]
    notes = [f"  [{i}] {n}" for i, r in enumerate(rows, 1) if (n := _note(r))]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def machine() -> dict[str, Any]:
    """Describe the machine: CPUs, memory, Python, platform, peak RSS so far."""
    mem = ""
    with contextlib.suppress(OSError):
        for ln in Path("/proc/meminfo").read_text().splitlines():
            if ln.startswith("MemTotal"):
                mem = f"{int(ln.split()[1]) / 2**20:.1f} GiB"
    cpu = ""
    with contextlib.suppress(OSError):
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    load = ""
    with contextlib.suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "loadavg": load,
            "python": platform.python_version(), "platform": platform.platform(),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def write_json(rows: list[Row], folder: Path, args: dict[str, Any]) -> Path:
    """Write the table and the machine description to ``folder/bench-<UTC time>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = folder / f"bench-{stamp}.json"
    payload = {"created": stamp, "machine": machine(), "args": args,
               "rows": [r.to_dict() for r in rows]}
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    (folder / "latest.json").write_text(json.dumps(payload, indent=2, default=str),
                                        encoding="utf-8")
    return path
