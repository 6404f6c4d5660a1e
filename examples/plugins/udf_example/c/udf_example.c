/*
 * udf_example.c -- MySQL-style UDFs for Minnow, built against minnow_plugin.h.
 *
 *   CREATE FUNCTION reverse_string RETURNS STRING SONAME 'libudf_example.so';
 *   CREATE FUNCTION myfunc_int RETURNS INTEGER SONAME 'libudf_example.so';
 *   CREATE FUNCTION myfunc_double RETURNS REAL SONAME 'libudf_example.so';
 *   CREATE FUNCTION sequence RETURNS INTEGER SONAME 'libudf_example.so';
 *   CREATE AGGREGATE FUNCTION avgcost RETURNS REAL SONAME 'libudf_example.so';
 *   CREATE AGGREGATE FUNCTION clear_count RETURNS INTEGER SONAME 'libudf_example.so';
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minnow_plugin.h"

/* reverse_string(str): the string reversed (NULL for NULL). */
bool reverse_string_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count != 1 || args->arg_type[0] != STRING_RESULT) {
    strcpy(message, "reverse_string() requires one string argument");
    return 1;
  }
  initid->maybe_null = 1;
  initid->max_length = args->lengths[0] ? args->lengths[0] : 255;
  initid->ptr = NULL;
  return 0;
}

void reverse_string_deinit(UDF_INIT *initid) {
  free(initid->ptr);
  initid->ptr = NULL;
}

char *reverse_string(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
                     unsigned char *is_null, unsigned char *error) {
  const char *s = args->args[0];
  unsigned long n = args->lengths[0];
  char *out = result;
  (void)error;
  if (s == NULL) {
    *is_null = 1;
    return NULL;
  }
  if (n > 255) { /* longer than the server's buffer: use our own */
    free(initid->ptr);
    initid->ptr = malloc(n);
    if (initid->ptr == NULL) {
      *error = 1;
      return NULL;
    }
    out = initid->ptr;
  }
  for (unsigned long i = 0; i < n; i++) out[i] = s[n - 1 - i];
  *length = n;
  return out;
}

/* myfunc_int(...): sum of the lengths of string arguments plus integer arguments
   (MySQL's udf_example myfunc_int). */
bool myfunc_int_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  (void)initid;
  (void)args;
  (void)message;
  return 0;
}

long long myfunc_int(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null,
                     unsigned char *error) {
  long long val = 0;
  (void)initid;
  (void)is_null;
  (void)error;
  for (unsigned int i = 0; i < args->arg_count; i++) {
    if (args->args[i] == NULL) continue;
    switch (args->arg_type[i]) {
      case STRING_RESULT:
      case DECIMAL_RESULT:
        val += (long long)args->lengths[i];
        break;
      case INT_RESULT:
        val += *((long long *)args->args[i]);
        break;
      case REAL_RESULT:
        val += (long long)*((double *)args->args[i]);
        break;
      default:
        break;
    }
  }
  return val;
}

/* myfunc_double(str, ...): average of the character codes of all string arguments. */
bool myfunc_double_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (!args->arg_count) {
    strcpy(message, "myfunc_double must have at least one argument");
    return 1;
  }
  for (unsigned int i = 0; i < args->arg_count; i++) args->arg_type[i] = STRING_RESULT;
  initid->maybe_null = 1;
  initid->decimals = 2;
  initid->max_length = 6;
  return 0;
}

double myfunc_double(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null,
                     unsigned char *error) {
  unsigned long total = 0, chars = 0;
  (void)initid;
  (void)error;
  for (unsigned int i = 0; i < args->arg_count; i++) {
    if (args->args[i] == NULL) continue;
    for (unsigned long j = 0; j < args->lengths[i]; j++) total += (unsigned char)args->args[i][j];
    chars += args->lengths[i];
  }
  if (chars == 0) {
    *is_null = 1;
    return 0.0;
  }
  return (double)total / (double)chars;
}

/* sequence([start]): 1, 2, 3 ... per call site (state in initid->ptr). */
bool sequence_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count > 1) {
    strcpy(message, "sequence() takes at most one argument");
    return 1;
  }
  if (args->arg_count) args->arg_type[0] = INT_RESULT;
  initid->ptr = calloc(1, sizeof(long long));
  if (!initid->ptr) {
    strcpy(message, "out of memory");
    return 1;
  }
  initid->maybe_null = 0;
  initid->const_item = 0;
  return 0;
}

