/*
 * lua_target.c - the leakhound.target userdata: a target library as seen
 * from a workload script.
 *
 *     local lib = leak.target "build/targets/c/libcache.so"
 *     lib:call("cache_put", input)       --> the op's int result
 *     local put = lib:fn "cache_put"     -- resolved on first call
 *     put(input)
 *
 * Libraries open lazily, in the worker only: declaring a target in the
 * supervisor must not start a Go runtime there.  The userdata holds the
 * path it names and, once opened, the process's target for it (never
 * closed, so __gc frees only the path).
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "alloc.h"
#include "lua_target.h"
#include "scriptenv.h"

typedef struct ltarget {
    char *path;             /* resolved path, lh_raw_strdup; NULL: none */
    lh_target *t;           /* the process's target; NULL: not opened */
} ltarget;

static ltarget *checktarget(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, LH_TARGET_MT);
}

lh_target *lh_lua_totarget(lua_State *L, int idx, char *err, size_t errlen)
{
    ltarget *lt = luaL_testudata(L, idx, LH_TARGET_MT);
    if (!lt || !lt->path) {
        snprintf(err, errlen, "not a leak.target");
        return NULL;
    }
    if (!lt->t) {
        if (!lh_scriptenv_worker(L)) {
            snprintf(err, errlen,
                     "target '%s' can only be used inside workload "
                     "functions (setup, step, teardown), not while the "
                     "script is being declared", lt->path);
            return NULL;
        }
        lt->t = lh_target_get(lt->path, err, errlen);
    }
    return lt->t;
}

/* Find NAME in the target, caching it in the userdata's uservalue table. */
static lh_op_fn resolve(lua_State *L, int tidx, const char *name)
{
    char err[1024];
    lh_target *t = lh_lua_totarget(L, tidx, err, sizeof err);
    if (!t)
        luaL_error(L, "%s", err);
    lua_getiuservalue(L, tidx, 1);
    lua_getfield(L, -1, name);
    lh_op_fn fn;
    *(void **)&fn = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!fn) {
        fn = lh_target_op(t, name, err, sizeof err);
        if (!fn)
            luaL_error(L, "%s", err);
        lua_pushlightuserdata(L, *(void **)&fn);
        lua_setfield(L, -2, name);
    }
    lua_pop(L, 1);
    return fn;
}

static int call_op(lua_State *L, lh_op_fn fn, int arg)
{
    size_t len = 0;
    const char *data = "";
    if (!lua_isnoneornil(L, arg))
        data = luaL_checklstring(L, arg, &len);
    lua_pushinteger(L, lh_target_call(fn, (const uint8_t *)data, len));
    return 1;
}

/* checktarget for the methods, which get the metatable as upvalue 1: a
 * pointer compare instead of the registry lookup by name (a string
 * interned again and a strcmp) on every call of a Lua step. */
static ltarget *checkself(lua_State *L)
{
    ltarget *lt = lua_touserdata(L, 1);
    if (lt && lua_getmetatable(L, 1)) {
        int ok = lua_rawequal(L, -1, lua_upvalueindex(1));
        lua_pop(L, 1);
        if (ok)
            return lt;
    }
    return checktarget(L, 1);   /* the usual error */
}

static int target_call(lua_State *L)
{
    ltarget *lt = checkself(L);
    luaL_checkstring(L, 2);
    /* The hot path of a Lua step: an op already resolved is found by the
     * name's Lua string itself (no C string interned again, no second
     * udata check); resolve() caches it under the same content. */
    lh_op_fn fn = NULL;
    if (lt->t) {
        lua_getiuservalue(L, 1, 1);
        lua_pushvalue(L, 2);
        lua_rawget(L, -2);
        *(void **)&fn = lua_touserdata(L, -1);
        lua_pop(L, 2);
    }
    if (!fn)
        fn = resolve(L, 1, lua_tostring(L, 2));
    return call_op(L, fn, 3);
}

