/*
 * minnow_plugin.h -- the Minnow server plugin C ABI.
 *
 * Mirrors crate `minnow-plugin` (server/plugin-api/src/abi.rs) field by field; a test
 * compiles a program against this header and compares every sizeof/offsetof with
 * the Rust definitions.
 *
 * A plugin library exports:
 *   uint32_t _minnow_plugin_interface_version_ = MINNOW_PLUGIN_INTERFACE_VERSION;
 *   uint32_t _minnow_sizeof_struct_st_plugin_  = sizeof(struct minnow_plugin_decl);
 *   struct minnow_plugin_decl _minnow_plugin_declarations_[] = { {...}, ..., {0} };
 * (use the MINNOW_DECLARE_PLUGIN / MINNOW_DECLARE_PLUGIN_END macros below).
 *
 * UDFs use MySQL's UDF ABI unchanged (UDF_INIT, UDF_ARGS, name_init, name,
 * name_deinit, name_clear, name_add), so a MySQL UDF builds against this header.
 *
 * Rules of the ABI:
 *  - Lifecycle: validate (every plugin of a batch, before any init) -> init -> calls
 *    -> deinit. init stores the plugin's context in *ctx; every later callback gets it
 *    back as its first argument. Return 0 for success.
 *  - Callbacks are called from any connection thread, concurrently: make them
 *    thread-safe. They are never called after deinit returned.
 *  - Strings and buffers handed to a callback are valid only during the call.
 *  - The services table passed to validate/init stays valid while the library is
 *    loaded; pass services->handle as the first argument of every service.
 *  - show_status: a string value is copied into out->str (capacity out->str_len
 *    bytes); set out->str_len to the length written.
 *  - Status and system variables are shown as <plugin name>_<variable name>.
 *  - MINNOW_PLUGIN_PANICKED is reserved: the host disables a plugin returning it.
 */
#ifndef MINNOW_PLUGIN_H
#define MINNOW_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MINNOW_PLUGIN_INTERFACE_VERSION 0x0101
#define MINNOW_VERSION_MAJOR_MASK 0xff00

#define MINNOW_DAEMON_PLUGIN 3
#define MINNOW_INFORMATION_SCHEMA_PLUGIN 4
#define MINNOW_AUDIT_PLUGIN 5
#define MINNOW_AUTHENTICATION_PLUGIN 7
#define MINNOW_PASSWORD_VALIDATION_PLUGIN 8
#define MINNOW_PROTOCOL_TRACE_PLUGIN 12

#define MINNOW_DAEMON_INTERFACE_VERSION 0x0100
#define MINNOW_INFORMATION_SCHEMA_INTERFACE_VERSION 0x0100
#define MINNOW_AUDIT_INTERFACE_VERSION 0x0100
#define MINNOW_AUTHENTICATION_INTERFACE_VERSION 0x0100
#define MINNOW_PASSWORD_VALIDATION_INTERFACE_VERSION 0x0100
#define MINNOW_PROTOCOL_TRACE_INTERFACE_VERSION 0x0100
#define MINNOW_SERVICES_VERSION 0x0100

#define MINNOW_PLUGIN_OPT_NO_INSTALL 1u
#define MINNOW_PLUGIN_OPT_NO_UNINSTALL 2u

#define MINNOW_LICENSE_PROPRIETARY 0
#define MINNOW_LICENSE_GPL 1
#define MINNOW_LICENSE_BSD 2

#define MINNOW_PLUGIN_PANICKED (-0x4d50)

#define MINNOW_VALUE_NULL 0
#define MINNOW_VALUE_INT 1
#define MINNOW_VALUE_REAL 2
#define MINNOW_VALUE_STRING 3
#define MINNOW_VALUE_BOOL 4
#define MINNOW_STATUS_STR_MAX 1024
#define MINNOW_SYSVAR_READONLY 1u

typedef struct minnow_str {
  const char *str;
  size_t length;
} minnow_str;

typedef struct minnow_value {
  uint32_t value_type;
  uint32_t reserved;
  int64_t int_val;
  double real_val;
  char *str;
  size_t str_len;
} minnow_value;

typedef struct minnow_status_var {
  const char *name;
  uint32_t value_type;
  uint32_t reserved;
} minnow_status_var;

typedef struct minnow_sysvar {
  const char *name;
  const char *comment;
  uint32_t value_type;
  uint32_t flags;
  int64_t def_int;
  int64_t min_int;
  int64_t max_int;
  double def_real;
  const char *def_str;
} minnow_sysvar;

