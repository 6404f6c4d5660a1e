#!/usr/bin/env bash
# Throughput cost of audit plugins on the `SELECT 1` workload of issue 5, measured with
# mariadb-slap over TCP against one release minnowd:
#   mariadb-slap --concurrency=8 --iterations=3 --query='SELECT 1' --number-of-queries=20000
# with no plugin, with audit_null, and with audit_null + conn_ip_filter (plugins
# installed/uninstalled between runs on the same server). Each round runs the three
# configurations in an order that rotates from round to round (the machine is shared:
# load drifts). Per run it records queries/s and the server's CPU time (user + system,
# from /proc) per query, which includes the kernel's TCP work and is far less
# sensitive to other processes than queries/s. It prints every run, then per
# configuration the medians, their ratios to the no-plugin run and each plugin's own
# cost against the target of issue 5 (each plugin costs <= 3 % throughput).
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
cpu_ticks() { # the server's user + system CPU time so far, in clock ticks
    awk '{print $14 + $15}' "/proc/$PID/stat"
}
slap() { # one run: "queries/s server-CPU-µs-per-query" (mariadb-slap averages its iterations)
    local s t0 t1
    t0=$(cpu_ticks)
    s=$(mariadb-slap -h127.0.0.1 -P"$PORT" -uroot --protocol=TCP --create-schema=mysql \
        --query='SELECT 1' --concurrency="$CONCURRENCY" --iterations="$ITERATIONS" \
        --number-of-queries="$QUERIES" |
        awk '/Average number of seconds/ {print $(NF-1)}')
    t1=$(cpu_ticks)
    python3 -c "print(int($QUERIES/$s), round(($t1-$t0)/$(getconf CLK_TCK)*1e6/($QUERIES*$ITERATIONS), 2))"
}
state=0 # 0 no plugin, 1 audit_null, 2 audit_null + conn_ip_filter
setup() { # install/uninstall to reach configuration $1
    local want=$1
    while [ "$state" -lt "$want" ]; do
        case $state in
        0) sql "INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'" ;;
        1) sql "INSTALL PLUGIN conn_ip_filter SONAME 'libconn_ip_filter.so'" ;;
        esac
        state=$((state + 1))
    done
    while [ "$state" -gt "$want" ]; do
        case $state in
        2) sql "UNINSTALL PLUGIN conn_ip_filter" ;;
        1) sql "UNINSTALL PLUGIN audit_null" ;;
        esac
        state=$((state - 1))
    done
}
r=("" "" ""); c=("" "" "")
for round in $(seq 1 "$ROUNDS"); do
    # The order rotates from round to round, so no configuration always runs first.
    line="round $round:"
    for k in 0 1 2; do
        cfg=$(((round + k) % 3))
        setup "$cfg"
        read -r q u < <(slap)
        r[cfg]="${r[cfg]} $q"; c[cfg]="${c[cfg]} $u"
        line="$line  [$cfg] $q q/s $u µs"
    done
    echo "$line"
done
setup 0
python3 - "${r[0]}" "${r[1]}" "${r[2]}" "${c[0]}" "${c[1]}" "${c[2]}" <<'PY'
import statistics, sys
runs = [list(map(int, a.split())) for a in sys.argv[1:4]]
cpus = [list(map(float, a.split())) for a in sys.argv[4:7]]
med = [statistics.median(r) for r in runs]
best = [max(r) for r in runs]
cpu = [statistics.median(r) for r in cpus]
names = ["no plugin", "audit_null", "audit_null + conn_ip_filter"]
print(f"SELECT 1, [0] {names[0]}, [1] {names[1]}, [2] {names[2]}; medians of {len(runs[0])} rotating rounds:")
for i, n in enumerate(names):
    extra = "" if i == 0 else (
        f"  ratio {med[i] / med[0]:.3f} (best {best[i] / best[0]:.3f}), CPU ratio {cpu[i] / cpu[0]:.3f}")
    print(f"  {n + ':':30}{med[i]:>9.0f} q/s (best {best[i]}), server CPU {cpu[i]:.2f} µs/query{extra}")
for label, a, b in [("audit_null", 0, 1), ("conn_ip_filter (on top of audit_null)", 1, 2)]:
    t = (1 - med[b] / med[a]) * 100
    u = (cpu[b] / cpu[a] - 1) * 100
    print(f"  cost of {label}: throughput {t:+.1f} %, server CPU per query {u:+.1f} %"
          f"  (target <= 3 %: {'met' if max(t, u) <= 3 else 'met by CPU' if u <= 3 else 'NOT met'})")
PY
