#!/usr/bin/env bash
# Throughput cost of audit plugins on the `SELECT 1` workload of issue 5, measured with
# mariadb-slap over TCP against one release minnowd:
#   mariadb-slap --concurrency=8 --iterations=3 --query='SELECT 1' --number-of-queries=20000
# with no plugin, with audit_null, and with audit_null + conn_ip_filter (plugins
# installed/uninstalled between runs on the same server). The three configurations
# alternate within each round (the machine is shared: load drifts); the script prints
# every run, then per configuration the median (and best) queries/s, the ratio of the
# medians to the no-plugin run and each plugin's own cost against the target of
# issue 5 (each plugin costs <= 3 % throughput).
#
#   bash server/benches/plugin-slap.sh
#   ROUNDS=7 QUERIES=20000 bash server/benches/plugin-slap.sh
#   PROFILE=debug QUERIES=5000 ROUNDS=3 bash server/benches/plugin-slap.sh
#   MINNOWD=/path/minnowd PLUGINS=/path/plugin-dir bash server/benches/plugin-slap.sh
#     (another build, e.g. an older commit: its minnowd and a directory holding its
#     libaudit_null.so and libconn_ip_filter.so)
# Needs mariadb-client (mariadb, mariadb-slap).
set -euo pipefail
QUERIES=${QUERIES:-20000}
CONCURRENCY=${CONCURRENCY:-8}
ITERATIONS=${ITERATIONS:-3}
ROUNDS=${ROUNDS:-5}
PROFILE=${PROFILE:-release}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
flag=(); [ "$PROFILE" = release ] && flag=(--release)
WORK=$(mktemp -d /tmp/minnow-pslap.XXXXXX)
if [ -z "${MINNOWD:-}" ]; then
    cargo build -q "${flag[@]}" -p minnow-server --bin minnowd
    TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    MINNOWD=$TARGET/$PROFILE/minnowd
fi
if [ -z "${PLUGINS:-}" ]; then
    bash examples/plugins/collect.sh "$WORK/data/plugin" "${flag[@]}" >/dev/null
else
    mkdir -p "$WORK/data/plugin"
    cp "$PLUGINS"/libaudit_null.so "$PLUGINS"/libconn_ip_filter.so "$WORK/data/plugin/"
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$MINNOWD" --datadir="$WORK/data" --port="$PORT" --socket= --log-error="$WORK/err.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do mariadb -h127.0.0.1 -P"$PORT" -uroot --protocol=TCP -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
sql() { mariadb -h127.0.0.1 -P"$PORT" -uroot --protocol=TCP -e "$1"; }
slap() { # one run: queries/s (mariadb-slap averages its iterations)
    local s
    s=$(mariadb-slap -h127.0.0.1 -P"$PORT" -uroot --protocol=TCP --create-schema=mysql \
        --query='SELECT 1' --concurrency="$CONCURRENCY" --iterations="$ITERATIONS" \
        --number-of-queries="$QUERIES" |
        awk '/Average number of seconds/ {print $(NF-1)}')
    python3 -c "print(int($QUERIES/$s))"
}
r0=(); r1=(); r2=()
for round in $(seq 1 "$ROUNDS"); do
    q0=$(slap)
    sql "INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'"
    q1=$(slap)
    sql "INSTALL PLUGIN conn_ip_filter SONAME 'libconn_ip_filter.so'"
    q2=$(slap)
    sql "UNINSTALL PLUGIN conn_ip_filter; UNINSTALL PLUGIN audit_null"
    r0+=("$q0"); r1+=("$q1"); r2+=("$q2")
    echo "round $round: none $q0  audit_null $q1  audit_null+conn_ip_filter $q2 q/s"
done
python3 - "${r0[*]}" "${r1[*]}" "${r2[*]}" <<'PY'
import statistics, sys
runs = [list(map(int, a.split())) for a in sys.argv[1:4]]
med = [statistics.median(r) for r in runs]
best = [max(r) for r in runs]
names = ["no plugin", "audit_null", "audit_null + conn_ip_filter"]
print(f"SELECT 1 throughput, median (best) of {len(runs[0])} alternating rounds:")
for i, n in enumerate(names):
    extra = "" if i == 0 else f"  ratio {med[i] / med[0]:.3f} (best {best[i] / best[0]:.3f})"
    print(f"  {n + ':':30}{med[i]:>9.0f} q/s ({best[i]} q/s){extra}")
def cost(a, b):  # throughput lost going from a to b, in %
    return (1 - med[b] / med[a]) * 100
for label, a, b in [("audit_null", 0, 1), ("conn_ip_filter (on top of audit_null)", 1, 2)]:
    c = cost(a, b)
    print(f"  cost of {label}: {c:+.1f} %  (target <= 3 %: {'met' if c <= 3 else 'NOT met'})")
PY
