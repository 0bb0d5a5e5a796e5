/*
 * lua_target.h - the leakhound.target userdata: a target library as a
 * workload script sees it.
 *
 * Scripts reach it through leak.target and leak.is_target (luaopen_ below,
 * merged into `leak` by lua_leak.c).  The worker and the in-process session
 * take the C target and ops behind a userdata with the two accessors; the
 * target itself is the process's one (lh_target_get), shared by every Lua
 * state that names the same library.
 */
#ifndef LEAKHOUND_LUA_TARGET_H
#define LEAKHOUND_LUA_TARGET_H

#include <stddef.h>

#include <lua.h>

#include "target.h"

#define LH_TARGET_MT "leakhound.target"

/* The library table {target = ..., is_target = ...}; sets up the
 * metatable. */
int luaopen_leakhound_target(lua_State *L);

/* The C target behind a leak.target userdata at idx, opening the library
 * if needed.  NULL with a message in err when it cannot be opened (no Lua
 * error is raised). */
lh_target *lh_lua_totarget(lua_State *L, int idx, char *err, size_t errlen);

/* The op behind a lib:fn(name) function at idx (resolved, the library
 * opened), or NULL when the value is anything else or cannot resolve: a
 * fuzz driver then calls the op directly, without Lua in the loop. */
lh_op_fn lh_lua_toop(lua_State *L, int idx);

#endif