/* Closure made by lib:fn(name): upvalues target, name, cached pointer. */
static int bound_call(lua_State *L)
{
    lh_op_fn fn;
    *(void **)&fn = lua_touserdata(L, lua_upvalueindex(3));
    if (!fn) {
        lua_pushvalue(L, lua_upvalueindex(1));
        int tidx = lua_gettop(L);
        fn = resolve(L, tidx, lua_tostring(L, lua_upvalueindex(2)));
        lua_settop(L, tidx - 1);
        lua_pushlightuserdata(L, *(void **)&fn);
        lua_replace(L, lua_upvalueindex(3));
    }
    return call_op(L, fn, 1);
}

static int target_fn(lua_State *L)
{
    checktarget(L, 1);
    luaL_checkstring(L, 2);
    lua_settop(L, 2);
    lua_pushnil(L);
    lua_pushcclosure(L, bound_call, 3);
    return 1;
}

lh_op_fn lh_lua_toop(lua_State *L, int idx)
{
    if (lua_tocfunction(L, idx) != bound_call)
        return NULL;
    idx = lua_absindex(L, idx);
    lh_op_fn fn;
    lua_getupvalue(L, idx, 3);
    *(void **)&fn = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (fn)
        return fn;
    char err[1024];
    lua_getupvalue(L, idx, 1);
    lh_target *t = lh_lua_totarget(L, -1, err, sizeof err);
    lua_getupvalue(L, idx, 2);
    const char *name = lua_tostring(L, -1);
    fn = t && name ? lh_target_op(t, name, err, sizeof err) : NULL;
    lua_pop(L, 2);
    return fn;
}

/* NULL only in a userdata whose creation failed or that was collected. */
static const char *checkpath(lua_State *L, int idx)
{
    const char *path = checktarget(L, idx)->path;
    return path ? path : "?";
}

static int target_path(lua_State *L)
{
    lua_pushstring(L, checkpath(L, 1));
    return 1;
}

static int target_tostring(lua_State *L)
{
    lua_pushfstring(L, "leak.target(%s)", checkpath(L, 1));
    return 1;
}

static int target_gc(lua_State *L)
{
    ltarget *lt = checktarget(L, 1);
    /* The library itself stays loaded: a Go runtime cannot be unloaded,
     * and a C target's globals are what we are measuring. */
    lh_raw_free(lt->path);
    lt->path = NULL;
    return 0;
}

/* leak.target(path) */
static int target_new(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char resolved[4096];
    lh_scriptenv_resolve(L, path, resolved, sizeof resolved);
    /* Safe empty state first; the path is the only resource, and nothing
     * that can raise an error comes after it. */
    ltarget *lt = lua_newuserdatauv(L, sizeof *lt, 1);
    memset(lt, 0, sizeof *lt);
    luaL_setmetatable(L, LH_TARGET_MT);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 1);
    lt->path = lh_raw_strdup(resolved);
    if (!lt->path)
        return luaL_error(L, "leak.target: out of memory");
    return 1;
}

static int target_is(lua_State *L)
{
    lua_pushboolean(L, luaL_testudata(L, 1, LH_TARGET_MT) != NULL);
    return 1;
}

static const luaL_Reg target_funcs[] = {
    { "target", target_new },
    { "is_target", target_is },
    { NULL, NULL },
};

static const luaL_Reg target_methods[] = {
    { "call", target_call },
    { "fn", target_fn },
    { "path", target_path },
    { NULL, NULL },
};

static const luaL_Reg target_meta[] = {
    { "__gc", target_gc },
    { "__tostring", target_tostring },
    { "__index", NULL },
    { NULL, NULL },
};

int luaopen_leakhound_target(lua_State *L)
{
    luaL_newmetatable(L, LH_TARGET_MT);
    luaL_setfuncs(L, target_meta, 0);
    lua_newtable(L);
    lua_pushvalue(L, -2);       /* the metatable, for checkself */
    luaL_setfuncs(L, target_methods, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, target_funcs);
    return 1;
}
