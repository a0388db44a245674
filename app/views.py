"""Page registry: page key -> render function (the order is the navigation order).

Each page's module is imported when the page is first drawn (under :data:`app.import_lock.
IMPORT_LOCK`), so the map page, the one a server start shows first, does not pay for the other
pages' imports (Altair for the profile and compare charts: about 0.4 s).
"""

from __future__ import annotations

from collections.abc import Callable

from .common import Ctx
from .import_lock import import_module

__all__ = ["VIEWS", "page_module"]

#: page key -> the module (in ``app``) whose ``render(ctx)`` draws it
_MODULES = {
    "map": "view_map",
    "profile": "view_profile",
    "compare": "view_compare",
    "export": "view_export",
    "data": "view_data",
}


def page_module(page: str) -> str:
    """The dotted name of the module that draws ``page``."""
    return f"app.{_MODULES[page]}"


def _lazy(page: str) -> Callable[[Ctx], None]:
    def render(ctx: Ctx) -> None:
        import_module(page_module(page)).render(ctx)

    render.__name__ = f"render_{page}"
    render.__doc__ = f"Draw the {page} page (its module imported on first use)."
    return render


VIEWS: dict[str, Callable[[Ctx], None]] = {page: _lazy(page) for page in _MODULES}
