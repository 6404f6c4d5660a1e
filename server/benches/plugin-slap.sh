#!/usr/bin/env bash
# Throughput cost of audit plugins on the `SELECT 1` workload, measured with
# mariadb-slap over TCP against one minnowd: no plugin, + audit_null,
# + audit_null + conn_ip_filter (plugins installed/uninstalled between rounds on the
# same server). Prints queries/s and the ratio to the no-plugin run (target: each
# plugin costs <= 3 %).
#
#   bash server/benches/plugin-slap.sh                # release build
#   PROFILE=debug QUERIES=5000 bash server/benches/plugin-slap.sh
set -euo pipefail
QUERIES=${QUERIES:-20000}
CONCURRENCY=${CONCURRENCY:-8}
ROUNDS=${ROUNDS:-3}
PROFILE=${PROFILE:-release}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
flag=(); [ "$PROFILE" = release ] && flag=(--release)
cargo build -q "${flag[@]}" -p minnow-server --bin minnowd
WORK=$(mktemp -d /tmp/minnow-pslap.XXXXXX)
bash examples/plugins/collect.sh "$WORK/data/plugin" "${flag[@]}" >/dev/null
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TARGET/$PROFILE/minnowd" --datadir="$WORK/data" --port="$PORT" --socket= --log-error="$WORK/err.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do mariadb -h127.0.0.1 -P"$PORT" -uroot --protocol=TCP -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
sql() { mariadb -h127.0.0.1 -P"$PORT" -uroot --protocol=TCP -e "$1"; }
slap() { # one run: queries/s
    local s
    s=$(mariadb-slap -h127.0.0.1 -P"$PORT" -uroot --protocol=TCP --create-schema=mysql \
        --query='SELECT 1' --concurrency="$CONCURRENCY" --number-of-queries="$QUERIES" |
        awk '/Average number of seconds/ {print $(NF-1)}')
    python3 -c "print(int($QUERIES/$s))"
}
# The configurations alternate within each round (the machine is shared: load
# drifts); the best of ROUNDS is kept for each.
b0=0; b1=0; b2=0
for _ in $(seq 1 "$ROUNDS"); do
    q=$(slap); [ "$q" -gt "$b0" ] && b0=$q
    sql "INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'"
    q=$(slap); [ "$q" -gt "$b1" ] && b1=$q
    sql "INSTALL PLUGIN conn_ip_filter SONAME 'libconn_ip_filter.so'"
    q=$(slap); [ "$q" -gt "$b2" ] && b2=$q
    sql "UNINSTALL PLUGIN conn_ip_filter; UNINSTALL PLUGIN audit_null"
done
echo "no plugin:                     $b0 q/s"
echo "audit_null:                    $b1 q/s  ratio $(python3 -c "print(round($b1/$b0,3))")"
echo "audit_null + conn_ip_filter:   $b2 q/s  ratio $(python3 -c "print(round($b2/$b0,3))")"
