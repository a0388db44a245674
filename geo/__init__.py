"""Engine of the Blekinge livability explorer: sources, store, accessibility, scores, maps, export.

Nothing here imports streamlit and nothing prints: the UI and the CLI sit on top.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
