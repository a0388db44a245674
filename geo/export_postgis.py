"""PostGIS writer of :mod:`geo.export`: every table in ONE transaction, into a named schema.

SQLAlchemy 2 + psycopg 3 + GeoAlchemy2 (the ``postgis`` extra). A failure at any point rolls the
whole export back: the schema, the tables and the ``metadata`` rows appear together or not at all.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from .export_bundle import ExportBundle, ExportError, ExportTable
from .export_files import ExportedItem

__all__ = ["MODES", "engine_url", "redact", "write_postgis", "write_postgis_table"]

log = logging.getLogger(__name__)

MODES: tuple[str, ...] = ("replace", "append")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def engine_url(dsn: str) -> str:
    """SQLAlchemy URL using psycopg 3 for ``dsn`` (``postgresql://``, ``postgres://`` or explicit)."""
    dsn = dsn.strip()
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix):]
    for prefix in ("postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix):]
    raise ExportError(f"{redact(dsn)!r} is not a PostgreSQL DSN; use "
                      "--out postgresql://USER:PASSWORD@HOST:PORT/DATABASE")


def redact(dsn: str) -> str:
    """``dsn`` with its password replaced by ``***`` (for messages and reports)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def write_postgis_table(table: ExportTable, conn: Any, schema: str, mode: str) -> None:
    """Write one table through ``conn`` (inside the caller's transaction) and index it."""
    from sqlalchemy import text

    exists = conn.execute(text("SELECT to_regclass(:n)"),
                          {"n": f"{_q(schema)}.{_q(table.name)}"}).scalar() is not None
    if exists and mode == "replace":
        # no CASCADE: a planner's view on the table makes the export fail (and roll back)
        # rather than silently dropping their view
        conn.execute(text(f"DROP TABLE {_q(schema)}.{_q(table.name)}"))
    if table.is_geo:
        table.frame.to_postgis(table.name, conn, schema=schema, if_exists="append", index=False)
        has_gist = conn.execute(text(
            "SELECT 1 FROM pg_indexes WHERE schemaname = :s AND tablename = :t "
            "AND indexdef ILIKE '%USING gist (geometry)%'"), {"s": schema, "t": table.name}).first()
        if has_gist is None:  # GeoAlchemy2 normally creates idx_<table>_geometry itself
            conn.execute(text(
                f"CREATE INDEX {_q(table.name + '_geometry_gist')} "
                f"ON {_q(schema)}.{_q(table.name)} USING GIST (geometry)"))
    else:
        table.frame.to_sql(table.name, conn, schema=schema, if_exists="append", index=False)
    if table.key_column and table.key_column in table.frame:
        conn.execute(text(
            f"CREATE INDEX IF NOT EXISTS {_q(table.name + '_' + table.key_column + '_idx')} "
            f"ON {_q(schema)}.{_q(table.name)} ({_q(table.key_column)})"))
    comment = f"{table.title}. {table.attribution}".replace("'", "''")
    conn.execute(text(f"COMMENT ON TABLE {_q(schema)}.{_q(table.name)} IS '{comment}'"))


def write_postgis(bundle: ExportBundle, dsn: str, *, schema: str = "livability",
                  mode: str = "replace") -> list[ExportedItem]:
    """Write every table of ``bundle`` plus ``metadata`` into ``schema`` in one transaction.

    Parameters
    ----------
    bundle
        What to write.
    dsn
        ``postgresql://user:password@host:port/database``.
    schema
        Target schema, created when missing.
    mode
        ``replace`` drops and recreates each exported table; ``append`` adds rows (tables are
        created when missing; columns must match).

    Raises
    ------
    ExportError
        Bad schema name or mode, unreachable server, or a failed write (everything rolled back).
    """
    try:
        import sqlalchemy as sa
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ExportError("PostGIS export needs SQLAlchemy, psycopg and GeoAlchemy2: "
                          "pip install '.[postgis]'") from exc
    if mode not in MODES:
        raise ExportError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if not _IDENT.match(schema):
        raise ExportError(f"schema name {schema!r} is not a plain SQL identifier "
                          "(letters, digits, underscore; not starting with a digit)")
    url = engine_url(dsn)
    engine = sa.create_engine(url, connect_args={"connect_timeout": 10})
    tables = [*bundle.tables,
              ExportTable("metadata", bundle.metadata_frame(), "metadata", "Export metadata")]
    items: list[ExportedItem] = []
    connected = False
    try:
        with engine.begin() as conn:
            connected = True
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}"))
            for t in tables:
                write_postgis_table(t, conn, schema, mode)
                items.append(ExportedItem(t.name, len(t.frame), f"{schema}.{t.name}"))
    except ExportError as exc:
        raise ExportError(f"PostGIS export to {redact(dsn)} (schema {schema}) failed and was "
                          f"rolled back: {exc}") from exc
    except Exception as exc:  # SQLAlchemy wraps most errors; COPY raises psycopg's own
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not connected:
            raise ExportError(f"cannot connect to PostgreSQL at {redact(dsn)}: {first}. Check "
                              "host, port, database and credentials in --out") from exc
        raise ExportError(f"PostGIS export to {redact(dsn)} (schema {schema}) failed and was "
                          f"rolled back: {first}") from exc
    finally:
        engine.dispose()
    log.info("PostGIS export: %d tables into %s at %s", len(items), schema, redact(dsn))
    return items
