#!/usr/bin/env bash
# Throughput of minnowd against MariaDB from Debian, both started by this script,
# measured with mariadb-slap over TCP. Prints queries/s and the Minnow/MariaDB ratio
# for: SELECT 1, an insert-heavy workload, a point-select workload; and the cost of
# tracing compiled in but off vs `--debug=d,nothing`.
#
#   bash benches/server-slap.sh            # needs root (apt-get) or MariaDB already installed
#   QUERIES=20000 CONCURRENCY=8 ITERATIONS=3 bash benches/server-slap.sh
set -euo pipefail

QUERIES=${QUERIES:-20000}
CONCURRENCY=${CONCURRENCY:-8}
ITERATIONS=${ITERATIONS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/minnow-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v mariadbd >/dev/null || ! command -v mariadb-slap >/dev/null; then
    echo "installing mariadb-server and mariadb-client from Debian..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq mariadb-server mariadb-client >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ready() { # port
    for _ in $(seq 1 200); do
        mariadb -h127.0.0.1 -P"$1" -uroot --protocol=TCP -e 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server on port $1 did not start" >&2; return 1
}

sql() { mariadb -h127.0.0.1 -P"$1" -uroot --protocol=TCP -e "$2"; }

# slap PORT QUERY [QUERIES] -> queries per second
slap() {
    local port=$1 query=$2 n=${3:-$QUERIES}
    local out
    out=$(mariadb-slap -h127.0.0.1 -P"$port" -uroot --protocol=TCP \
        --concurrency="$CONCURRENCY" --iterations="$ITERATIONS" \
        --query="$query" --number-of-queries="$n" --create-schema=slap 2>&1)
    local secs
    secs=$(echo "$out" | awk '/Average number of seconds/ {print $(NF-1)}')
    if [ -z "$secs" ]; then echo "mariadb-slap failed: $out" >&2; return 1; fi
    python3 -c "print(round($n / max($secs, 1e-9)))"
}

prepare_schema() { # port
    sql "$1" "DROP DATABASE IF EXISTS slap; CREATE DATABASE slap;
              CREATE TABLE slap.t1 (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64));"
    local values
    values=$(python3 -c "print(','.join(\"('row%d')\" % i for i in range(1000)))")
    for _ in $(seq 1 10); do sql "$1" "INSERT INTO slap.t1 (v) VALUES $values;"; done
}

start_minnow() { # port datadir extra-args...
    local port=$1 dir=$2; shift 2
    "$ROOT/target/release/minnowd" --datadir="$dir" --port="$port" --socket="$dir.sock" \
        --skip-stack-trace --log-error="$dir.err" "$@" &
    PIDS+=($!)
    wait_ready "$port"
}

echo "building minnowd (release)..."
(cd "$ROOT" && cargo build --release -q -p minnow-server --bin minnowd)

# MariaDB
MPORT=$(free_port)
mkdir -p "$WORK/maria"
mariadb-install-db --no-defaults --datadir="$WORK/maria" --user="$(id -un)" \
    --auth-root-authentication-method=normal >/dev/null 2>&1
mariadbd --no-defaults --datadir="$WORK/maria" --port="$MPORT" --bind-address=127.0.0.1 \
    --socket="$WORK/maria.sock" --user="$(id -un)" --skip-grant-tables \
    --log-error="$WORK/maria.err" --pid-file="$WORK/maria.pid" &
PIDS+=($!)
wait_ready "$MPORT"

NPORT=$(free_port)
start_minnow "$NPORT" "$WORK/minnow"

for p in "$MPORT" "$NPORT"; do prepare_schema "$p"; done

# The two servers run alternately, best of ROUNDS each: the machine is shared,
# and a burst of load from elsewhere should not decide the ratio.
ROUNDS=${ROUNDS:-3}
declare -A R
best() { # label workload port query [queries]
    local v
    v=$(slap "$3" "$4" "${5:-$QUERIES}")
    if [ -z "${R[$1,$2]:-}" ] || [ "$v" -gt "${R[$1,$2]}" ]; then R[$1,$2]=$v; fi
}
for _ in $(seq 1 "$ROUNDS"); do
    for target in "mariadb $MPORT" "minnow $NPORT"; do
        set -- $target
        best "$1" select1 "$2" "SELECT 1"
        best "$1" insert "$2" "INSERT INTO t1 (v) VALUES ('bench')" $((QUERIES / 4))
        best "$1" point "$2" "SELECT v FROM t1 WHERE id = 4321"
    done
done

# Tracing compiled in but off vs --debug=d,nothing
DPORT=$(free_port)
start_minnow "$DPORT" "$WORK/minnow-debug" --debug=d,nothing
sql "$DPORT" "CREATE DATABASE slap"
# Alternate the two servers and keep the best of three runs each: the machine is shared.
OFF=0; ON=0
for _ in 1 2 3; do
    o=$(slap "$NPORT" "SELECT 1"); [ "$o" -gt "$OFF" ] && OFF=$o
    d=$(slap "$DPORT" "SELECT 1"); [ "$d" -gt "$ON" ] && ON=$d
done

# Deterministic companion to the throughput numbers: server instructions per
# `SELECT 1` (user space, callgrind), tracing off vs --debug=d,nothing.
ir_per_query() { # extra-args...
    command -v valgrind >/dev/null || { echo "n/a"; return; }
    local port dir n=2000
    port=$(free_port); dir=$(mktemp -d "$WORK/ir.XXXX")
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$ROOT/target/release/minnowd" \
        --datadir="$dir/data" --port="$port" --socket="$dir/s.sock" --skip-stack-trace \
        --log-error="$dir/err" "$@" >"$dir/vg.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 300); do sql "$port" "CREATE DATABASE slap" 2>/dev/null && break; sleep 0.2; done
    local q=(-h127.0.0.1 -P"$port" -uroot --protocol=TCP --concurrency=1 --iterations=1 --query='SELECT 1' --create-schema=slap)
    mariadb-slap "${q[@]}" --number-of-queries=100 >/dev/null
    callgrind_control -z "$pid" >/dev/null 2>&1
    mariadb-slap "${q[@]}" --number-of-queries="$n" >/dev/null
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 1
    local total
    total=$(grep -h "^summary:\|^totals:" "$dir"/cg.out.* 2>/dev/null | awk '{s+=$2} END {print s}')
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 -c "print(round($total / $n))"
}
IR_OFF=$(ir_per_query)
IR_ON=$(ir_per_query --debug=d,nothing)

ratio() { python3 -c "print(f'{$1 / max($2, 1):.2f}')"; }
echo
printf '%-22s %12s %12s %8s\n' workload mariadb minnow ratio
for w in select1 insert point; do
    printf '%-22s %12s %12s %7sx\n' "$w" "${R[mariadb,$w]}" "${R[minnow,$w]}" "$(ratio "${R[minnow,$w]}" "${R[mariadb,$w]}")"
done
echo
echo "tracing off:            $OFF q/s"
echo "--debug=d,nothing:      $ON q/s"
python3 -c "print(f'debug=d,nothing cost:  {100 * (1 - $ON / $OFF):.1f} % (target <= 3 %)')"
echo "instructions/query, off:            $IR_OFF"
echo "instructions/query, d,nothing:      $IR_ON"
python3 -c "print(f'd,nothing cost (instructions): {100 * ($IR_ON / $IR_OFF - 1):.1f} %')" 2>/dev/null || true
echo "target: select1 ratio >= 1.0"
