/*
 * script.h - Lua states for workload scripts.
 *
 * A script is loaded in the supervisor ("declare": workloads are listed,
 * targets never opened) and in each worker thread ("worker").  Every state
 * allocates through the uncounted allocator, has strict globals and the
 * `leak` module, and every call into Lua runs under lua_pcall with a
 * traceback handler.
 */
#ifndef LEAKHOUND_SCRIPT_H
#define LEAKHOUND_SCRIPT_H

#include <lua.h>

#include "buf.h"

typedef enum lh_script_mode {
    LH_SCRIPT_DECLARE,
    LH_SCRIPT_WORKER,
} lh_script_mode;

/* A new state with the standard libraries and `leak`; NULL on OOM. */
lua_State *lh_script_new(lh_script_mode mode);

/* Load and run a script file.  On error returns -1 and writes the
 * message ("file:line: ...") and traceback into err.  Its top level must
 * return within LEAKHOUND_LOAD_TIMEOUT seconds (default 10): a Lua loop
 * that never ends is an error naming the script and the line. */
int lh_script_load(lua_State *L, const char *path, lh_buf *err);

/* Message handler for lua_pcall: appends a traceback to the message. */
int lh_script_traceback(lua_State *L);

/* lua_pcall(L, nargs, nresults) with lh_script_traceback; on error the
 * message is moved into err and the stack is left as before the call
 * minus the function and arguments. */
int lh_script_pcall(lua_State *L, int nargs, int nresults, lh_buf *err);

/* Push workload number idx (1-based) of the loaded script, or nil. */
void lh_script_workload(lua_State *L, int idx);

/* Number of workloads the loaded script declared. */
int lh_script_workload_count(lua_State *L);

/* Index (1-based) of the workload named name, or 0. */
int lh_script_find_workload(lua_State *L, const char *name);

/* The declared workloads' names, ", "-separated, appended to out. */
void lh_script_workload_names(lua_State *L, lh_buf *out);

#endif
