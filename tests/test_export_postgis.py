"""PostGIS export against a real PostgreSQL + PostGIS server (SYNTHETIC snapshot).

The server comes from ``.ci/setup-postgis.sh`` (which ``.ci/run`` runs before the tests): its DSN is
read from ``$LIVABILITY_PG_DSN`` or ``/tmp/livability-postgis.dsn``. Without a reachable server with
the postgis extension these tests skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from _export_fixtures import REGION, build_snapshot, fake_scores

import geo.export_postgis as ep
from geo.cli import main
from geo.export import ExportError, export
from geo.settings import OSM_ATTRIBUTION

pytestmark = pytest.mark.postgis
#: The tests that talk to a real server are slow (left out of `make test-fast`).
SERVER = pytest.mark.slow

DSN_FILE = Path(os.environ.get("LIVABILITY_PG_DSN_FILE", "/tmp/livability-postgis.dsn"))


def _dsn_or_reason() -> tuple[str | None, str]:
    dsn = os.environ.get("LIVABILITY_PG_DSN", "").strip()
    if not dsn and DSN_FILE.is_file():
        dsn = DSN_FILE.read_text(encoding="utf-8").strip()
    if not dsn:
        return None, (f"no PostGIS server: set LIVABILITY_PG_DSN or run .ci/setup-postgis.sh "
                      f"(writes {DSN_FILE})")
    try:
        import sqlalchemy as sa
    except ImportError:
        return None, "SQLAlchemy/psycopg/GeoAlchemy2 not installed (pip install '.[postgis]')"
    try:
        engine = sa.create_engine(ep.engine_url(dsn), connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT postgis_version()")).scalar()
        engine.dispose()
    except Exception as exc:
        return None, f"PostGIS server at {ep.redact(dsn)} not usable: {str(exc).splitlines()[0]}"
    return dsn, ""


@pytest.fixture(scope="module")
def dsn() -> str:
    value, reason = _dsn_or_reason()
    if value is None:
        pytest.skip(reason)
    return value


@pytest.fixture()
def engine(dsn: str) -> Iterator[Any]:
    import sqlalchemy as sa

    eng = sa.create_engine(ep.engine_url(dsn))
    yield eng
    eng.dispose()


@pytest.fixture()
def schema(engine: Any) -> Iterator[str]:
    import sqlalchemy as sa

    name = f"test_{uuid.uuid4().hex[:10]}"
    yield name
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture()
def snap(tmp_path: Path) -> Any:
    return build_snapshot(tmp_path / "data")


def _count(engine: Any, schema: str, table: str) -> int | None:
    import sqlalchemy as sa

    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": f'"{schema}"."{table}"'}).scalar() is None:
            return None
        return int(conn.execute(sa.text(f'SELECT count(*) FROM "{schema}"."{table}"')).scalar())


def _schema_exists(engine: Any, schema: str) -> bool:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"),
                            {"s": schema}).scalar() is not None


@SERVER
def test_round_trip_indexes_and_metadata(snap: Any, dsn: str, engine: Any, schema: str) -> None:
    import sqlalchemy as sa

    report = export(snap, "postgis", dsn, crs=3006, scores=fake_scores(), schema=schema)
    assert report.counts["schools"] == 3 and report.counts["cell_scores"] == 7
    assert "livability:***@" in report.target or "***" in report.target
    for key in ("schools", "transit", "nature"):
        got = gpd.read_postgis(f'SELECT * FROM "{schema}"."{key}"', engine, geom_col="geometry")
        want = snap.layer(key)
        assert got.crs.to_epsg() == 3006
        assert sorted(got["uid"]) == sorted(want["uid"])
        g = got.to_crs(4326).sort_values("uid")
        w = want.sort_values("uid")
        assert g["name"].tolist() == w["name"].tolist()
        assert g["license"].tolist() == w["license"].tolist()
        for a, b in zip(g.geometry, w.geometry):
            assert shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-6)
    loc = gpd.read_postgis(f'SELECT * FROM "{schema}".locality_scores ORDER BY code', engine,
                           geom_col="geometry")
    assert loc["theme_schools"].tolist() == [80.0, 30.0]
    with engine.connect() as conn:
        idx = dict(conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s"), {"s": schema}).all())
        srid = conn.execute(sa.text(f"SELECT Find_SRID('{schema}', 'transit', 'geometry')")).scalar()
        comment = conn.execute(sa.text("SELECT obj_description(CAST(:t AS regclass))"),
                               {"t": f'"{schema}".transit'}).scalar()
        meta = conn.execute(sa.text(
            f"SELECT table_name, license, attribution, crs FROM \"{schema}\".metadata "
            "WHERE table_name = 'transit'")).one()
    assert srid == 3006
    for table in ("schools", "transit", "nature", "localities", "cell_scores"):
        gist = [d for n, d in idx.items() if f".{table} USING gist" in d]
        assert gist, f"no GIST index on {table}: {idx}"
    assert any("schools USING btree (uid)" in d for d in idx.values())
    assert any("cell_scores USING btree (h3)" in d for d in idx.values())
    assert OSM_ATTRIBUTION in comment
    assert tuple(meta) == ("transit", "ODbL-1.0", OSM_ATTRIBUTION, "EPSG:3006")


@SERVER
def test_replace_and_append(snap: Any, dsn: str, engine: Any, schema: str) -> None:
    export(snap, "postgis", dsn, layers=["schools"], schema=schema)
    export(snap, "postgis", dsn, layers=["schools"], schema=schema, mode="append")
    assert _count(engine, schema, "schools") == 6
    export(snap, "postgis", dsn, layers=["schools"], schema=schema, mode="replace", crs=4326)
    assert _count(engine, schema, "schools") == 3
    got = gpd.read_postgis(f'SELECT * FROM "{schema}".schools', engine, geom_col="geometry")
    assert got.crs.to_epsg() == 4326


@SERVER
def test_failure_midway_rolls_back_everything(snap: Any, dsn: str, engine: Any, schema: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    real = ep.write_postgis_table
    done: list[str] = []

    def flaky(table: Any, conn: Any, sch: str, mode: str) -> None:
        if table.name == "nature":
            raise ep.ExportError("simulated: nature cannot be written")
        real(table, conn, sch, mode)
        done.append(table.name)

    monkeypatch.setattr(ep, "write_postgis_table", flaky)
    # fresh schema: nothing at all is left, not even the schema
    with pytest.raises(ExportError, match="simulated"):
        export(snap, "postgis", dsn, schema=schema)
    assert done == ["schools", "transit"]
    assert not _schema_exists(engine, schema)

    # existing export: the old tables keep their old rows, no new table appears
    monkeypatch.setattr(ep, "write_postgis_table", real)
    export(snap, "postgis", dsn, layers=["schools"], schema=schema)
    monkeypatch.setattr(ep, "write_postgis_table", flaky)
    done.clear()
    with pytest.raises(ExportError):
        export(snap, "postgis", dsn, schema=schema, mode="append")
    assert done == ["schools", "transit"]
    assert _count(engine, schema, "schools") == 3
    assert _count(engine, schema, "transit") is None


@SERVER
def test_sql_error_midway_rolls_back(snap: Any, dsn: str, engine: Any, schema: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A real database error (a column that does not fit) rolls back and is reported clearly."""
    export(snap, "postgis", dsn, layers=["schools"], schema=schema)
    import sqlalchemy as sa

    with engine.begin() as conn:  # make the appended rows clash with the existing table
        conn.execute(sa.text(f'ALTER TABLE "{schema}".localities ADD COLUMN extra integer NOT NULL '
                             "DEFAULT 0"))
        conn.execute(sa.text(f'ALTER TABLE "{schema}".localities ALTER COLUMN extra DROP DEFAULT'))
    with pytest.raises(ExportError, match=r"failed and was rolled back"):
        export(snap, "postgis", dsn, schema=schema, mode="append")
    assert _count(engine, schema, "schools") == 3  # the append before the failure was undone
    assert _count(engine, schema, "transit") is None


