#!/bin/sh
# Seeds the `packet` fuzz corpus with a few well-formed client packets.
# The first byte selects the decoder (see fuzz_targets/packet.rs).
# Usage: server/fuzz/seed.sh   (writes server/fuzz/corpus/packet/, not committed)
set -eu
out="$(cd "$(dirname "$0")" && pwd)/corpus/packet"
mkdir -p "$out"
# COM_QUERY
printf '\000\003SELECT 1' > "$out/query"
# COM_STMT_EXECUTE, 2 parameters (selector 2*2): stmt 1, no cursor, 1 iteration,
# null bitmap 0, types bound: LONGLONG, VAR_STRING; values 42 and "abc".
printf '\004\027\001\000\000\000\000\001\000\000\000\000\001\010\000\375\000\052\000\000\000\000\000\000\000\003abc' > "$out/execute"
# COM_STMT_SEND_LONG_DATA, COM_SET_OPTION, COM_PROCESS_KILL
printf '\000\030\001\000\000\000\000\000data' > "$out/long-data"
printf '\000\033\001\000' > "$out/set-option"
printf '\000\014\007\000\000\000' > "$out/kill"
# HandshakeResponse41: CLIENT_PROTOCOL_41|SECURE_CONNECTION|CONNECT_WITH_DB|PLUGIN_AUTH|CONNECT_ATTRS,
# max packet, charset 33, 23 filler bytes, user, 20-byte token, db, plugin, attributes.
{
  printf '\001'
  printf '\010\202\030\000' # capabilities 0x00188208 (little-endian)
  printf '\000\000\000\001\041'
  printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
  printf 'root\000'
  printf '\024abcdefghijklmnopqrst'
  printf 'test\000'
  printf 'mysql_native_password\000'
  printf '\012\004_pid\0041234'
} > "$out/handshake"
ls -l "$out"
