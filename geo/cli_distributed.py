"""The CLI's distributed options (``--workers``, ``--scheduler``, ``--partitions``) and their
output: the Dask dashboard link, distributed's progress bar (on stderr) and a summary line.

``livability score --region sverige --workers 2`` scores the region partition by partition on a
LocalCluster of 2 worker processes; ``--scheduler tcp://host:8786`` (or
``$DASK_SCHEDULER_ADDRESS``) on an existing cluster; ``--workers 0`` partition by partition in
this process (as without Dask installed). ``livability build --workers N`` reads the pack files
and writes the snapshot's parts on Dask (:func:`geo.distributed.build_region_distributed`; see
README "Distributed runs").
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any

from .catalog import fmt_number, t
from .cli_common import echo
from .errors import LimitError

__all__ = ["add_arguments", "distributed_model", "quiet_dask_logs", "wants_partitions"]

#: Largest --workers for a LocalCluster on one machine.
MAX_WORKERS = 256


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--workers``, ``--scheduler`` and ``--partitions`` to a sub-command."""
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="score partition by partition on a local Dask cluster of N worker "
                        "processes (0: in this process; default without the option: one process, "
                        "not partitioned)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="an existing Dask scheduler, e.g. tcp://host:8786 (default "
                        "$DASK_SCHEDULER_ADDRESS when --workers or --partitions is given)")
    p.add_argument("--partitions", default=None, choices=("county", "municipality"),
                   help="how a partitioned run cuts the region (default: county)")


def quiet_dask_logs() -> None:
    """Keep distributed's own log lines (scheduler, nanny and worker start and stop: some 40 INFO
    lines per run) at the CLI's level: off stderr by default, back with ``-v``.

    Importing distributed sets its logger to INFO (its ``logging`` config), so this runs after
    the import and before a cluster starts. Without dask.distributed installed it does nothing.
    """
    try:
        import distributed  # noqa: F401  # lazy: only a Dask run imports it (and it may be missing)
    except ImportError:
        return
    logging.getLogger("distributed").setLevel(logging.getLogger().getEffectiveLevel())


def wants_partitions(args: argparse.Namespace) -> bool:
    """Whether the options ask for a partitioned run."""
    return args.workers is not None or bool(args.scheduler) or args.partitions is not None


def distributed_model(args: argparse.Namespace, snap: Any) -> Any:
    """The score model of ``snap`` built by partitions, as the options say; prints the dashboard
    link, the progress bar (stderr) and a summary line in ``args.lang``.

    Raises
    ------
    LimitError
        For ``--workers`` outside 0-:data:`MAX_WORKERS`.
    """
    from .distributed import build_model_distributed  # lazy: pulls geopandas, scipy (~1 s)

    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        raise LimitError(f"--workers {args.workers} is outside 0-{MAX_WORKERS}; give the number "
                         "of local worker processes (0: in this process)")
    lang = args.lang
    quiet_dask_logs()

    def on_client(client: Any) -> None:
        link = getattr(client, "dashboard_link", None)
        if link:
            echo(t("cli.dist.dashboard", lang, url=link), err=True)

    def on_futures(futures: list[Any]) -> None:
        from distributed import progress  # lazy: only a Dask run needs it (and may lack it)

        with contextlib.redirect_stdout(sys.stderr):
            progress(futures)
            echo("", err=True)  # end the progress bar's line

    model, report = build_model_distributed(
        snap, by=args.partitions or "county", resolution=args.resolution, decay=args.decay,
        workers=args.workers, scheduler=args.scheduler, on_client=on_client,
        on_futures=on_futures)
    echo(t("cli.dist.summary", lang, n=len(report.names), where=report.where,
           workers=report.workers, computed=len(report.computed), cached=len(report.cached),
           s=fmt_number(report.seconds, lang, 1)), err=True)
    return model