@SERVER
def test_replace_keeps_user_views(snap: Any, dsn: str, engine: Any, schema: str) -> None:
    """Replacing a table a planner built a view on fails and rolls back; the view survives."""
    import sqlalchemy as sa

    export(snap, "postgis", dsn, layers=["schools"], schema=schema)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE VIEW "{schema}".my_view AS SELECT uid FROM "{schema}".schools'))
    with pytest.raises(ExportError, match=r"rolled back: .*depend"):
        export(snap, "postgis", dsn, layers=["schools", "transit"], schema=schema)
    assert _count(engine, schema, "my_view") == 3
    assert _count(engine, schema, "transit") is None


@SERVER
def test_cli_postgis(snap: Any, dsn: str, engine: Any, schema: str, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--data-dir", str(tmp_path / "data"), "export", "--region", REGION,
               "--format", "postgis", "--out", dsn, "--schema", schema, "--layers", "transit"])
    assert rc == 0
    out = capsys.readouterr().out
    assert f"{schema}.transit" in out and "livability:livability@" not in out
    assert _count(engine, schema, "transit") == 2


def test_unreachable_server_and_bad_names(snap: Any) -> None:
    """No server needed: errors are clear and hide the password."""
    with pytest.raises(ExportError, match=r"cannot connect to PostgreSQL at .*127.0.0.1:1") as exc:
        export(snap, "postgis", "postgresql://me:secret@127.0.0.1:1/nodb")
    assert "secret" not in str(exc.value) and "me:***@" in str(exc.value)
    with pytest.raises(ExportError, match="not a plain SQL identifier"):
        export(snap, "postgis", "postgresql://me:x@127.0.0.1:1/nodb", schema="bad-name;drop")
    with pytest.raises(ExportError, match="not a PostgreSQL DSN"):
        export(snap, "postgis", "mysql://me:x@host/db")
    with pytest.raises(ExportError, match="mode 'upsert'"):
        export(snap, "postgis", "postgresql://me:x@127.0.0.1:1/nodb", mode="upsert")
