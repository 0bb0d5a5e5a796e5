/*
 * lualeak.h - the Lua bindings: the `leak` module and its userdata types.
 *
 * The bindings are thin: they translate between Lua values and the C
 * layers (target.h, probes.h) and never hold C memory across a Lua error.
 */
#ifndef LEAKHOUND_LUALEAK_H
#define LEAKHOUND_LUALEAK_H

#include <stdint.h>

#include <lua.h>

#include "target.h"

#define LH_TARGET_MT "leakhound.target"
#define LH_RNG_MT "leakhound.rng"

/* Registry keys. */
#define LH_REG_MODE "leakhound.mode"            /* "declare" | "worker" */
#define LH_REG_SCRIPT_DIR "leakhound.script_dir"
#define LH_REG_SETTLE "leakhound.settle"        /* light userdata hook */

int luaopen_leak(lua_State *L);
int luaopen_leakhound_target(lua_State *L);
int luaopen_leakhound_rng(lua_State *L);

/* The C target behind a leak.target userdata at idx, opening the library
 * if needed.  NULL with a message in err when it cannot be opened (no Lua
 * error is raised). */
lh_target *lh_lua_totarget(lua_State *L, int idx, char *err, size_t errlen);

/* The op behind a lib:fn(name) function at idx (resolved, the library
 * opened), or NULL when the value is anything else or cannot resolve: a
 * fuzz driver then calls the op directly, without Lua in the loop. */
lh_op_fn lh_lua_toop(lua_State *L, int idx);

/* Push a new rng seeded with seed. */
void lh_lua_pushrng(lua_State *L, uint64_t seed);

/* The settle hook leak.settle() calls (set by the worker). */
typedef void (*lh_settle_hook)(void *ud);
void lh_lua_set_settle(lua_State *L, lh_settle_hook hook, void *ud);

/* Resolve a path given in a script: as is when it exists relative to the
 * current directory, else relative to the script's directory.  With
 * LEAKHOUND_ROOT set, that directory stands in for the current one (a
 * fuzzer bundle, which runs from anywhere: see fuzz/fuzz_driver.c).
 * Writes the chosen path into out; returns 0 when it exists, -1 otherwise. */
int lh_lua_resolve_path(lua_State *L, const char *path, char *out,
                        size_t len);

#endif
