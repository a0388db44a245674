"""``livability score``: registered by :func:`register` (filled in by its issue)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``score`` sub-command to the CLI's sub-parsers."""
    p: argparse.ArgumentParser = sub.add_parser("score", help="(not yet implemented)")
    p.set_defaults(func=lambda args: (_ for _ in ()).throw(NotImplementedError("score")))
