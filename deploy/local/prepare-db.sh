#!/usr/bin/env bash
# Makes sure a PostgreSQL with PostGIS is there for `make run` and `make test`:
# starts the local cluster when it is down, installs PostGIS from the
# distribution when it is missing, and creates the named databases.
# With DATABASE_URL set (a managed PostgreSQL) it only checks the connection:
# the first migration enables the extensions there.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER

say() { printf 'prepare-db: %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		say "need root to run: $*"; exit 1
	fi
}

if [ -n "${DATABASE_URL:-}" ] && [ "${1:-}" = "--url-only" ]; then
	psql "$DATABASE_URL" -qtAc 'SELECT 1' >/dev/null
	exit 0
fi

if ! pg_isready -q; then
	if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
		ver=$(ls /etc/postgresql | sort -V | tail -n1)
		say "starting PostgreSQL $ver"
		as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
		for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
	fi
	pg_isready -q || { say "no PostgreSQL at $PGHOST:$PGPORT (set DATABASE_URL for a managed one)"; exit 1; }
fi

server_ver=$(psql -qtAc 'SHOW server_version_num' postgres | cut -c1-2)
if [ "$(psql -qtAc "SELECT count(*) FROM pg_available_extensions WHERE name='postgis'" postgres)" = 0 ]; then
	pkg="postgresql-${server_ver}-postgis-3"
	say "installing $pkg"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
fi

for db in "$@"; do
	if [ "$(psql -qtAc "SELECT count(*) FROM pg_database WHERE datname='$db'" postgres)" = 0 ]; then
		say "creating database $db"
		psql -qc "CREATE DATABASE \"$db\"" postgres
	fi
	psql -q -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS btree_gist;' >/dev/null
done
