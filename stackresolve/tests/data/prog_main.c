#include <stdio.h>
#include <stdlib.h>
extern int util_sum(int *v, int n);
extern int util_mix(int a, int b);
extern int extra_apply(int, int, int);
extern int extra_fib(int);
static int __attribute__((noinline)) helper(int x, int y) {
    int r = 0;
    for (int i = 0; i < x; i++) r += (i * y) ^ (r >> 3);
    return r;
}
static inline int square(int x) { return x * x; }
static inline int twice(int x) { return square(x) + square(x + 1); }
int compute(int a) {
    int s = 0;
    for (int i = 0; i < a; i++) { s += twice(i); if (s > 1000) s -= helper(i, 3); }
    return s;
}
static int __attribute__((noinline)) konst(int a, int b) { return a * 7 + b / (a ? a : 1) + helper(b, a); }
int main(int argc, char **argv) {
    int v[8];
    for (int i = 0; i < 8; i++) v[i] = argc * i;
    printf("%d %d %d %d\n", compute(argc * 10), util_sum(v, 8), konst(argc, 5), util_mix(argc, atoi(argv[0])));
    return extra_apply(argc, 3, 4) + extra_fib(argc) > 1000;
}
