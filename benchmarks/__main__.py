"""``python -m benchmarks [--quick] [--only NAME ...]``: run the benchmarks and print one table.

The table goes to stdout and, as JSON with the machine's description, to ``benchmarks/results/``
(git-ignored). Everything runs offline. The exit code is 1 when a comparison's results disagree
with ours (networkx's or pandana's distances, the pandas re-score's ranks): a fast kernel that
computes something else is a failure, not a figure.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from .harness import Row, format_table, machine, write_json

__all__ = ["SUITES", "disagreements", "main", "run_suites"]


def _kernel(quick: bool) -> list[Row]:
    from . import kernel

    return kernel.run(quick)


def _end_to_end(quick: bool) -> list[Row]:
    from . import end_to_end

    return end_to_end.run(quick)


def _reach(quick: bool) -> list[Row]:
    from . import reach

    return reach.run(quick)


def _rescore(quick: bool) -> list[Row]:
    from . import rescore

    return rescore.run(quick)


def _app(quick: bool) -> list[Row]:
    from . import app_payload

    return app_payload.run(quick)


def _app_weights(quick: bool) -> list[Row]:
    from . import app_weights

    return app_weights.run(quick)


def _app_load(quick: bool) -> list[Row]:
    from . import app_load  # skips with a note without /usr/bin/chromium, selenium or the pack

    return app_load.run(quick)


def _scaling(quick: bool) -> list[Row]:
    from . import scaling

    return scaling.run(quick)


def _national(quick: bool) -> list[Row]:
    from . import national  # skips with a note without the Sweden pack

    return national.run(quick)


#: Benchmark suites by name, in the order they run.
SUITES: dict[str, Callable[[bool], list[Row]]] = {
    "kernel": _kernel,
    "end_to_end": _end_to_end,
    "reach": _reach,
    "rescore": _rescore,
    "app": _app,
    "app_weights": _app_weights,
    "app_load": _app_load,
    "scaling": _scaling,
    "national": _national,
}


def run_suites(names: list[str] | None = None, quick: bool = False) -> list[Row]:
    """Run the named suites (all by default) and return their rows.

    A suite that fails is reported as one row saying why; the others still run.
    """
    unknown = [n for n in names or [] if n not in SUITES]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(SUITES)}")
    rows: list[Row] = []
    for name in names or list(SUITES):
        t0 = time.perf_counter()
        try:
            rows += SUITES[name](quick)
        except Exception as exc:  # report and keep going: one broken suite must not hide the rest
            logging.getLogger("benchmarks").exception("suite %s failed", name)
            rows.append(Row(f"{name}: FAILED", "-", note=f"{type(exc).__name__}: {exc}"))
        logging.getLogger("benchmarks").info("suite %s: %.1f s", name, time.perf_counter() - t0)
    return rows


def disagreements(rows: list[Row]) -> list[str]:
    """Names of the rows whose comparison found results different from ours."""
    return [r.name + (f" ({r.data})" if r.data else "") for r in rows
            if r.extra.get("agree") is False or r.extra.get("ranks_equal") is False]


def failures(rows: list[Row]) -> list[str]:
    """``name: error`` of the suites that raised (their one row says why)."""
    return [f"{r.name.removesuffix(': FAILED')}: {r.note}" for r in rows
            if r.name.endswith(": FAILED")]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: run, print the table, write the JSON; 1 when a comparison disagrees
    or a suite failed (the other suites still run and are written)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run, seconds)")
    ap.add_argument("--only", action="append", metavar="NAME", choices=list(SUITES),
                    help=f"run only this suite (repeatable): {', '.join(SUITES)}")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results",
                    help="folder for the JSON results (default benchmarks/results)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    t0 = time.perf_counter()
    rows = run_suites(args.only, args.quick)
    total = time.perf_counter() - t0
    m = machine()
    print(format_table(rows))
    print()
    print(f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, Python {m['python']}, "
          f"{m['platform']}; load average {m['loadavg']}; process peak RSS "
          f"{m['peak_rss_mib']:.0f} MiB (getrusage maxrss)")
    print(f"total wall time {total:.1f} s" + (" (--quick: tiny sizes)" if args.quick else ""))
    path = write_json(rows, args.out, {"quick": args.quick, "only": args.only,
                                       "total_s": total})
    print(f"results: {path}")
    wrong = disagreements(rows)
    if wrong:
        print(f"error: results differ from ours in {len(wrong)} comparison(s): "
              f"{'; '.join(wrong)}; see the notes above", file=sys.stderr)
    failed = failures(rows)
    for f in failed:
        print(f"error: suite {f}", file=sys.stderr)
    return 1 if wrong or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
