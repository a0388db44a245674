"""The exception classes of osmnx, imported in this one place.

osmnx 2.x raises :class:`InsufficientResponseError` (Overpass found nothing) and
:class:`ResponseStatusCodeError` (Overpass answered with an error status) but defines them only in
its private module ``osmnx._errors``; there is no public name for them. Every other module asks
here, so an osmnx upgrade that moves them breaks one file, and
``tests/test_imports.py::test_osmnx_error_adapter_finds_the_classes`` fails loudly naming it.
osmnx is imported when a function is called (it is heavy and only the online path needs it).
"""

from __future__ import annotations

__all__ = ["insufficient_response_error", "response_status_code_error"]


def insufficient_response_error() -> type[Exception]:
    """osmnx's "no data in the response" exception class."""
    from osmnx._errors import InsufficientResponseError

    return InsufficientResponseError


def response_status_code_error() -> type[Exception]:
    """osmnx's "Overpass answered with an error status" exception class."""
    from osmnx._errors import ResponseStatusCodeError

    return ResponseStatusCodeError
