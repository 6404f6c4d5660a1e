#!/usr/bin/env bash
# server-slap.sh: throughput of minnowd against a private MariaDB, both started by this
# script on 127.0.0.1 and driven over TCP by mariadb-slap in one run.
#
# What it measures (queries/s = number of queries / slap's "Average number of seconds"):
#   select1  mariadb-slap --concurrency=8 --iterations=3 --query='SELECT 1'
#            --number-of-queries=20000 --create-schema=slap        (target: Minnow >= 1.0x MariaDB)
#   insert   single-row autocommit INSERTs into a real table (AUTO_INCREMENT primary key,
#            secondary column values), row count checked afterwards on both servers
#   point    primary-key point SELECTs on a 10000-row table, ids drawn at random (a slap
#            query file of 2000 distinct statements that every client cycles through)
#   debug    minnowd without --debug vs minnowd --debug=d,nothing on select1 (DEBUG_QUERIES
#            queries a run), the two servers alternated DEBUG_ROUNDS times (target: <= 3 % apart)
# For each figure it also prints the server's own CPU time per query (utime+stime from
# /proc/PID/stat), less sensitive than q/s to other load on a shared machine, and the load
# average before and after. With CALLGRIND=1 (default; installs valgrind if missing) it also
# counts minnowd's user-space instructions per SELECT 1 command and per connection, without and
# with --debug=d,nothing, under callgrind: the one tracing-cost figure that load cannot blur.
#
# Durability is matched: minnowd runs SQLite in WAL mode with synchronous=NORMAL (no fsync
# per commit), so MariaDB runs with --innodb-flush-log-at-trx-commit=2 (no fsync per commit).
#
# Run (as root: it installs mariadb-server/mariadb-client with apt-get when missing and runs
# mariadbd with --user=root):
#   bash benches/server-slap.sh
#   QUERIES=20000 CONCURRENCY=8 ITERATIONS=3 ROUNDS=2 bash benches/server-slap.sh
# Knobs: QUERIES (select1/point), INSERTS (insert), CONCURRENCY, ITERATIONS, ROUNDS (each
# server/workload pair is run ROUNDS times, alternating, best kept), DEBUG_ROUNDS, DEBUG_QUERIES,
# CALLGRIND (1/0), SLAP_TIMEOUT (seconds per mariadb-slap call), CARGO_TARGET_DIR (honoured).
# Builds minnowd in release first (not timed); the measuring part takes about 1-3 minutes and is
# bounded by SLAP_TIMEOUT per call.
# Everything (datadirs, sockets, logs) lives in one temp dir removed on exit, with both servers.
set -euo pipefail

QUERIES=${QUERIES:-20000}
INSERTS=${INSERTS:-8000}
CONCURRENCY=${CONCURRENCY:-8}
ITERATIONS=${ITERATIONS:-3}
ROUNDS=${ROUNDS:-2}
DEBUG_ROUNDS=${DEBUG_ROUNDS:-6}
DEBUG_QUERIES=${DEBUG_QUERIES:-60000}
SLAP_TIMEOUT=${SLAP_TIMEOUT:-120}
CALLGRIND=${CALLGRIND:-1}
POINT_ROWS=10000

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
MINNOWD=$TARGET_DIR/release/minnowd
WORK=$(mktemp -d /tmp/minnow-slap.XXXXXX)
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "server-slap: $*" >&2; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------- prerequisites
if ! command -v mariadbd >/dev/null || ! command -v mariadb-slap >/dev/null \
    || ! command -v mariadb-install-db >/dev/null; then
    echo "installing mariadb-server and mariadb-client..."
    [ "$(id -u)" = 0 ] || die "mariadb-server/mariadb-client missing and not root: install them"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq mariadb-server mariadb-client >/dev/null
fi
command -v python3 >/dev/null || die "python3 is needed (free ports, arithmetic)"
if [ "$CALLGRIND" = 1 ] && ! command -v callgrind_control >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing valgrind (instruction counts)..."
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
    else
        echo "valgrind missing and not root: instruction counts skipped"; CALLGRIND=0
    fi
fi

echo "building minnowd (release, target dir $TARGET_DIR)..."
(cd "$ROOT" && cargo build --release -q -p minnow-server --bin minnowd)
[ -x "$MINNOWD" ] || die "no $MINNOWD after the build"

# ---------------------------------------------------------------- helpers
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# client PORT ARGS...: the mariadb client over TCP as root, no password
client() {
    local port=$1; shift
    mariadb --no-defaults -h127.0.0.1 -P"$port" --protocol=TCP -uroot --connect-timeout=5 "$@"
}
sql() { client "$1" -e "$2"; }
sql_value() { client "$1" -N -B -e "$2"; }

