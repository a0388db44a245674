"""Timing, memory and table helpers shared by the benchmark modules.

Timing: ``time.perf_counter`` around each run, after one untimed warm-up run; calls faster than
20 ms are repeated within a run (``timeit``-style) and the run's time divided by the count.
Memory: the peak of Python and numpy allocations traced by :mod:`tracemalloc` during one extra,
untimed run (tracing slows Python code, so it never overlaps the timed runs). The process's peak
RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is recorded once per run of the whole suite.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
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

__all__ = ["Row", "format_table", "machine", "measure", "peak_mb", "quiet_stdout", "write_json"]


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
        Peak traced allocation in MiB during one extra run (None when not measured).
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


def format_table(rows: list[Row]) -> str:
    """Render the rows as a fixed-width text table (notes listed below it)."""
    head = ("#", "benchmark", "data", "median", "min", "max", "runs", "peak MiB", "ratio",
            "target", "met")
    body = []
    for i, r in enumerate(rows, 1):
        ratio = "-" if r.ratio is None or not math.isfinite(r.ratio) else (
            f"{r.ratio:.1f}x {r.ratio_vs}")
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        body.append((str(i), r.name, r.data, _fmt_s(r.median),
                     _fmt_s(min(r.times)) if r.times else "-",
                     _fmt_s(max(r.times)) if r.times else "-", str(len(r.times)),
                     "-" if r.peak_mb is None else f"{r.peak_mb:.1f}", ratio, r.target or "-", met))
    widths = [max(len(x[c]) for x in [head, *body]) for c in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    out = [line(head), line(tuple("-" * w for w in widths))]
    out += [line(b) for b in body]
    notes = [f"  [{i}] {r.note}" for i, r in enumerate(rows, 1) if r.note]
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
