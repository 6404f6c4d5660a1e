#!/bin/sh
# Instruction counts (valgrind callgrind) of one simulated server statement under
# `dbug::Layer` (see dbug/examples/layer_overhead.rs), per control string, and DBUG's
# overhead against no debug string. Load independent. Usage: dbug/benches/callgrind.sh [N]
set -eu
N=${1:-20000}
cd "$(dirname "$0")/../.."
cargo build --release -q -p dbug --example layer_overhead
BIN=target/release/examples/layer_overhead
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" "$2" 2>&1 >/dev/null |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
per() { # control -> instructions per iteration
    a=$(ir 0 "$1"); b=$(ir "$N" "$1")
    echo $(( (b - a) / N ))
}
base=$(per none)
echo "no debug string: $base instructions/statement"
for c in "d,nothing" "d,nothing:t:f,nothing"; do
    v=$(per "$c")
    echo "$c: $v instructions/statement, +$((v - base)) over no debug string" \
        "(server: $(( (v - base) * 1000 / 13277 / 10 )).$(( (v - base) * 1000 / 13277 % 10 )) % of its 13,277 instructions per SELECT 1)"
done