void sequence_deinit(UDF_INIT *initid) { free(initid->ptr); }

long long sequence(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null,
                   unsigned char *error) {
  long long *n = (long long *)initid->ptr;
  (void)is_null;
  (void)error;
  if (args->arg_count && args->args[0]) return ++*n + *((long long *)args->args[0]);
  return ++*n;
}

/* avgcost(quantity INT, price REAL) AGGREGATE: weighted average price. */
struct avgcost_data {
  long long count;
  long long quantity;
  double price_sum;
};

bool avgcost_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count != 2) {
    strcpy(message, "wrong number of arguments: AVGCOST() requires two arguments");
    return 1;
  }
  if (args->arg_type[0] != INT_RESULT || args->arg_type[1] != REAL_RESULT) {
    strcpy(message, "wrong argument type: AVGCOST() requires an INT and a REAL");
    return 1;
  }
  initid->maybe_null = 1;
  initid->decimals = 4;
  initid->max_length = 20;
  initid->ptr = calloc(1, sizeof(struct avgcost_data));
  if (!initid->ptr) {
    strcpy(message, "Couldn't allocate memory");
    return 1;
  }
  return 0;
}

void avgcost_deinit(UDF_INIT *initid) { free(initid->ptr); }

void avgcost_clear(UDF_INIT *initid, unsigned char *is_null, unsigned char *error) {
  struct avgcost_data *d = (struct avgcost_data *)initid->ptr;
  (void)is_null;
  (void)error;
  d->count = 0;
  d->quantity = 0;
  d->price_sum = 0;
}

void avgcost_add(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null, unsigned char *error) {
  struct avgcost_data *d = (struct avgcost_data *)initid->ptr;
  (void)is_null;
  (void)error;
  if (args->args[0] && args->args[1]) {
    long long q = *((long long *)args->args[0]);
    double p = *((double *)args->args[1]);
    d->count++;
    d->quantity += q;
    d->price_sum += (double)q * p;
  }
}

double avgcost(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null, unsigned char *error) {
  struct avgcost_data *d = (struct avgcost_data *)initid->ptr;
  (void)args;
  (void)error;
  if (!d->count || !d->quantity) {
    *is_null = 1;
    return 0.0;
  }
  *is_null = 0;
  return d->price_sum / (double)d->quantity;
}

/*
 * clear_count(x) AGGREGATE: 1000 * (groups this UDF_INIT has started, this one
 * included) + (non-NULL rows of this group). Shows the MySQL lifecycle: init once
 * per call site and statement, clear per group; a call site sharing its UDF_INIT
 * with another, or an init per group, gives other numbers.
 */
struct clear_count_data {
  long long clears;
  long long rows;
};

bool clear_count_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count != 1) {
    strcpy(message, "clear_count() requires one argument");
    return 1;
  }
  initid->maybe_null = 0;
  initid->ptr = calloc(1, sizeof(struct clear_count_data));
  if (!initid->ptr) {
    strcpy(message, "out of memory");
    return 1;
  }
  return 0;
}

void clear_count_deinit(UDF_INIT *initid) { free(initid->ptr); }

void clear_count_clear(UDF_INIT *initid, unsigned char *is_null, unsigned char *error) {
  struct clear_count_data *d = (struct clear_count_data *)initid->ptr;
  (void)is_null;
  (void)error;
  d->clears++;
  d->rows = 0;
}

void clear_count_add(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null,
                     unsigned char *error) {
  struct clear_count_data *d = (struct clear_count_data *)initid->ptr;
  (void)is_null;
  (void)error;
  if (args->args[0]) d->rows++;
}

long long clear_count(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null,
                      unsigned char *error) {
  struct clear_count_data *d = (struct clear_count_data *)initid->ptr;
  (void)args;
  (void)error;
  *is_null = 0;
  return d->clears * 1000 + d->rows;
}

/*
 * Functions that show what the server hands a UDF (used by server/tests/udf.rs):
 *
 *   CREATE FUNCTION describe_args RETURNS STRING SONAME 'libudf_example.so';
 *   CREATE FUNCTION coerce_args RETURNS STRING SONAME 'libudf_example.so';
 *   CREATE FUNCTION decimal_negate RETURNS DECIMAL SONAME 'libudf_example.so';
 *   CREATE AGGREGATE FUNCTION agg_trace RETURNS STRING SONAME 'libudf_example.so';
 *   CREATE FUNCTION udf_log RETURNS STRING SONAME 'libudf_example.so';
 */

