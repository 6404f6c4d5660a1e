#!/bin/sh
# Seeds the `symbolize` fuzz corpus with small real ELF files built by gcc -g.
# Usage: stackresolve/fuzz/seed.sh   (writes stackresolve/fuzz/corpus/symbolize/, not committed)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/corpus/symbolize"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cat > "$tmp/t.c" <<'C'
#include <stdio.h>
static int counter;
static inline int twice(int x) { return x * 2 + counter; }
__attribute__((noinline)) int leaf(int x) { for (int i = 0; i < x; i++) counter += i % 3; return twice(x); }
int main(int argc, char **argv) { (void)argv; printf("%d\n", leaf(argc)); return 0; }
C
cat > "$tmp/s.c" <<'C'
int shared_value = 3;
static inline int add(int a, int b) { return a + b + shared_value; }
int exported(int x) { return add(x, 1) * 2; }
C
gcc -g -O0 -o "$out/exe-O0" "$tmp/t.c"
gcc -g -O2 -o "$out/exe-O2-inline" "$tmp/t.c"
gcc -g -O2 -gdwarf-4 -o "$out/exe-dwarf4" "$tmp/t.c"
gcc -g -O1 -gz=zlib -o "$out/exe-gz" "$tmp/t.c"
gcc -g -O2 -fPIC -shared -o "$out/lib.so" "$tmp/s.c"
gcc -g -O2 -c -o "$out/obj.o" "$tmp/s.c"
gcc -O2 -s -o "$out/exe-stripped" "$tmp/t.c"
ls -l "$out"
