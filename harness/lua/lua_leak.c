/*
 * lua_leak.c - the `leak` module: primitives in C, the DSL in leak.lua.
 *
 *     leak.target(path)      a target library (lua_target.c)
 *     leak.corpus(dir)       inputs from a directory, files in name order
 *     leak.rng(seed)         a seeded generator (lua_rng.c)
 *     leak.settle()          the default settle (Go: forced GC)
 *     leak.now()             monotonic seconds
 *     leak.sleep(seconds)
 *     leak.workload, leak.stable, leak.baseline, leak.bounded,
 *     leak.max_growth        from leak.lua
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "clock.h"
#include "embedded.h"
#include "lua_rng.h"
#include "lua_target.h"
#include "lualeak.h"
#include "scriptenv.h"

/* Registry keys of the settle hook and its argument (light userdata). */
#define REG_SETTLE "leakhound.settle"
#define REG_SETTLE_UD "leakhound.settle.ud"

static int leak_corpus(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    char resolved[4096];
    struct stat st;
    if (lh_scriptenv_resolve(L, dir, resolved, sizeof resolved) < 0 ||
        stat(resolved, &st) < 0)
        return luaL_error(L, "leak.corpus: cannot open directory '%s': %s",
                          dir, strerror(errno ? errno : ENOENT));
    if (!S_ISDIR(st.st_mode))
        return luaL_error(L, "leak.corpus: '%s' is not a directory", dir);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, resolved);
    lua_setfield(L, -2, "__leak_corpus");
    return 1;
}

void lh_lua_set_settle(lua_State *L, lh_settle_hook hook, void *ud)
{
    lua_pushlightuserdata(L, *(void **)&hook);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_SETTLE);
    lua_pushlightuserdata(L, ud);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_SETTLE_UD);
}

static int leak_settle(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_SETTLE);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_SETTLE_UD);
    lh_settle_hook hook;
    *(void **)&hook = lua_touserdata(L, -2);
    void *ud = lua_touserdata(L, -1);
    lua_pop(L, 2);
    if (hook)
        hook(ud);
    return 0;
}

static int leak_now(lua_State *L)
{
    lua_pushnumber(L, lh_now());
    return 1;
}

static int leak_sleep(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0, 1, "negative duration");
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return 0;
}

static const luaL_Reg leak_funcs[] = {
    { "corpus", leak_corpus },
    { "settle", leak_settle },
    { "now", leak_now },
    { "sleep", leak_sleep },
    { NULL, NULL },
};

static const lh_embedded_file *embedded(const char *name)
{
    for (const lh_embedded_file *f = lh_embedded; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

int lh_leak_load(lua_State *L, const char *bc, size_t bclen,
                 const char *src, size_t srclen, const char *name)
{
    if (bc && luaL_loadbufferx(L, bc, bclen, name, "b") == LUA_OK)
        return 1;
    if (bc)
        lua_pop(L, 1);      /* another Lua's bytecode: parse the source */
    return luaL_loadbufferx(L, src, srclen, name, "t") == LUA_OK ? 0 : -1;
}

/* Copy the functions of library `name` into the table on top. */
static void merge_lib(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 0);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -5);
    }
    lua_pop(L, 1);
}

int luaopen_leak(lua_State *L)
{
    luaL_newlib(L, leak_funcs);
    merge_lib(L, "leakhound.target", luaopen_leakhound_target);
    merge_lib(L, "leakhound.rng", luaopen_leakhound_rng);

    const lh_embedded_file *src = embedded("leak");
    const lh_embedded_file *bc = embedded("leak.luac");
    if (!src)
        return luaL_error(L, "leak.lua is not embedded in this binary");
    if (lh_leak_load(L, bc ? bc->data : NULL, bc ? bc->size : 0, src->data,
                     src->size, "=leak.lua") < 0)
        return lua_error(L);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    return 1;
}
