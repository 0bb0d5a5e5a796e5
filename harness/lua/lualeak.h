/*
 * lualeak.h - the `leak` module that workload scripts use.
 *
 * The bindings are thin: they translate between Lua values and the C
 * layers (target.h, probes.h) and never hold C memory across a Lua error.
 * One library per file: this module, the target userdata (lua_target.h)
 * and the rng (lua_rng.h); the module uses the other two only through
 * their luaopen_ functions.
 */
#ifndef LEAKHOUND_LUALEAK_H
#define LEAKHOUND_LUALEAK_H

#include <lua.h>

/* The `leak` module: its C functions, leak.target and leak.is_target
 * (lua_target.h), leak.rng (lua_rng.h), and the DSL from leak.lua. */
int luaopen_leak(lua_State *L);

/* Push the chunk of an embedded Lua file: its bytecode bc (NULL: none),
 * or its source when this Lua refuses the bytecode (compiled by another
 * Lua release).  Returns 1 (bytecode), 0 (source), or -1 with the
 * source's load error pushed. */
int lh_leak_load(lua_State *L, const char *bc, size_t bclen,
                 const char *src, size_t srclen, const char *name);

/* The settle hook leak.settle() calls (set by the worker). */
typedef void (*lh_settle_hook)(void *ud);
void lh_lua_set_settle(lua_State *L, lh_settle_hook hook, void *ud);

#endif
