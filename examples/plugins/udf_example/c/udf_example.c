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