static char type_letter(enum Item_result t) {
  switch (t) {
    case STRING_RESULT: return 'S';
    case REAL_RESULT: return 'R';
    case INT_RESULT: return 'I';
    case DECIMAL_RESULT: return 'D';
    default: return '?';
  }
}

/* Writes `T:value` (or `T:NULL`) for argument i into tmp; returns its length. */
static size_t render_value(UDF_ARGS *args, unsigned int i, char *tmp, size_t cap) {
  int n;
  if (args->args[i] == NULL) {
    n = snprintf(tmp, cap, "%c:NULL", type_letter(args->arg_type[i]));
  } else if (args->arg_type[i] == INT_RESULT) {
    n = snprintf(tmp, cap, "I:%lld", *((long long *)args->args[i]));
  } else if (args->arg_type[i] == REAL_RESULT) {
    n = snprintf(tmp, cap, "R:%g", *((double *)args->args[i]));
  } else {
    unsigned long l = args->lengths[i] > 64 ? 64 : args->lengths[i];
    n = snprintf(tmp, cap, "%c:%.*s", type_letter(args->arg_type[i]), (int)l, args->args[i]);
  }
  if (n < 0) return 0;
  return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Appends `prefix` and then `T:value` for argument i to out (capacity cap, length *len),
   space-separated. */
static void append_arg(UDF_ARGS *args, unsigned int i, const char *prefix, char *out, size_t cap,
                       size_t *len) {
  char tmp[96];
  size_t n = render_value(args, i, tmp, sizeof tmp);
  size_t pl = strlen(prefix);
  if (*len + pl + n + 2 >= cap) return;
  if (*len) out[(*len)++] = ' ';
  memcpy(out + *len, prefix, pl);
  *len += pl;
  memcpy(out + *len, tmp, n);
  *len += n;
  out[*len] = 0;
}

#define DESCRIBE_CAP 2048

struct describe_data {
  size_t init_len;
  char init[DESCRIBE_CAP];
  char row[2 * DESCRIBE_CAP];
};

/* describe_args(...): "init: attr=T:value ... | row: T:value ...": the init part as
   describe_args_init saw the arguments (values of constants only), the row part as this
   call sees them. */
bool describe_args_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  struct describe_data *d = malloc(sizeof *d);
  if (!d) {
    strcpy(message, "out of memory");
    return 1;
  }
  memcpy(d->init, "init:", 6);
  d->init_len = 5;
  for (unsigned int i = 0; i < args->arg_count; i++) {
    char prefix[80];
    size_t al = args->attribute_lengths[i] > 64 ? 64 : args->attribute_lengths[i];
    memcpy(prefix, args->attributes[i], al);
    prefix[al] = '=';
    prefix[al + 1] = 0;
    append_arg(args, i, prefix, d->init, DESCRIBE_CAP, &d->init_len);
  }
  initid->ptr = (char *)d;
  initid->maybe_null = 0;
  initid->max_length = 2 * DESCRIBE_CAP;
  return 0;
}

void describe_args_deinit(UDF_INIT *initid) { free(initid->ptr); }

char *describe_args(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
                    unsigned char *is_null, unsigned char *error) {
  struct describe_data *d = (struct describe_data *)initid->ptr;
  size_t len = d->init_len;
  (void)result;
  (void)is_null;
  (void)error;
  memcpy(d->row, d->init, len);
  memcpy(d->row + len, " | row:", 8);
  len += 7;
  for (unsigned int i = 0; i < args->arg_count; i++)
    append_arg(args, i, "", d->row, sizeof d->row, &len);
  *length = len;
  return d->row;
}

/* coerce_args('IRSD…', x, …): name_init sets the type of argument i+1 from letter i of
   its constant first argument (MySQL: the server converts each row's value to the type
   name_init left in args->arg_type); returns "T:value" of arguments 2… */
bool coerce_args_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count < 1 || args->args[0] == NULL || args->arg_type[0] != STRING_RESULT ||
      args->lengths[0] != args->arg_count - 1) {
    strcpy(message, "coerce_args() needs a constant type string with one letter per argument");
    return 1;
  }
  for (unsigned int i = 1; i < args->arg_count; i++) {
    switch (args->args[0][i - 1]) {
      case 'I': args->arg_type[i] = INT_RESULT; break;
      case 'R': args->arg_type[i] = REAL_RESULT; break;
      case 'S': args->arg_type[i] = STRING_RESULT; break;
      case 'D': args->arg_type[i] = DECIMAL_RESULT; break;
      default:
        strcpy(message, "coerce_args(): type letters are I, R, S, D");
        return 1;
    }
  }
  initid->maybe_null = 0;
  initid->ptr = NULL;
  return 0;
}

