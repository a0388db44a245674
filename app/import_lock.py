"""One lock for the app's imports, shared by the warm-up thread and the script runs.

The warm-up thread (:mod:`app.warm`) imports the map page's modules while the first browser
session may already be running ``streamlit_app.py``, which imports the same modules. Python's
per-module import locks let two threads import the same package graph concurrently, but a
cycle of ``from x import y`` between two threads ends in a ``_DeadlockError`` or a partially
initialised module. Both sides therefore import under :data:`IMPORT_LOCK` (re-entrant, so a
nested lazy import in the same thread does not block itself); once the modules are in
``sys.modules`` taking the lock costs nothing measurable.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from types import ModuleType

__all__ = ["IMPORT_LOCK", "import_module", "import_modules"]

#: Held while app modules are imported (see the module docstring).
IMPORT_LOCK = threading.RLock()


def import_module(name: str) -> ModuleType:
    """``importlib.import_module(name)`` under :data:`IMPORT_LOCK`."""
    with IMPORT_LOCK:
        return importlib.import_module(name)


def import_modules(names: Iterable[str]) -> list[ModuleType]:
    """Import ``names`` in order under one hold of :data:`IMPORT_LOCK`."""
    with IMPORT_LOCK:
        return [importlib.import_module(n) for n in names]
