"""The one use of a private pyrosm helper: the replication timestamp in a PBF's header block.

pyrosm has no public API for a PBF's HeaderBlock: ``pyrosm.OSM`` and the functions in
``pyrosm.__all__`` give elements only. Its compiled module ``pyrosm.pbf_export`` has
``read_header_block(path)`` (a ``cpdef`` function, not exported), which parses and validates the
first block. It is used here and nowhere else, so a pyrosm upgrade that renames or changes it
breaks this module alone; ``tests/test_source_registry.py::test_pbf_header_adapter_reads_timestamp``
fails loudly when it does, and the build then falls back to the newest element edit date
(see :func:`geo.sources.osm._pbf_date`).
"""

from __future__ import annotations

import os

__all__ = ["replication_timestamp"]


def replication_timestamp(path: str | os.PathLike[str]) -> int:
    """Seconds since the epoch of the PBF's ``osmosis_replication_timestamp`` (0: none given).

    Raises
    ------
    ImportError, AttributeError
        pyrosm no longer has ``pbf_export.read_header_block`` or its header lacks the field.
    pyrosm.exceptions.PBFException
        The file does not start with a valid OSMHeader block.
    """
    from pyrosm.pbf_export import read_header_block  # private: see the module's docstring

    header = read_header_block(os.fspath(path))
    return int(header.osmosis_replication_timestamp or 0)