typedef struct minnow_services {
  uint32_t interface_version;
  uint32_t reserved;
  void *handle;
  void (*log_error)(void *handle, uint32_t level, const char *msg, size_t len);
  void (*dbug_enter)(void *handle, const char *func, const char *file, uint32_t line);
  void (*dbug_return)(void *handle, const char *func, const char *file, uint32_t line);
  void (*dbug_print)(void *handle, const char *func, const char *file, uint32_t line,
                     const char *keyword, const char *msg, size_t len);
  int (*dbug_execute_if)(void *handle, const char *keyword);
  uint64_t (*session_connection_id)(void *handle);
  size_t (*session_user)(void *handle, char *buf, size_t cap);
  size_t (*session_host)(void *handle, char *buf, size_t cap);
  size_t (*session_query)(void *handle, char *buf, size_t cap);
  size_t (*data_dir)(void *handle, char *buf, size_t cap);
  int (*sysvar_get)(void *handle, const char *name, minnow_value *out);
  int (*plugin_exists)(void *handle, const char *name);
} minnow_services;

struct minnow_plugin_decl {
  uint32_t plugin_type;
  uint32_t flags;
  const void *info;
  const char *name;
  const char *author;
  const char *descr;
  uint32_t license;
  uint32_t version;
  int (*init)(const minnow_services *services, void **ctx);
  int (*deinit)(void *ctx);
  int (*validate)(const minnow_services *services);
  const minnow_status_var *status_vars;
  uint32_t status_var_count;
  uint32_t system_var_count;
  int (*show_status)(void *ctx, uint32_t index, minnow_value *out);
  const minnow_sysvar *system_vars;
  int (*sysvar_check)(void *ctx, uint32_t index, const minnow_value *value);
  void (*sysvar_update)(void *ctx, uint32_t index, const minnow_value *value);
  /* since 1.1 */
  int (*flush)(void *ctx);
};

#define MINNOW_DECLARE_PLUGIN                                                          \
  uint32_t _minnow_plugin_interface_version_ = MINNOW_PLUGIN_INTERFACE_VERSION;        \
  uint32_t _minnow_sizeof_struct_st_plugin_ = sizeof(struct minnow_plugin_decl);       \
  struct minnow_plugin_decl _minnow_plugin_declarations_[] = {
#define MINNOW_DECLARE_PLUGIN_END \
  , { 0 }                         \
  }

/* ---- daemon ---------------------------------------------------------------- */
struct minnow_daemon {
  uint32_t interface_version;
};

/* ---- audit ----------------------------------------------------------------- */
#define MINNOW_AUDIT_GENERAL_CLASS 0
#define MINNOW_AUDIT_CONNECTION_CLASS 1
#define MINNOW_AUDIT_GENERAL_CLASSMASK (1u << MINNOW_AUDIT_GENERAL_CLASS)
#define MINNOW_AUDIT_CONNECTION_CLASSMASK (1u << MINNOW_AUDIT_CONNECTION_CLASS)

#define MINNOW_AUDIT_GENERAL_LOG 0
#define MINNOW_AUDIT_GENERAL_ERROR 1
#define MINNOW_AUDIT_GENERAL_RESULT 2
#define MINNOW_AUDIT_GENERAL_STATUS 3
#define MINNOW_AUDIT_GENERAL_STARTING 4
#define MINNOW_AUDIT_GENERAL_COMPLETED 5

#define MINNOW_AUDIT_CONNECTION_PRE_AUTHENTICATE 0
#define MINNOW_AUDIT_CONNECTION_CONNECT 1
#define MINNOW_AUDIT_CONNECTION_DISCONNECT 2
#define MINNOW_AUDIT_CONNECTION_CHANGE_USER 3

struct minnow_audit_general_event {
  uint32_t event_subclass;
  int32_t error_code;
  uint64_t connection_id;
  uint64_t rows;
  minnow_str user;
  minnow_str host;
  minnow_str ip;
  minnow_str command;
  minnow_str query;
};

struct minnow_audit_connection_event {
  uint32_t event_subclass;
  int32_t status;
  uint64_t connection_id;
  minnow_str user;
  minnow_str host;
  minnow_str ip;
  minnow_str database;
};

struct minnow_audit {
  uint32_t interface_version;
  uint32_t class_mask;
  int (*notify)(void *ctx, uint32_t event_class, const void *event);
};

/* ---- information_schema ----------------------------------------------------- */
#define MINNOW_IS_TYPE_INT MINNOW_VALUE_INT
#define MINNOW_IS_TYPE_REAL MINNOW_VALUE_REAL
#define MINNOW_IS_TYPE_STRING MINNOW_VALUE_STRING

typedef struct minnow_is_column {
  const char *name;
  uint32_t column_type;
  uint32_t length;
} minnow_is_column;

