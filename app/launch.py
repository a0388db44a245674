"""``python -m app.launch run streamlit_app.py [streamlit options]``: what ``make run`` starts.

Streamlit's own command line (:func:`streamlit.web.cli.main`, the same options, server and
component handling as ``streamlit run``), plus the map page's warm-up (:mod:`app.warm`): a thread
that imports the page's modules and fills its caches as soon as the server listens, so the first
browser session finds them ready instead of paying for them after it connects.
``LIVABILITY_WARM=0`` turns the warm-up off (then this is plain ``streamlit run``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import warm

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Start the warm-up thread, then hand ``argv`` (default ``sys.argv[1:]``) to Streamlit's CLI.

    Returns
    -------
    int
        The CLI's exit status (it normally runs until the server stops).
    """
    args = list(sys.argv[1:] if argv is None else argv)
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
