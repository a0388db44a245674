"""What every ``livability`` sub-command shares, so the sub-CLIs never import :mod:`geo.cli`.

:mod:`geo.cli` imports the sub-command modules (``cli_build``, ``cli_score``, ``cli_export``) to
register them; they in turn only need :func:`echo`, which lives here to keep the import graph
one-way (``geo.cli`` -> ``geo.cli_*`` -> ``geo.cli_common``).
"""

from __future__ import annotations

import sys

__all__ = ["echo"]


def echo(text: str, *, err: bool = False) -> None:
    """Write one block of CLI output (stdout, or stderr with ``err``); the engine itself only logs.

    Parameters
    ----------
    text : str
        The block to write; a newline is appended.
    err : bool, optional
        Write to stderr instead of stdout.
    """
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n")