typedef struct minnow_is_sink {
  void *host;
  int (*store)(void *host, uint32_t column, const minnow_value *value);
  int (*end_row)(void *host);
} minnow_is_sink;

struct minnow_information_schema {
  uint32_t interface_version;
  uint32_t column_count;
  const minnow_is_column *columns;
  int (*fill)(void *ctx, const minnow_is_sink *sink);
};

/* ---- authentication ---------------------------------------------------------- */
typedef struct minnow_auth_info {
  minnow_str user;
  minnow_str host;
  minnow_str auth_string;
  const uint8_t *scramble;
  size_t scramble_len;
  const uint8_t *response;
  size_t response_len;
} minnow_auth_info;

struct minnow_authentication {
  uint32_t interface_version;
  uint32_t reserved;
  const char *client_plugin;
  int (*authenticate)(void *ctx, const minnow_auth_info *info);
  int (*generate_auth_string)(void *ctx, const char *password, size_t password_len, char *out,
                              size_t *out_len);
};

/* ---- password validation ------------------------------------------------------ */
struct minnow_password_validation {
  uint32_t interface_version;
  uint32_t reserved;
  int (*validate_password)(void *ctx, const char *password, size_t len);
  unsigned int (*password_strength)(void *ctx, const char *password, size_t len);
};

/* ---- protocol trace (stages and events of MySQL's test trace plugin) ---------- */
enum minnow_protocol_stage {
  MINNOW_STAGE_CONNECTING = 0,
  MINNOW_STAGE_WAIT_FOR_INIT_PACKET,
  MINNOW_STAGE_AUTHENTICATE,
  MINNOW_STAGE_SSL_NEGOTIATION,
  MINNOW_STAGE_READY_FOR_COMMAND,
  MINNOW_STAGE_WAIT_FOR_PACKET,
  MINNOW_STAGE_WAIT_FOR_RESULT,
  MINNOW_STAGE_WAIT_FOR_FIELD_DEF,
  MINNOW_STAGE_WAIT_FOR_ROW,
  MINNOW_STAGE_FILE_REQUEST,
  MINNOW_STAGE_WAIT_FOR_PS_DESCRIPTION,
  MINNOW_STAGE_WAIT_FOR_PARAM_DEF,
  MINNOW_STAGE_WAIT_FOR_COL_DEF,
  MINNOW_STAGE_FETCH_ROW,
  MINNOW_STAGE_DISCONNECTED
};

enum minnow_trace_event {
  MINNOW_TRACE_CONNECTING = 0,
  MINNOW_TRACE_CONNECTED,
  MINNOW_TRACE_DISCONNECTED,
  MINNOW_TRACE_SEND_SSL_REQUEST,
  MINNOW_TRACE_SSL_CONNECT,
  MINNOW_TRACE_SSL_CONNECTED,
  MINNOW_TRACE_INIT_PACKET_RECEIVED,
  MINNOW_TRACE_AUTH_PLUGIN,
  MINNOW_TRACE_SEND_AUTH_RESPONSE,
  MINNOW_TRACE_SEND_AUTH_DATA,
  MINNOW_TRACE_AUTHENTICATED,
  MINNOW_TRACE_READ_PACKET,
  MINNOW_TRACE_PACKET_RECEIVED,
  MINNOW_TRACE_SEND_COMMAND,
  MINNOW_TRACE_PACKET_SENT,
  MINNOW_TRACE_ERROR
};

struct minnow_protocol_trace {
  uint32_t interface_version;
  uint32_t reserved;
  int (*trace_event)(void *ctx, uint64_t connection_id, uint32_t stage, uint32_t event,
                     const uint8_t *packet, size_t len);
};

/* ---- UDF: MySQL's ABI ------------------------------------------------------- */
enum Item_result {
  INVALID_RESULT = -1,
  STRING_RESULT = 0,
  REAL_RESULT,
  INT_RESULT,
  ROW_RESULT,
  DECIMAL_RESULT
};

#ifndef MYSQL_ERRMSG_SIZE
#define MYSQL_ERRMSG_SIZE 512
#endif

typedef struct UDF_ARGS {
  unsigned int arg_count;
  enum Item_result *arg_type;
  char **args;
  unsigned long *lengths;
  char *maybe_null;
  char **attributes;
  unsigned long *attribute_lengths;
  void *extension;
} UDF_ARGS;

typedef struct UDF_INIT {
  bool maybe_null;
  unsigned int decimals;
  unsigned long max_length;
  char *ptr;
  bool const_item;
  void *extension;
} UDF_INIT;

#ifdef __cplusplus
}
#endif

#endif /* MINNOW_PLUGIN_H */