char *coerce_args(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
                  unsigned char *is_null, unsigned char *error) {
  size_t len = 0;
  (void)initid;
  (void)is_null;
  (void)error;
  result[0] = 0;
  for (unsigned int i = 1; i < args->arg_count; i++) append_arg(args, i, "", result, 255, &len);
  *length = len;
  return result;
}

/* decimal_negate(x) RETURNS DECIMAL: x as a decimal string, negated (MySQL passes
   DECIMAL_RESULT arguments and takes DECIMAL results as strings). */
bool decimal_negate_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  if (args->arg_count != 1) {
    strcpy(message, "decimal_negate() requires one argument");
    return 1;
  }
  args->arg_type[0] = DECIMAL_RESULT;
  initid->maybe_null = 1;
  return 0;
}

char *decimal_negate(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
                     unsigned char *is_null, unsigned char *error) {
  const char *s = args->args[0];
  unsigned long n = args->lengths[0];
  (void)initid;
  if (s == NULL) {
    *is_null = 1;
    return NULL;
  }
  if (n + 1 > 255) {
    *error = 1;
    return NULL;
  }
  if (n && s[0] == '-') {
    memcpy(result, s + 1, n - 1);
    *length = n - 1;
  } else {
    result[0] = '-';
    memcpy(result + 1, s, n);
    *length = n + 1;
  }
  return result;
}

/* agg_trace(x) AGGREGATE: "rows=N" per group; every call is appended to a log that
   udf_log() returns (and empties), showing the calling sequence. */
static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_log[4096];
static size_t g_log_len;

static void log_event(const char *ev) {
  size_t n = strlen(ev);
  pthread_mutex_lock(&g_log_lock);
  if (g_log_len + n + 2 < sizeof g_log) {
    if (g_log_len) g_log[g_log_len++] = ' ';
    memcpy(g_log + g_log_len, ev, n + 1);
    g_log_len += n;
  }
  pthread_mutex_unlock(&g_log_lock);
}

bool agg_trace_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  char ev[64];
  if (args->arg_count != 1) {
    strcpy(message, "agg_trace() requires one argument");
    return 1;
  }
  initid->ptr = calloc(1, sizeof(long long));
  if (!initid->ptr) {
    strcpy(message, "out of memory");
    return 1;
  }
  snprintf(ev, sizeof ev, "init(%c)", type_letter(args->arg_type[0]));
  log_event(ev);
  return 0;
}

void agg_trace_deinit(UDF_INIT *initid) {
  free(initid->ptr);
  log_event("deinit");
}

void agg_trace_clear(UDF_INIT *initid, unsigned char *is_null, unsigned char *error) {
  (void)is_null;
  (void)error;
  *((long long *)initid->ptr) = 0;
  log_event("clear");
}

void agg_trace_add(UDF_INIT *initid, UDF_ARGS *args, unsigned char *is_null,
                   unsigned char *error) {
  (void)args;
  (void)is_null;
  (void)error;
  ++*((long long *)initid->ptr);
  log_event("add");
}

char *agg_trace(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
                unsigned char *is_null, unsigned char *error) {
  (void)args;
  (void)is_null;
  (void)error;
  log_event("result");
  *length = (unsigned long)snprintf(result, 255, "rows=%lld", *((long long *)initid->ptr));
  return result;
}

bool udf_log_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
  (void)args;
  (void)message;
  initid->maybe_null = 0;
  initid->ptr = malloc(sizeof g_log);
  if (!initid->ptr) {
    strcpy(message, "out of memory");
    return 1;
  }
  return 0;
}

void udf_log_deinit(UDF_INIT *initid) { free(initid->ptr); }

char *udf_log(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length,
              unsigned char *is_null, unsigned char *error) {
  (void)args;
  (void)result;
  (void)is_null;
  (void)error;
  pthread_mutex_lock(&g_log_lock);
  memcpy(initid->ptr, g_log, g_log_len);
  *length = g_log_len;
  g_log_len = 0;
  g_log[0] = 0;
  pthread_mutex_unlock(&g_log_lock);
  return initid->ptr;
}
