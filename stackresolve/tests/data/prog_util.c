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
