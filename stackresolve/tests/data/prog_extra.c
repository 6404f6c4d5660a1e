/* Third compilation unit: switch tables, recursion, function pointers,
   a header-style inline from another "file" via #line. */
#include <stdlib.h>
typedef int (*op_fn)(int, int);
static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }
static op_fn ops[] = { op_add, op_sub, op_mul };
#line 100 "virtual_header.h"
static inline int vh_scale(int v, int k) {
    if (k == 0) return v;
    return v * k + (v >> k);
}
#line 15 "prog_extra.c"
int extra_classify(int x) {
    switch (x & 7) {
    case 0: return vh_scale(x, 1);
    case 1: return vh_scale(x, 2) + 1;
    case 2: return x * 3;
    case 3: return x ^ 0x55;
    case 4: return -x;
    case 5: return x / 3;
    default: return vh_scale(x, x & 3);
    }
}
int extra_fib(int n) { return n < 2 ? n : extra_fib(n - 1) + extra_fib(n - 2); }
int extra_apply(int which, int a, int b) { return ops[which % 3](a, b) + extra_classify(a); }
