#include <string.h>
struct pt { int x, y; };
static int add_pt(struct pt *p) { return p->x + p->y; }
static inline int clamp(int v) { if (v < 0) return 0; if (v > 100) return 100; return v; }
int util_sum(int *v, int n) {
    int s = 0;
    for (int i = 0; i < n; i++) { struct pt p = { v[i], i }; s += clamp(add_pt(&p)); }
    return s;
}
static int __attribute__((noinline)) mixer(int a, int b, int c) { return (a ^ b) + c * strlen("abc"); }
int util_mix(int a, int b) { return mixer(a, b, 3) + mixer(b, a, 3); }
/* Data for the variable lookups binutils does at data symbols. */
int util_counter = 3;
static long util_table[4] = { 1, 2, 3, 4 };
const char util_name[] = "util";
int util_bss;
int util_next(int i)
{
    static int calls = 7;
    calls += i;
    util_bss += calls;
    return util_counter + (int)util_table[i & 3] + util_name[i & 3] + calls;
}
