#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the shared-store (DuckLake) tests.
#   tests/postgres_server.sh start DIR PORT   # initdb in DIR (once), start on 127.0.0.1:PORT
#   tests/postgres_server.sh stop DIR         # stop it (the files stay in DIR)
# User `scribe`, trust authentication, listening on 127.0.0.1 only (no other host can
# connect). PostgreSQL refuses to run as root: as root it runs as user `postgres`.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2
    exit 1
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
case "$cmd" in
start)
    port=${3:?usage: $0 start DIR PORT}
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
        # postgres must reach DIR: let it through the parents (search only, no listing).
        parent=$(dirname "$dir")
        while [ "$parent" != / ]; do
            chmod o+x "$parent" 2>/dev/null || true
            parent=$(dirname "$parent")
        done
    fi
    chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir" -A trust -U scribe -E UTF8 --no-locale >"$dir.initdb.log" 2>&1 \
            || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=300" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    if [ -f "$dir/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    fi
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
