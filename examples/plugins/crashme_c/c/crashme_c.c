/*
 * crashme_c.c -- the C half of crashme: UDFs and an audit hook that crash on demand,
 * for the crash tests and the README's crash-and-resolve walkthrough. Built with -g.
 *
 *   CREATE FUNCTION crash_segv RETURNS INTEGER SONAME 'libcrashme_c.so';   -- SIGSEGV
 *   CREATE FUNCTION crash_abort RETURNS INTEGER SONAME 'libcrashme_c.so';  -- SIGABRT
 *   CREATE FUNCTION crash_fpe RETURNS INTEGER SONAME 'libcrashme_c.so';    -- SIGFPE
 *   CREATE FUNCTION crash_stack RETURNS INTEGER SONAME 'libcrashme_c.so';  -- stack overflow
 *   INSTALL PLUGIN crashme_c SONAME 'libcrashme_c.so';
 *     -- then a statement containing crashme_c:segv / :abort / :fpe / :stack, or the
 *     -- DBUG keywords crashme_c_segv / crashme_c_abort / crashme_c_fpe / crashme_c_stack
 *   INSTALL PLUGIN crashme_sighandler SONAME 'libcrashme_c.so';
 *     -- replaces the SIGSEGV handler at init (the host reports it in the error log)
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "minnow_plugin.h"

volatile int crashme_zero = 0;
volatile int *crashme_null = NULL;

__attribute__((noinline)) int crashme_segv_now(void) { return *crashme_null = 42; }

__attribute__((noinline)) int crashme_fpe_now(void) { return 42 / crashme_zero; }

__attribute__((noinline)) int crashme_abort_now(void) {
  abort();
  return 0;
}

volatile int crashme_stack_limit = 0x7fffffff; /* never reached: the stack ends first */

__attribute__((noinline)) int crashme_stack_now(int depth) {
  volatile char buf[512];
  buf[depth % 512] = (char)depth;
  if (depth >= crashme_stack_limit) return buf[0];
  return crashme_stack_now(depth + 1) + buf[(depth + 1) % 512];
}

/* ---- UDFs ------------------------------------------------------------------ */
#define CRASH_UDF(name, body)                                                     \
  bool name##_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {            \
    (void)initid;                                                                \
    (void)args;                                                                  \
    (void)message;                                                               \
    return 0;                                                                    \
  }                                                                              \
  long long name(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null,       \
                 unsigned char *error) {                                         \
    (void)initid;                                                                \
    (void)args;                                                                  \
    (void)is_null;                                                               \
    (void)error;                                                                 \
    return body;                                                                 \
  }

CRASH_UDF(crash_segv, crashme_segv_now())
CRASH_UDF(crash_fpe, crashme_fpe_now())
CRASH_UDF(crash_abort, crashme_abort_now())
CRASH_UDF(crash_stack, crashme_stack_now(0))

/* ---- audit hook --------------------------------------------------------------- */
struct crashme_ctx {
  const minnow_services *svc;
  long long events;
};

static int crashme_init(const minnow_services *svc, void **ctx) {
  struct crashme_ctx *c = calloc(1, sizeof(*c));
  if (!c) return 1;
  c->svc = svc;
  *ctx = c;
  static const char msg[] = "crashme_c: loaded";
  svc->log_error(svc->handle, 2, msg, sizeof(msg) - 1);
  return 0;
}

static int crashme_deinit(void *ctx) {
  free(ctx);
  return 0;
}

static int has(const minnow_str *q, const char *needle) {
  size_t n = strlen(needle);
  if (!q->str || q->length < n) return 0;
  for (size_t i = 0; i + n <= q->length; i++)
    if (memcmp(q->str + i, needle, n) == 0) return 1;
  return 0;
}

static int crashme_notify(void *ctx, uint32_t event_class, const void *event) {
  struct crashme_ctx *c = ctx;
  const minnow_services *s = c->svc;
  void *h = s->handle;
  s->dbug_enter(h, "crashme_notify", __FILE__, __LINE__);
  c->events++;
  if (event_class == MINNOW_AUDIT_GENERAL_CLASS) {
    const struct minnow_audit_general_event *e = event;
    if (e->event_subclass == MINNOW_AUDIT_GENERAL_STARTING) {
      static const char m[] = "checking the statement";
      s->dbug_print(h, "crashme_notify", __FILE__, __LINE__, "info", m, sizeof(m) - 1);
      if (has(&e->query, "crashme_c:segv") || s->dbug_execute_if(h, "crashme_c_segv")) crashme_segv_now();
      if (has(&e->query, "crashme_c:abort") || s->dbug_execute_if(h, "crashme_c_abort")) crashme_abort_now();
      if (has(&e->query, "crashme_c:fpe") || s->dbug_execute_if(h, "crashme_c_fpe")) crashme_fpe_now();
      if (has(&e->query, "crashme_c:stack") || s->dbug_execute_if(h, "crashme_c_stack")) crashme_stack_now(0);
      if (has(&e->query, "crashme_c:veto")) {
        s->dbug_return(h, "crashme_notify", __FILE__, __LINE__);
        return 1;
      }
    }
  }
  s->dbug_return(h, "crashme_notify", __FILE__, __LINE__);
  return 0;
}

static const minnow_status_var crashme_status[] = {{"events", MINNOW_VALUE_INT, 0}};

static int crashme_show_status(void *ctx, uint32_t index, minnow_value *out) {
  struct crashme_ctx *c = ctx;
  if (index != 0) return 1;
  out->value_type = MINNOW_VALUE_INT;
  out->int_val = c->events;
  return 0;
}

static struct minnow_audit crashme_audit = {MINNOW_AUDIT_INTERFACE_VERSION,
                                            MINNOW_AUDIT_GENERAL_CLASSMASK, crashme_notify};

/* ---- a daemon that replaces the SIGSEGV handler (the host must notice) ---------- */
static void crashme_own_handler(int sig) {
  signal(sig, SIG_DFL);
  raise(sig);
}

static int sighandler_init(const minnow_services *svc, void **ctx) {
  (void)svc;
  *ctx = NULL;
  signal(SIGSEGV, crashme_own_handler);
  return 0;
}

static struct minnow_daemon sighandler_daemon = {MINNOW_DAEMON_INTERFACE_VERSION};

MINNOW_DECLARE_PLUGIN{
    MINNOW_AUDIT_PLUGIN, 0, &crashme_audit, "crashme_c", "Minnow",
    "C audit hook that segfaults, aborts, divides by zero or overflows its stack on demand",
    MINNOW_LICENSE_GPL, 0x0100, crashme_init, crashme_deinit, NULL, crashme_status, 1, 0,
    crashme_show_status, NULL, NULL, NULL, NULL},
    {MINNOW_DAEMON_PLUGIN, 0, &sighandler_daemon, "crashme_sighandler", "Minnow",
     "Replaces the server's SIGSEGV handler at init", MINNOW_LICENSE_GPL, 0x0100, sighandler_init,
     NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL} MINNOW_DECLARE_PLUGIN_END;
