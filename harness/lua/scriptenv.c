/* scriptenv.c - a state's mode and script directory, in its registry. */
#include "scriptenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REG_WORKER "leakhound.worker"           /* boolean */
#define REG_SCRIPT_DIR "leakhound.script_dir"   /* string */

void lh_scriptenv_set_worker(lua_State *L, int worker)
{
    lua_pushboolean(L, worker);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_WORKER);
}

void lh_scriptenv_set_script(lua_State *L, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        lua_pushlstring(L, path, (size_t)(slash - path));
    else
        lua_pushliteral(L, ".");
    lua_setfield(L, LUA_REGISTRYINDEX, REG_SCRIPT_DIR);
}

int lh_scriptenv_worker(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_WORKER);
    int worker = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return worker;
}

int lh_scriptenv_resolve(lua_State *L, const char *path, char *out,
                         size_t len)
{
    snprintf(out, len, "%s", path);
    if (path[0] == '/')
        return access(path, F_OK) == 0 ? 0 : -1;
    const char *root = getenv("LEAKHOUND_ROOT");
    if (root && *root) {
        char alt[4096];
        snprintf(alt, sizeof alt, "%s/%s", root, path);
        if (access(alt, F_OK) == 0) {
            snprintf(out, len, "%s", alt);
            return 0;
        }
    } else if (access(path, F_OK) == 0) {
        return 0;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, REG_SCRIPT_DIR);
    const char *dir = lua_tostring(L, -1);
    int found = -1;
    if (dir) {
        char alt[4096];
        snprintf(alt, sizeof alt, "%s/%s", dir, path);
        if (access(alt, F_OK) == 0) {
            snprintf(out, len, "%s", alt);
            found = 0;
        }
    }
    lua_pop(L, 1);
    return found;
}
