/* A plugin that crashes three calls deep, with an inlined function at the
   faulting instruction. Built by the tests with gcc -g -O2 -shared -fPIC. */
volatile int *volatile null_ptr;
volatile int sink;

static inline __attribute__((always_inline)) void crash_now(int v)
{
    *null_ptr = v; /* MARK:crash */
}

__attribute__((noinline)) static void depth1(int v)
{
    crash_now(v + 1); /* MARK:call_crash */
    sink = v;
}

__attribute__((noinline)) void depth0(int v)
{
    depth1(v * 3); /* MARK:call_depth1 */
    sink = v;
}

int plugin_entry(int v)
{
    depth0(v + 7); /* MARK:call_depth0 */
    return sink;
}
