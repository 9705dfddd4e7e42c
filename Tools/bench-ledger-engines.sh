#!/usr/bin/env bash
# Burst ingest into the ledger on SQLite against PostgreSQL on this machine, with one coordinator's
# write path and with three at once (PostgreSQL only: a SQLite ledger has one coordinator).
# PostgreSQL is Debian's package, started in a temporary directory on a loopback port, as the tests
# start it, and removed afterwards. Figures go to docs/ledger.md.
#
#   swift build -c release --product quantfleet
#   bash Tools/bench-ledger-engines.sh [BIN_DIR (default .build/release)] [WINDOWS (default 100000)] [BATCH (default 100)]
set -euo pipefail

bin="${1:-.build/release}/quantfleet"
windows="${2:-100000}"
batch="${3:-100}"
pg_bin=/usr/lib/postgresql/15/bin
[ -x "$bin" ] || { echo "no $bin: swift build -c release --product quantfleet" >&2; exit 1; }
[ -x "$pg_bin/initdb" ] || { echo "no PostgreSQL 15 in $pg_bin: apt-get install postgresql" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-ledger-engines.XXXXXX)
chmod 755 "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# PostgreSQL refuses to run as root.
as_server=()
if [ "$(id -u)" = 0 ]; then as_server=(runuser -u postgres --); chown postgres "$work"; fi
"${as_server[@]}" "$pg_bin/initdb" -D "$work/data" -U bench --auth=trust >/dev/null
"${as_server[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
    -o "-p $port -k $work -c listen_addresses=127.0.0.1" start >/dev/null
trap '"${as_server[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null; rm -rf "$work"' EXIT
psql() { "$pg_bin/psql" -h 127.0.0.1 -p "$port" -U bench -d postgres -qAt -c "$1"; }

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores;" \
    "PostgreSQL $(psql 'SHOW server_version' | cut -d' ' -f1) on 127.0.0.1; $windows windows, $batch per transaction"
run() {
    local label=$1 db=$2 writers=$3
    local last
    last=$("$bin" ledger bench --db "$db" --writers "$writers" --batch "$batch" --checkpoints "$windows" | tail -1)
    echo "$label | $writers | $last"
}
echo "engine | coordinators | windows | windows/s | rows/s | evaluation (ms) | read (ms) | judge (ms) | ledger MB"
run SQLite "$work/ledger.sqlite" 1
for writers in 1 3; do
    psql "CREATE DATABASE bench_$writers"
    run PostgreSQL "postgres://bench@127.0.0.1:$port/bench_$writers?sslmode=disable" "$writers"
done
