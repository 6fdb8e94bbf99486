# Sourced by the benchmark and cluster scripts: a throwaway PostgreSQL
# cluster on 127.0.0.1. Needs the server binaries (scripts/setup.sh) and,
# when run as root, the `postgres` user (initdb refuses root).
#
#   start_postgres DIR PORT   # initdb in DIR/pg, start on PORT, create database "meeloop";
#                             # sets PG_URL and PG_PORT
#   stop_postgres DIR

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    local dir="$1" port="$2" bin
    bin="$(pg_bin)"
    [[ -x "$bin/initdb" ]] || { echo "no PostgreSQL server binaries; run scripts/setup.sh" >&2; return 1; }
    mkdir -p "$dir/pg"
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir/pg"
    as_postgres "$bin/initdb" -D "$dir/pg/data" -A trust -U postgres -E UTF8 --no-locale >/dev/null
    # Enough connections for several instances' pools; fsync stays on.
    as_postgres "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w \
        -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" \
        start >/dev/null
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres meeloop
    PG_URL="postgres://postgres@127.0.0.1:$port/meeloop"
    PG_PORT="$port"
}

stop_postgres() {
    local dir="$1" bin
    bin="$(pg_bin)"
    [[ -d "$dir/pg/data" ]] && as_postgres "$bin/pg_ctl" -D "$dir/pg/data" -m fast stop >/dev/null 2>&1 || true
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
