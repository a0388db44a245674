"""Command-line interface: ``livability build | info | score | compare | export``.

Each sub-command is registered by the module that owns it (``register(subparsers)``), so this file
stays a thin frame: argument parsing, logging set-up, and one-line error reporting.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__, cli_build, cli_compare, cli_export, cli_score
from .catalog import t
from .cli_common import echo
from .errors import LivabilityError

__all__ = ["echo", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="livability",
        description="Build, inspect, score and export livability data for a Swedish region.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    p.add_argument("--data-dir", default=None,
                   help="store folder (default ./data, or $LIVABILITY_DATA_DIR)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in (cli_build, cli_score, cli_compare, cli_export):
        mod.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 2 a user-facing error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except LivabilityError as exc:
        echo(t("cli.error", msg=exc), err=True)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        echo(t("cli.interrupted"), err=True)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
