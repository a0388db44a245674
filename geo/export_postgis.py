"""PostGIS writer of :mod:`geo.export`: every table in ONE transaction, into a named schema.

SQLAlchemy 2 + psycopg 3 + GeoAlchemy2 (the ``postgis`` extra). A failure at any point rolls the
whole export back: the schema, the tables and the ``metadata`` rows appear together or not at all.
"""

from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, unquote

from .export_bundle import ExportBundle, ExportError, ExportTable
from .export_files import ExportedItem

if TYPE_CHECKING:  # SQLAlchemy is an optional extra (postgis), imported when a PostGIS export runs
    from sqlalchemy.engine import URL, Connection

__all__ = ["MODES", "connection_keywords", "engine_url", "redact", "scrub", "write_postgis",
           "write_postgis_table"]

log = logging.getLogger(__name__)

MODES: tuple[str, ...] = ("replace", "append")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PG_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)
_KW_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE)
#: What follows the user info of a URL: host (or [IPv6]), optional /database, optional k=v query.
_AUTH_TAIL = re.compile(r"^(\[[^\]]*\]|[^/?#@\[\]]*)(/[^?#@]*)?(\?[^=&#]+=[^&#]*(&[^=&#]+=[^&#]*)*)?$")
_HINT = "use --out postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or 'host=... dbname=...')"


def _split_url(dsn: str) -> tuple[str, str | None, str] | None:
    """``(scheme, userinfo, rest)`` of a URL DSN (userinfo None when absent); None for keywords.

    The user info ends at the first ``@`` after which comes a plain ``host[:port][/db][?k=v&...]``,
    so a password holding ``@``, ``/`` or ``?`` stays whole instead of leaking into the host name,
    as a plain URL parser would split it (``user:pa@ss@host/db``: host ``ss@host``).
    """
    m = _SCHEME.match(dsn)
    if m is None:
        return None
    body = dsn[m.end():]
    ats = [i for i, c in enumerate(body) if c == "@"]
    if not ats:
        return m.group(1), None, body
    at = next((i for i in ats if _AUTH_TAIL.match(body[i + 1:])), ats[-1])
    return m.group(1), body[:at], body[at + 1:]


def _secrets(dsn: str) -> set[str]:
    """Every spelling of every password in ``dsn`` (and ``$PGPASSWORD``), to scrub from text."""
    found: set[str] = set()
    parts = _split_url(dsn)
    if parts is not None:
        if parts[1] is not None and ":" in parts[1]:
            found.add(parts[1].partition(":")[2])
        query = parts[2].partition("?")[2]
        found.update(v for k, v in parse_qsl(query, keep_blank_values=True)
                     if k.lower() == "password")
        found.update(m.group(0).partition("=")[2] for m in _QUERY_PASSWORD.finditer(parts[2]))
    else:
        for m in _KW_PASSWORD.finditer(dsn):
            raw = m.group(2)
            found.update({raw, raw.strip("'"), raw.strip("'").replace("\\'", "'")})
    env = os.environ.get("PGPASSWORD")
    if env:
        found.add(env)
    found |= {unquote(f) for f in found} | {quote(f, safe="") for f in found}
    return {f for f in found if len(f) >= 3}


def scrub(text: str, dsn: str) -> str:
    """``text`` with every password of ``dsn`` (and ``$PGPASSWORD``) replaced by ``***``."""
    for secret in sorted(_secrets(dsn), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def redact(dsn: str) -> str:
    """``dsn`` with its password replaced by ``***`` (for messages and reports).

    Handles ``postgresql://user:pa@ss@host/db``, ``?password=...`` in the query, the keyword form
    ``host=x password=secret dbname=y`` and ``$PGPASSWORD``.

    >>> redact("postgresql://me:pa@ss@db.example/x?sslmode=require&password=pa@ss")
    'postgresql://me:***@db.example/x?sslmode=require&password=***'
    >>> redact("host=db password='s e cret' dbname=x")
    'host=db password=*** dbname=x'
    """
    parts = _split_url(dsn)
    if parts is None:
        shown = _KW_PASSWORD.sub(lambda m: m.group(1) + "***", dsn)
    else:
        scheme, userinfo, rest = parts
        if userinfo is not None:
            user, sep, _ = userinfo.partition(":")
            rest = f"{user}{':***' if sep else ''}@{rest}"
        shown = _QUERY_PASSWORD.sub(lambda m: m.group(1) + "***", f"{scheme}://{rest}")
    return scrub(shown, dsn)


def connection_keywords(dsn: str) -> dict[str, str]:
    """libpq connection keywords of ``dsn``, a URL or keyword/value form.

    Parsed by ``psycopg.conninfo.conninfo_to_dict`` (libpq's own rules), after the URL's user
    info is percent-encoded so a password with ``@``, ``/`` or ``:`` parses whole.
    """
    dsn = dsn.strip()
    parts = _split_url(dsn)
    if parts is not None:
        scheme, userinfo, rest = parts
        if scheme.lower() not in _PG_SCHEMES:
            raise ExportError(f"{redact(dsn)!r} is not a PostgreSQL DSN; {_HINT}")
        if userinfo is not None:
            user, sep, password = userinfo.partition(":")
            enc = quote(unquote(user), safe="")
            if sep:
                enc += ":" + quote(unquote(password), safe="")
            rest = f"{enc}@{rest}"
        text = f"postgresql://{rest}"
    elif "=" in dsn:
        text = dsn
    else:
        raise ExportError(f"{redact(dsn)!r} is not a PostgreSQL DSN; {_HINT}")
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ExportError("PostGIS export needs SQLAlchemy, psycopg and GeoAlchemy2: "
                          "pip install '.[postgis]'") from exc
    try:
        return {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
    except Exception as exc:  # libpq's message may quote the string: scrub it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"{redact(dsn)!r} is not a valid PostgreSQL DSN ({scrub(first, dsn)}); "
                          f"{_HINT}") from None


def engine_url(dsn: str) -> URL:
    """SQLAlchemy URL (psycopg 3) for ``dsn``; the password is a URL field, hidden when shown."""
    from sqlalchemy.engine import URL

    kw = connection_keywords(dsn)
    user, password, database = kw.pop("user", None), kw.pop("password", None), kw.pop("dbname", None)
    host, port = kw.get("host"), kw.get("port")
    if host and "," not in host and "/" not in host and (port is None or port.isdigit()):
        kw.pop("host")
        kw.pop("port", None)
    else:
        host = port = None
    return URL.create("postgresql+psycopg", username=user, password=password, host=host,
                      port=int(port) if port else None, database=database, query=kw)


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def write_postgis_table(table: ExportTable, conn: Connection, schema: str, mode: str) -> None:
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
                          f"rolled back: {scrub(str(exc), dsn)}") from exc
    except Exception as exc:  # SQLAlchemy wraps most errors; COPY raises psycopg's own
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = scrub(first, dsn)
        if not connected:
            raise ExportError(f"cannot connect to PostgreSQL at {redact(dsn)}: {first}. Check "
                              "host, port, database and credentials in --out") from exc
        raise ExportError(f"PostGIS export to {redact(dsn)} (schema {schema}) failed and was "
                          f"rolled back: {first}") from exc
    finally:
        engine.dispose()
    log.info("PostGIS export: %d tables into %s at %s", len(items), schema, redact(dsn))
    return items
