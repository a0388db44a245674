#!/usr/bin/env bash
# CI service: a local PostgreSQL server with PostGIS for tests/test_export_postgis.py.
#
# Installs the Debian packages `postgresql` and `postgis` when missing, starts a cluster on
# localhost, creates the database `livability_test` with the postgis extension and a password
# login, and writes its DSN to /tmp/livability-postgis.dsn (override: LIVABILITY_PG_DSN_FILE).
# Never fails CI: when apt, the packages or the server are unavailable it says why and exits 0,
# and the PostGIS tests skip with that reason.
set -u

DSN_FILE="${LIVABILITY_PG_DSN_FILE:-/tmp/livability-postgis.dsn}"
DB="livability_test"
ROLE="livability"
PASS="livability"
PORT="${LIVABILITY_PG_PORT:-5432}"

skip() { echo "setup-postgis: $* -- PostGIS tests will skip"; rm -f "$DSN_FILE"; exit 0; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi
}
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  elif [ "$(id -un)" = postgres ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n -u postgres "$@"
  else return 1; fi
}

pg_bin() {  # newest installed server's bin folder
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

have_postgis() {
  local v
  v="$(basename "$(dirname "$(pg_bin)")" 2>/dev/null)"
  [ -n "$v" ] && ls /usr/share/postgresql/"$v"/extension/postgis.control >/dev/null 2>&1
}

# 1. packages
if [ -z "$(pg_bin)" ] || ! have_postgis; then
  command -v apt-get >/dev/null 2>&1 || skip "apt-get not available and PostgreSQL/PostGIS not installed"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >/dev/null 2>&1 || echo "setup-postgis: apt-get update failed, trying install anyway"
  as_root apt-get install -y -qq postgresql postgis >/dev/null 2>&1 \
    || skip "apt-get install postgresql postgis failed (no root or no package archive)"
  have_postgis || skip "postgis extension files not found after install"
fi
BIN="$(pg_bin)"
VER="$(basename "$(dirname "$BIN")")"

# 2. server
if ! "$BIN/pg_isready" -q -h localhost -p "$PORT" 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | awk '{print $1,$2}' | grep -q "^$VER main$"; then
    as_root pg_ctlcluster "$VER" main start >/dev/null 2>&1 || as_postgres pg_ctlcluster "$VER" main start \
      || skip "could not start cluster $VER/main"
  else
    DATA="/tmp/livability-pg-$VER"
    if [ ! -f "$DATA/PG_VERSION" ]; then
      as_root mkdir -p "$DATA" && as_root chown postgres "$DATA" || skip "cannot create $DATA"
      as_postgres "$BIN/initdb" -D "$DATA" -A trust >/dev/null || skip "initdb failed"
    fi
    as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -o "-p $PORT -k /tmp -c listen_addresses=localhost" -w start >/dev/null \
      || skip "pg_ctl start failed (see $DATA/server.log)"
  fi
  for _ in $(seq 1 30); do "$BIN/pg_isready" -q -h localhost -p "$PORT" && break; sleep 0.5; done
  "$BIN/pg_isready" -q -h localhost -p "$PORT" || skip "server did not become ready on localhost:$PORT"
fi

# 3. role, database, extension (idempotent)
psql_pg() { as_postgres "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -p "$PORT" -h /var/run/postgresql "$@" 2>/dev/null \
            || as_postgres "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -p "$PORT" -h /tmp "$@"; }
psql_pg -d postgres -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='$ROLE') THEN CREATE ROLE $ROLE LOGIN PASSWORD '$PASS'; END IF; END\$\$;" \
  || skip "could not create role $ROLE"
if ! psql_pg -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
  psql_pg -d postgres -c "CREATE DATABASE $DB OWNER $ROLE" || skip "could not create database $DB"
fi
psql_pg -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS postgis" || skip "could not create extension postgis in $DB"

DSN="postgresql+psycopg://$ROLE:$PASS@localhost:$PORT/$DB"
printf '%s\n' "$DSN" > "$DSN_FILE"
echo "setup-postgis: PostgreSQL $VER with PostGIS ready; DSN written to $DSN_FILE"
exit 0
