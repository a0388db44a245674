"""``python -m app.launch run streamlit_app.py [streamlit options]``: what ``make run`` starts.

Streamlit's own command line (:func:`streamlit.web.cli.main`, the same options, server and
component handling as ``streamlit run``), plus the map page's warm-up (:mod:`app.warm`): a thread
that imports the page's modules and fills its caches as soon as the server listens, so the first
browser session finds them ready instead of paying for them after it connects.
``LIVABILITY_WARM=0`` turns the warm-up off (then this is plain ``streamlit run``).

Before the server starts, the project's own modules (``app``, ``geo``, ``layers``) are
byte-compiled where their ``__pycache__`` is missing or stale (:func:`precompile`): with
``PYTHONDONTWRITEBYTECODE`` set, as on this project's machines, Python never writes them itself
and every server start compiled 53 modules again (about 0.2 s of the first map's imports on
one core). Up to date, the check costs a few milliseconds; a read-only checkout is left as is.
"""

from __future__ import annotations

import compileall
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import warm

__all__ = ["PACKAGES", "main", "precompile"]

log = logging.getLogger(__name__)

#: The project's packages byte-compiled before a start (beside this one, in the checkout).
PACKAGES = ("app", "geo", "layers")


def precompile(root: Path | None = None) -> bool:
    """Byte-compile :data:`PACKAGES` under ``root`` (default: the checkout) where stale.

    Returns
    -------
    bool
        True when every module has up-to-date bytecode afterwards; False when one could not be
        written (a read-only checkout) or compiled (its import then reports the error).
    """
    base = Path(__file__).resolve().parent.parent if root is None else root
    ok = True
    for name in PACKAGES:
        folder = base / name
        if folder.is_dir():
            try:
                ok = bool(compileall.compile_dir(folder, quiet=2, workers=1)) and ok
            except OSError as exc:  # a read-only or full disk: the imports compile in memory
                log.info("could not byte-compile %s: %s", folder, exc)
                ok = False
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """Start the warm-up thread, then hand ``argv`` (default ``sys.argv[1:]``) to Streamlit's CLI.

    Returns
    -------
    int
        The CLI's exit status (it normally runs until the server stops).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    precompile()
    warm.start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *args]
    try:
        cli.main(prog_name="streamlit")
    except SystemExit as exc:  # click ends with SystemExit; pass its status on
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
