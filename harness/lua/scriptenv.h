/*
 * scriptenv.h - what a script's Lua state knows of where it runs.
 *
 * A state is either declaring workloads (the supervisor: targets are never
 * opened there, so no Go runtime starts) or running them (a worker).  Paths
 * a script names resolve against the current directory, then against the
 * script's own directory.  script.c sets both; the libraries read them.
 */
#ifndef LEAKHOUND_SCRIPTENV_H
#define LEAKHOUND_SCRIPTENV_H

#include <stddef.h>

#include <lua.h>

/* Mark the state as a worker's (worker != 0) or a declaring one. */
void lh_scriptenv_set_worker(lua_State *L, int worker);

/* Remember the directory of the script file at path. */
void lh_scriptenv_set_script(lua_State *L, const char *path);

/* Whether the state runs workloads (and may open targets). */
int lh_scriptenv_worker(lua_State *L);

/* Resolve a path given in a script: as is when it exists relative to the
 * current directory, else relative to the script's directory.  With
 * LEAKHOUND_ROOT set, that directory stands in for the current one (a
 * fuzzer bundle, which runs from anywhere: see fuzz/fuzz_driver.c).  Writes the
 * chosen path into out; returns 0 when it exists, -1 otherwise. */
int lh_scriptenv_resolve(lua_State *L, const char *path, char *out,
                         size_t len);

#endif
