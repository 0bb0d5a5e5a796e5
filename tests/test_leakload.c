/*
 * test_leakload.c - leak.lua is embedded with its bytecode (start-up,
 * issue 13): the bytecode is what a Lua state loads, with its debug
 * information (errors still name leak.lua and the line), and the source
 * is loaded when this Lua refuses the bytecode.
 *
 * One line per check, then "N passed, N failed".
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "embedded.h"
#include "lualeak.h"
#include "script.h"

#include "check.h"

static const lh_embedded_file *find(const char *name)
{
    for (const lh_embedded_file *f = lh_embedded; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Lines with code in the function on top (0 when stripped), popped. */
static int code_lines(lua_State *L)
{
    lua_Debug ar;
    lua_getinfo(L, ">SL", &ar);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

int main(void)
{
    const lh_embedded_file *src = find("leak"), *bc = find("leak.luac");
    check(src && bc, "leak.lua is embedded with its bytecode");
    if (!src || !bc)
        return check_report();
    check(bc->size > 4 && memcmp(bc->data, LUA_SIGNATURE, 4) == 0,
          "... which is Lua bytecode (%zu bytes)", bc->size);

    lua_State *L = luaL_newstate();
    int rc = lh_leak_load(L, bc->data, bc->size, src->data, src->size,
                          "=leak.lua");
    check(rc == 1, "this Lua loads the bytecode (%d)", rc);
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);
    check(strcmp(ar.short_src, "leak.lua") == 0,
          "... named leak.lua (%s)", ar.short_src);
    int lines = code_lines(L);
    check(lines > 50, "... its line information kept (%d lines)", lines);
    lua_settop(L, 0);

    /* Another Lua's bytecode (version byte changed): the source. */
    char *other = malloc(bc->size);
    memcpy(other, bc->data, bc->size);
    other[4] = 0x53;
    rc = lh_leak_load(L, other, bc->size, src->data, src->size,
                      "=leak.lua");
    check(rc == 0 && lua_isfunction(L, -1),
          "bytecode this Lua refuses: the source is loaded (%d)", rc);
    lua_settop(L, 0);
    rc = lh_leak_load(L, NULL, 0, "return +", 8, "=bad.lua");
    check(rc < 0 && strstr(lua_tostring(L, -1), "bad.lua:1:"),
          "a source that does not parse: its error (%s)",
          lua_tostring(L, -1));
    free(other);
    lua_close(L);

    /* A whole state, as the harness makes them: leak.workload from the
     * bytecode, and an error inside leak.lua named with its line. */
    L = lh_script_new(LH_SCRIPT_DECLARE);
    int ok = luaL_dostring(L, "return type(leak.workload), "
                              "type(leak.stable)") == LUA_OK;
    check(ok && strcmp(lua_tostring(L, -2), "function") == 0 &&
          strcmp(lua_tostring(L, -1), "function") == 0,
          "a script state has the DSL (leak.workload, leak.stable)");
    lua_settop(L, 0);
    ok = luaL_dostring(L, "local ok, e = xpcall(leak.stable, "
                          "debug.traceback, {}) return e") == LUA_OK;
    check(ok && strstr(lua_tostring(L, -1), "leak.lua:"),
          "an error through leak.lua names it: %.120s",
          ok ? lua_tostring(L, -1) : "?");
    lua_close(L);
    return check_report();
}
