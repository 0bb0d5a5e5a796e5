/*
 * lua_rng.c - the leakhound.rng userdata handed to input generators.
 *
 *     inputs = function(rng, i) return "key-" .. rng:int(1, 1000) end
 *
 * xoshiro256** seeded through splitmix64: fast, and the same seed gives the
 * same inputs on every machine, so a run is reproducible from --seed.
 */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_rng.h"

typedef struct lh_rng {
    uint64_t s[4];
} lh_rng;

static lh_rng *checkrng(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, LH_RNG_MT);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(lh_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void lh_lua_pushrng(lua_State *L, uint64_t seed)
{
    lh_rng *r = lua_newuserdatauv(L, sizeof *r, 0);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
    luaL_setmetatable(L, LH_RNG_MT);
}

/* Uniform in [0, n) without modulo bias. */
static uint64_t below(lh_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = next(r);
    while (x >= limit);
    return x % n;
}

/* rng:int(n) -> 1..n; rng:int(lo, hi) -> lo..hi */
static int rng_int(lua_State *L)
{
    lh_rng *r = checkrng(L, 1);
    lua_Integer lo = 1, hi;
    if (lua_isnoneornil(L, 3)) {
        hi = luaL_checkinteger(L, 2);
    } else {
        lo = luaL_checkinteger(L, 2);
        hi = luaL_checkinteger(L, 3);
    }
    luaL_argcheck(L, lo <= hi, 2, "empty interval");
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    uint64_t v = span ? below(r, span) : next(r);
    lua_pushinteger(L, (lua_Integer)((uint64_t)lo + v));
    return 1;
}

static int rng_float(lua_State *L)
{
    lh_rng *r = checkrng(L, 1);
    lua_pushnumber(L, (double)(next(r) >> 11) * 0x1.0p-53);
    return 1;
}

static int rng_bytes(lua_State *L)
{
    lh_rng *r = checkrng(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0 && n <= (1 << 26), 2, "size out of range");
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, (size_t)n);
    for (lua_Integer i = 0; i < n; i += 8) {
        uint64_t x = next(r);
        size_t k = (size_t)(n - i < 8 ? n - i : 8);
        memcpy(p + i, &x, k);
    }
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

static int rng_pick(lua_State *L)
{
    lh_rng *r = checkrng(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    luaL_argcheck(L, n > 0, 2, "empty list");
    lua_rawgeti(L, 2, (lua_Integer)below(r, (uint64_t)n) + 1);
    return 1;
}

static int rng_tostring(lua_State *L)
{
    lua_pushfstring(L, "leak.rng(%p)", (void *)checkrng(L, 1));
    return 1;
}

static const luaL_Reg rng_methods[] = {
    { "int", rng_int },
    { "float", rng_float },
    { "bytes", rng_bytes },
    { "pick", rng_pick },
    { NULL, NULL },
};

static const luaL_Reg rng_meta[] = {
    { "__tostring", rng_tostring },
    { "__index", NULL },
    { NULL, NULL },
};

/* leak.rng([seed]) */
static int rng_new(lua_State *L)
{
    lh_lua_pushrng(L, (uint64_t)luaL_optinteger(L, 1, 1));
    return 1;
}

static const luaL_Reg rng_funcs[] = {
    { "rng", rng_new },
    { NULL, NULL },
};

int luaopen_leakhound_rng(lua_State *L)
{
    luaL_newmetatable(L, LH_RNG_MT);
    luaL_setfuncs(L, rng_meta, 0);
    luaL_newlib(L, rng_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, rng_funcs);
    return 1;
}
