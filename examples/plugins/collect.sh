#!/usr/bin/env bash
# Builds every example plugin and copies the shared objects into one directory, to
# be used as the server's plugin_dir:
#
#   bash examples/plugins/collect.sh [DIR] [cargo build flags...]
#   bash examples/plugins/collect.sh target/plugins --release
#
# DIR defaults to target/plugins. Artifacts are located from cargo's JSON messages,
# so CARGO_TARGET_DIR and profiles are honoured.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-target/plugins}
shift || true
mkdir -p "$dir"
rust=(audit_null conn_ip_filter daemon_heartbeat is_example protocol_trace crashme auth_test)
c=(udf_example crashme_c)
args=()
for p in "${rust[@]}" "${c[@]}"; do args+=(-p "$p"); done
cargo build "${args[@]}" "$@" --message-format=json-render-diagnostics |
python3 -c '
import json, os, shutil, sys
dest = sys.argv[1]
c_crates = set(sys.argv[2].split(","))
copied = []
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and "cdylib" in m["target"]["kind"]:
        for f in m["filenames"]:
            if f.endswith(".so"):
                shutil.copy2(f, dest); copied.append(os.path.basename(f))
    elif m.get("reason") == "build-script-executed":
        if any(c in m["package_id"] for c in c_crates):
            for f in os.listdir(m["out_dir"]):
                if f.endswith(".so"):
                    shutil.copy2(os.path.join(m["out_dir"], f), dest); copied.append(f)
print("copied to %s: %s" % (dest, " ".join(sorted(set(copied)))))
' "$dir" "$(IFS=,; echo "${c[*]}")"
