/* script.c - creating Lua states and running scripts safely. */
#include "script.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "alloc.h"
#include "clock.h"
#include "lualeak.h"
#include "scriptenv.h"

static int panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "leakhound: unprotected Lua error: %s\n",
                  msg ? msg : "?");
    fputs(lh_buf_str(&b), stderr);
    lh_buf_free(&b);
    return 0;   /* Lua aborts */
}

lua_State *lh_script_new(lh_script_mode mode)
{
    lua_State *L = lua_newstate(lh_lua_alloc, NULL);
    if (!L)
        return NULL;
    lua_atpanic(L, panic);
    luaL_openlibs(L);
    lh_scriptenv_set_worker(L, mode == LH_SCRIPT_WORKER);
    luaL_requiref(L, "leak", luaopen_leak, 1);
    lua_pop(L, 1);
    return L;
}

/* Does msg start with a "file:line: " of its own? */
static int has_location(const char *msg)
{
    const char *colon = strchr(msg, ':');
    if (!colon || colon == msg || memchr(msg, '\n', (size_t)(colon - msg)))
        return 0;
    const char *p = colon + 1;
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == ':';
}

int lh_script_traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) ==
            LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)",
                                  luaL_typename(L, 1));
    }
    /* error({...}), error(), a yield outside a coroutine: no position of
     * their own; the innermost Lua line that raised them is the one */
    lua_Debug ar;
    for (int level = 1; !has_location(msg) && lua_getstack(L, level, &ar);
         level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            msg = lua_pushfstring(L, "%s:%d: %s", ar.short_src,
                                  ar.currentline, msg);
            break;
        }
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int lh_script_pcall(lua_State *L, int nargs, int nresults, lh_buf *err)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, lh_script_traceback);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nresults, base);
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        lh_buf_reset(err);
        lh_buf_puts(err, msg ? msg : "(error without message)");
        lua_pop(L, 1);
        lua_remove(L, base);
        return -1;
    }
    lua_remove(L, base);
    return 0;
}

/* ---- a bounded load: a top level that never returns is an error ---- */

#define LOAD_TIMEOUT_DEFAULT 10.0

static _Thread_local double load_deadline;     /* lh_now(); 0: none */
static _Thread_local double load_seconds;
static _Thread_local int load_expired;

/* LEAKHOUND_LOAD_TIMEOUT in seconds ("5", "2.5s"), or -1 if malformed. */
static double load_timeout(void)
{
    const char *v = getenv("LEAKHOUND_LOAD_TIMEOUT");
    if (!v || !*v)
        return LOAD_TIMEOUT_DEFAULT;
    char *end;
    double s = strtod(v, &end);
    if (*end == 's')
        end++;
    return *end == '\0' && end != v && isfinite(s) && s > 0 ? s : -1;
}

static void load_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (load_deadline <= 0 || lh_now() < load_deadline)
        return;
    load_expired = 1;
    /* every instruction from now on, so a pcall in a loop cannot hold
     * the error back */
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 1);
    lua_Debug here;
    const char *where = "";
    if (lua_getstack(L, 0, &here) && lua_getinfo(L, "Sl", &here) &&
        here.currentline > 0)
        where = lua_pushfstring(L, "%s:%d: ", here.short_src,
                                here.currentline);
    char secs[32];
    snprintf(secs, sizeof secs, "%g", load_seconds);
    luaL_error(L, "%sthe script did not finish loading within %s s (its "
               "top level must declare workloads and return; "
               "LEAKHOUND_LOAD_TIMEOUT sets the limit)", where, secs);
}

int lh_script_load(lua_State *L, const char *path, lh_buf *err)
{
    lh_scriptenv_set_script(L, path);
    if (luaL_loadfile(L, path) != LUA_OK) {
        lh_buf_reset(err);
        lh_buf_puts(err, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    /* Strict globals from here on: the script declares its globals at
     * its top level; a typo anywhere else is an error. */
    lua_getglobal(L, "leak");
    lua_getfield(L, -1, "_strict");
    lua_pushglobaltable(L);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    load_seconds = load_timeout();
    if (load_seconds < 0) {
        lua_pop(L, 1);
        lh_buf_reset(err);
        lh_buf_printf(err, "%s: LEAKHOUND_LOAD_TIMEOUT='%s' is not a number "
                      "of seconds", path, getenv("LEAKHOUND_LOAD_TIMEOUT"));
        return -1;
    }
    load_deadline = lh_now() + load_seconds;
    load_expired = 0;
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 10000);
    int rc = lh_script_pcall(L, 0, 0, err);
    lua_sethook(L, NULL, 0, 0);
    load_deadline = 0;
    const char *msg = lh_buf_str(err);
    const char *nl = strchr(msg, '\n');
    size_t first = nl ? (size_t)(nl - msg) : strlen(msg);
    if (rc < 0 && load_expired && (first < strlen(path) ||
                                   !memmem(msg, first, path, strlen(path)))) {
        /* name the script even when the loop was in another file */
        lh_buf b = LH_BUF_INIT;
        lh_buf_printf(&b, "%s: %s", path, msg);
        lh_buf_reset(err);
        lh_buf_puts(err, lh_buf_str(&b));
        lh_buf_free(&b);
    }
    return rc;
}

static void push_workloads(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "leak");
    lua_getfield(L, -1, "_workloads");
    lua_replace(L, -3);
    lua_pop(L, 1);
}

void lh_script_workload(lua_State *L, int idx)
{
    push_workloads(L);
    lua_rawgeti(L, -1, idx);
    lua_remove(L, -2);
}

int lh_script_workload_count(lua_State *L)
{
    push_workloads(L);
    int n = (int)lua_rawlen(L, -1);
    lua_pop(L, 1);
    return n;
}

static const char *workload_name(lua_State *L, int idx)
{
    lh_script_workload(L, idx);
    lua_getfield(L, -1, "name");
    const char *name = lua_tostring(L, -1);
    lua_pop(L, 2);  /* the name stays reachable from the workload table */
    return name ? name : "";
}

int lh_script_find_workload(lua_State *L, const char *name)
{
    int n = lh_script_workload_count(L);
    for (int i = 1; i <= n; i++)
        if (strcmp(workload_name(L, i), name) == 0)
            return i;
    return 0;
}

void lh_script_workload_names(lua_State *L, lh_buf *out)
{
    int n = lh_script_workload_count(L);
    for (int i = 1; i <= n; i++)
        lh_buf_printf(out, "%s%s", i > 1 ? ", " : "", workload_name(L, i));
}