# wait_ready PORT PID LOG: until the server answers SELECT 1 (max 60 s)
wait_ready() {
    local port=$1 pid=$2 log=$3
    for _ in $(seq 1 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "server (pid $pid) exited during startup; its log:" >&2
            cat "$log" >&2 || true
            exit 1
        fi
        client "$port" -e 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    cat "$log" >&2 || true
    die "server on port $port did not answer within 60 s"
}

# cpu_ticks PID: utime+stime of the whole process, in clock ticks
cpu_ticks() {
    # field 2 (comm) may contain spaces: cut after the closing parenthesis
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
    stat=${stat##*) }
    # after "comm", fields start at 3 (state); utime=14, stime=15 -> positions 12 and 13
    echo "$stat" | awk '{print $12 + $13}'
}
CLK_TCK=$(getconf CLK_TCK)

FAILURES=()
# slap NAME PORT PID N ARGS...: runs mariadb-slap, sets QPS and CPU_US (server CPU per query);
# on failure records it in FAILURES and sets QPS=FAIL.
slap() {
    local name=$1 port=$2 pid=$3 n=$4; shift 4
    local out rc=0 t0 t1 secs
    t0=$(cpu_ticks "$pid")
    out=$(timeout "$SLAP_TIMEOUT" mariadb-slap --no-defaults -h127.0.0.1 -P"$port" --protocol=TCP \
        -uroot --concurrency="$CONCURRENCY" --iterations="$ITERATIONS" \
        --number-of-queries="$n" --create-schema=slap "$@" 2>&1) || rc=$?
    t1=$(cpu_ticks "$pid")
    secs=$(echo "$out" | awk '/Average number of seconds/ {print $(NF-1)}')
    # mariadb-slap exits 0 even when its clients cannot connect or a query fails: any line
    # of its own ("mariadb-slap: Error when connecting...", "...Cannot run query...") fails it
    if [ "$rc" != 0 ] || [ -z "$secs" ] || echo "$out" | grep -q '^mariadb-slap:'; then
        [ "$rc" = 124 ] && out="timed out after ${SLAP_TIMEOUT}s; $out"
        FAILURES+=("$name: mariadb-slap exit $rc: $(echo "$out" | grep -v '^\s' | sort -u | head -5 | tr '\n' ' ')")
        QPS=FAIL; CPU_US=-
        return 0
    fi
    # every client runs n / concurrency queries (integer division)
    local done=$(( n / CONCURRENCY * CONCURRENCY ))
    QPS=$(python3 -c "print(round($done / max($secs, 1e-9)))")
    CPU_US=$(python3 -c "print(f'{($t1 - $t0) * 1e6 / $CLK_TCK / max($done * $ITERATIONS, 1):.1f}')")
}

ratio() {
    if [ "$1" = FAIL ] || [ "$2" = FAIL ]; then echo "-"; return; fi
    python3 -c "print(f'{$1 / max($2, 1):.2f}x')"
}
best() { # best of two q/s figures, FAIL losing
    if [ "$1" = FAIL ]; then echo "$2"; elif [ "$2" = FAIL ]; then echo "$1";
    elif [ "$1" -ge "$2" ]; then echo "$1"; else echo "$2"; fi
}

# ---------------------------------------------------------------- servers
LOAD_START=$(load)
echo "load average at start: $LOAD_START ($(nproc) CPUs)"

MPORT=$(free_port)
mkdir -p "$WORK/maria"
mariadb-install-db --no-defaults --user=root --datadir="$WORK/maria" \
    --auth-root-authentication-method=normal --skip-test-db >"$WORK/maria-install.log" 2>&1 \
    || { cat "$WORK/maria-install.log" >&2; die "mariadb-install-db failed"; }
mariadbd --no-defaults --user=root --datadir="$WORK/maria" --socket="$WORK/maria.sock" \
    --port="$MPORT" --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin \
    --pid-file="$WORK/maria.pid" --log-error="$WORK/maria.err" \
    --innodb-flush-log-at-trx-commit=2 --max-connections=200 >"$WORK/maria.out" 2>&1 &
MPID=$!
PIDS+=("$MPID")

# start_minnow DIR ARGS...: sets NPORT_OUT and NPID_OUT; --port=0 and the port read back from
# the error log, so there is no race for a free port
LAUNCH=()
start_minnow() {
    local dir=$1; shift
    mkdir -p "$dir"
    "${LAUNCH[@]}" "$MINNOWD" --datadir="$dir/data" --port=0 --bind-address=127.0.0.1 \
        --socket="$dir/minnowd.sock" --log-error="$dir/error.log" "$@" &
    NPID_OUT=$!
    PIDS+=("$NPID_OUT")
    NPORT_OUT=
    for _ in $(seq 1 600); do
        NPORT_OUT=$(sed -n "s/.*Server socket created on IP: '[^']*', port: '\([0-9]*\)'.*/\1/p" \
            "$dir/error.log" 2>/dev/null | tail -1) || true
        [ -n "$NPORT_OUT" ] && break
        kill -0 "$NPID_OUT" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$NPORT_OUT" ] || { cat "$dir/error.log" >&2 || true; die "minnowd did not report its port"; }
    wait_ready "$NPORT_OUT" "$NPID_OUT" "$dir/error.log"
}

start_minnow "$WORK/minnow"
NPORT=$NPORT_OUT; NPID=$NPID_OUT
wait_ready "$MPORT" "$MPID" "$WORK/maria.err"

echo "MariaDB: $(sql_value "$MPORT" 'SELECT VERSION()') on port $MPORT (pid $MPID)"
echo "minnowd: $(sql_value "$NPORT" 'SELECT VERSION()') on port $NPORT (pid $NPID), $MINNOWD"

# ---------------------------------------------------------------- schema and data
# The same statements on both servers; a failure is reported and ends the run.
INSERT_ROWS=$(python3 -c "
import random
random.seed(7)
print(','.join(\"(%d, 'value-%d')\" % (random.randrange(1 << 30), i) for i in range(1000)))")
prepare() { # port
    local port=$1
    sql "$port" "DROP DATABASE IF EXISTS slap; CREATE DATABASE slap;" \
        || die "creating database slap on port $port failed"
    sql "$port" "CREATE TABLE slap.ins (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                 k INT NOT NULL, v VARCHAR(64) NOT NULL);
             CREATE TABLE slap.pt (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                 k INT NOT NULL, v VARCHAR(64) NOT NULL);" \
        || die "creating tables on port $port failed"
    for _ in $(seq 1 $((POINT_ROWS / 1000))); do
        sql "$port" "INSERT INTO slap.pt (k, v) VALUES $INSERT_ROWS;" \
            || die "loading slap.pt on port $port failed"
    done
}
prepare "$MPORT"
prepare "$NPORT"
for p in "$MPORT" "$NPORT"; do
    got=$(sql_value "$p" "SELECT COUNT(*), MIN(id), MAX(id) FROM slap.pt")
    [ "$(echo "$got" | tr -s '\t ' ' ')" = "$POINT_ROWS 1 $POINT_ROWS" ] \
        || die "slap.pt on port $p: COUNT/MIN/MAX = '$got', expected '$POINT_ROWS 1 $POINT_ROWS'"
done
m=$(sql_value "$MPORT" "SELECT id, k, v FROM slap.pt WHERE id = 4321")
n=$(sql_value "$NPORT" "SELECT id, k, v FROM slap.pt WHERE id = 4321")
[ "$m" = "$n" ] || die "point select differs: MariaDB '$m' vs minnowd '$n'"

# 2000 point selects with random ids; mariadb-slap reads a --query that names a file.
python3 -c "
import random
random.seed(11)
print(';'.join('SELECT k, v FROM pt WHERE id = %d' % random.randint(1, $POINT_ROWS) for _ in range(2000)))" \
    >"$WORK/point.sql"

# ---------------------------------------------------------------- workloads
declare -A QPS_OF CPU_OF
run_workload() { # label port pid workload
    local label=$1 port=$2 pid=$3 w=$4
    case $w in
        select1) slap "$label/$w" "$port" "$pid" "$QUERIES" --query='SELECT 1' ;;
        insert) slap "$label/$w" "$port" "$pid" "$INSERTS" \
            --query="INSERT INTO ins (k, v) VALUES (12345, 'minnow-bench-row')" ;;
        point) slap "$label/$w" "$port" "$pid" "$QUERIES" --query="$WORK/point.sql" --delimiter=';' ;;
    esac
    echo "  $label $w: $QPS q/s, server CPU $CPU_US us/query"
    local prev=${QPS_OF[$label,$w]:-FAIL}
    QPS_OF[$label,$w]=$(best "$prev" "$QPS")
    if [ "${QPS_OF[$label,$w]}" = "$QPS" ]; then CPU_OF[$label,$w]=$CPU_US; fi
    : "${CPU_OF[$label,$w]:=-}"
}

echo "warming up both servers..."
for srv in "mariadb $MPORT $MPID" "minnow $NPORT $NPID"; do
    read -r label port pid <<<"$srv"
    slap "$label/warm-up" "$port" "$pid" 4000 --query='SELECT 1'
    slap "$label/warm-up" "$port" "$pid" 4000 --query="$WORK/point.sql" --delimiter=';'
done
echo "measuring (concurrency $CONCURRENCY, iterations $ITERATIONS, rounds $ROUNDS)..."
for w in select1 insert point; do
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then
            run_workload mariadb "$MPORT" "$MPID" "$w"; run_workload minnow "$NPORT" "$NPID" "$w"
        else
            run_workload minnow "$NPORT" "$NPID" "$w"; run_workload mariadb "$MPORT" "$MPID" "$w"
        fi
    done
done
# every INSERT of every round must have landed
for p in "$MPORT" "$NPORT"; do
    rows=$(sql_value "$p" "SELECT COUNT(*) FROM slap.ins WHERE k = 12345 AND v = 'minnow-bench-row'")
    want=$((INSERTS / CONCURRENCY * CONCURRENCY * ITERATIONS * ROUNDS))
    [ "$rows" = "$want" ] || FAILURES+=("insert on port $p: $rows rows in slap.ins, expected $want")
done

# ---------------------------------------------------------------- tracing cost
echo "tracing: minnowd without --debug vs --debug=d,nothing, $DEBUG_ROUNDS alternated rounds..."
start_minnow "$WORK/minnow-debug" --debug=d,nothing
DPORT=$NPORT_OUT; DPID=$NPID_OUT
sql "$DPORT" "CREATE DATABASE IF NOT EXISTS slap" || die "CREATE DATABASE on minnowd --debug failed"
slap "minnow --debug=d,nothing/warm-up" "$DPORT" "$DPID" 4000 --query='SELECT 1'
OFF_ALL=(); ON_ALL=(); OFF_CPU=(); ON_CPU=()
for r in $(seq 1 "$DEBUG_ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
    for which in $order; do
        if [ "$which" = off ]; then
            slap "minnow/select1" "$NPORT" "$NPID" "$DEBUG_QUERIES" --query='SELECT 1'
            OFF_ALL+=("$QPS"); OFF_CPU+=("$CPU_US")
        else
            slap "minnow --debug=d,nothing/select1" "$DPORT" "$DPID" "$DEBUG_QUERIES" --query='SELECT 1'
            ON_ALL+=("$QPS"); ON_CPU+=("$CPU_US")
        fi
    done
    echo "  round $r: off ${OFF_ALL[-1]} q/s (${OFF_CPU[-1]} us), d,nothing ${ON_ALL[-1]} q/s (${ON_CPU[-1]} us)"
done

# ---------------------------------------------------------------- instructions (callgrind)
# q/s on a shared 2-core machine moves by more than 3 %, so the tracing cost is also measured
# as user-space instructions, which other load does not change: minnowd runs under callgrind,
# counters are zeroed, SELECT 1 is run N1 then N2 times (CONCURRENCY connections each), and
# (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of one command without the connection setup.
IR_N1=4000; IR_N2=24000
declare -A IR_CMD IR_CONN
callgrind_ir() { # label minnowd-args...
    local label=$1; shift
    local dir=$WORK/cg-${label//[^a-z]/_} saved_iter=$ITERATIONS ir1 ir2 k
    LAUNCH=(valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out")
    start_minnow "$dir" "$@" 2>"$WORK/valgrind-${label//[^a-z]/_}.log"
    LAUNCH=()
    sql "$NPORT_OUT" "CREATE DATABASE IF NOT EXISTS slap" || die "CREATE DATABASE under valgrind failed"
    ITERATIONS=1
    slap "$label/callgrind warm-up" "$NPORT_OUT" "$NPID_OUT" 1000 --query='SELECT 1'
    k=0
    for n in $IR_N1 $IR_N2; do
        k=$((k + 1))
        callgrind_control -z "$NPID_OUT" >/dev/null 2>&1
        slap "$label/callgrind" "$NPORT_OUT" "$NPID_OUT" "$n" --query='SELECT 1'
        callgrind_control -d "$NPID_OUT" >/dev/null 2>&1
        for _ in $(seq 1 100); do grep -q '^totals:' "$dir/cg.out.$k" 2>/dev/null && break; sleep 0.1; done
    done
    ITERATIONS=$saved_iter
    kill -TERM "$NPID_OUT" 2>/dev/null || true
    ir1=$(awk '/^totals:/ {print $2}' "$dir/cg.out.1" 2>/dev/null || true)
    ir2=$(awk '/^totals:/ {print $2}' "$dir/cg.out.2" 2>/dev/null || true)
    if [ -z "$ir1" ] || [ -z "$ir2" ]; then
        FAILURES+=("$label/callgrind: no totals in $dir/cg.out.1/.2")
        IR_CMD[$label]=-; IR_CONN[$label]=-
        return 0
    fi
    local cmd=$(( (ir2 - ir1) / (IR_N2 - IR_N1) ))
    local conn=$(( (ir1 - IR_N1 * cmd) / CONCURRENCY ))
    IR_CMD[$label]=$cmd; IR_CONN[$label]=$conn
    echo "  $label: $cmd instructions/command, $conn instructions/connection"
}
if [ "$CALLGRIND" = 1 ]; then
    echo "instruction counts under callgrind (SELECT 1, $IR_N1 and $IR_N2 queries)..."
    callgrind_ir off
    callgrind_ir d,nothing --debug=d,nothing
fi
LOAD_END=$(load)

# ---------------------------------------------------------------- report
echo
echo "== minnowd vs MariaDB over TCP, mariadb-slap concurrency $CONCURRENCY, iterations $ITERATIONS" \
    "(best of $ROUNDS alternated runs)"
printf '%-9s %8s %14s %14s %9s %16s %16s\n' workload queries "MariaDB q/s" "Minnow q/s" ratio \
    "MariaDB us/q cpu" "Minnow us/q cpu"
for w in select1 insert point; do
    n=$QUERIES; [ "$w" = insert ] && n=$INSERTS
    n=$(( n / CONCURRENCY * CONCURRENCY ))
    printf '%-9s %8s %14s %14s %9s %16s %16s\n' "$w" "$n" "${QPS_OF[mariadb,$w]}" \
        "${QPS_OF[minnow,$w]}" "$(ratio "${QPS_OF[minnow,$w]}" "${QPS_OF[mariadb,$w]}")" \
        "${CPU_OF[mariadb,$w]}" "${CPU_OF[minnow,$w]}"
done
echo "target: select1 ratio >= 1.00x"
echo
python3 - "${OFF_ALL[*]}" "${ON_ALL[*]}" "${OFF_CPU[*]}" "${ON_CPU[*]}" <<'EOF'
import statistics, sys
def nums(s):
    return [float(x) for x in s.split() if x not in ("FAIL", "-")]
off, on, offc, onc = (nums(a) for a in sys.argv[1:5])
print("== tracing compiled in: minnowd without --debug vs --debug=d,nothing (SELECT 1, "
      f"{len(off)} alternated runs each)")
if not off or not on:
    print("no complete measurement (see failures)")
    sys.exit(0)
mo, mn = statistics.median(off), statistics.median(on)
bo, bn = max(off), max(on)
print(f"median q/s: off {mo:.0f}, d,nothing {mn:.0f}  -> cost {100 * (1 - mn / mo):+.1f} %")
print(f"best q/s:   off {bo:.0f}, d,nothing {bn:.0f}  -> cost {100 * (1 - bn / bo):+.1f} %")
if offc and onc:
    co, cn = statistics.median(offc), statistics.median(onc)
    print(f"median server CPU per query: off {co:.1f} us, d,nothing {cn:.1f} us"
          f" -> cost {100 * (cn / co - 1):+.1f} %")
print("target: <= 3 % difference")
EOF
if [ "$CALLGRIND" = 1 ] && [ "${IR_CMD[off]}" != - ] && [ "${IR_CMD[d,nothing]}" != - ]; then
    echo
    echo "== instructions per SELECT 1 command in minnowd (callgrind, user space, load-independent)"
    printf '%-22s %14s %18s\n' minnowd instr/command instr/connection
    printf '%-22s %14s %18s\n' "without --debug" "${IR_CMD[off]}" "${IR_CONN[off]}"
    printf '%-22s %14s %18s\n' "--debug=d,nothing" "${IR_CMD[d,nothing]}" "${IR_CONN[d,nothing]}"
    python3 -c "print(f'd,nothing cost: {100 * (${IR_CMD[d,nothing]} / ${IR_CMD[off]} - 1):+.1f} % instructions per command (target <= 3 %)')"
fi
echo
echo "load average: start $LOAD_START, end $LOAD_END ($(nproc) CPUs; other jobs share them)"
if [ "${#FAILURES[@]}" -gt 0 ]; then
    echo
    echo "FAILURES:"
    for f in "${FAILURES[@]}"; do echo "  $f"; done
    exit 1
fi
