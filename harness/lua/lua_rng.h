/*
 * lua_rng.h - the leakhound.rng userdata: a seeded generator for input
 * generators.  Scripts reach it through leak.rng (luaopen_ below, merged
 * into `leak` by lua_leak.c); the runner hands each thread one.
 */
#ifndef LEAKHOUND_LUA_RNG_H
#define LEAKHOUND_LUA_RNG_H

#include <stdint.h>

#include <lua.h>

#define LH_RNG_MT "leakhound.rng"

/* The library table {rng = ...}; sets up the metatable. */
int luaopen_leakhound_rng(lua_State *L);

/* Push a new rng seeded with seed (the library must be open). */
void lh_lua_pushrng(lua_State *L, uint64_t seed);

#endif
