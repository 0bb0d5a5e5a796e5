/* workload.c - reading a workload's configuration from Lua. */
#include "workload.h"

#include <string.h>

#include <lauxlib.h>

#include "lua_target.h"

static double num_field(lua_State *L, int idx, const char *k, double dflt)
{
    lua_getfield(L, idx, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

static int has_field(lua_State *L, int idx, const char *k)
{
    int t = lua_getfield(L, idx, k);
    lua_pop(L, 1);
    return t != LUA_TNIL;
}

static void str_field(lua_State *L, int idx, const char *k, char *out,
                      size_t len)
{
    lua_getfield(L, idx, k);
    const char *s = lua_tostring(L, -1);
    snprintf(out, len, "%s", s ? s : "");
    lua_pop(L, 1);
}

/* tolerance.<k> and tolerance.<k>_pct of the table on top. */
static void read_tolerance(lua_State *L, const char *k, lh_tolerance *t)
{
    char pct[32];
    snprintf(pct, sizeof pct, "%s_pct", k);
    t->given = has_field(L, -1, k);
    t->value = num_field(L, -1, k, 0);
    lua_getfield(L, -1, pct);
    t->is_pct = lua_toboolean(L, -1);
    lua_pop(L, 1);
}

static lh_inv_kind kind_of(const char *name, const char **canon)
{
    static const struct { const char *name; lh_inv_kind kind; } kinds[] = {
        { "stable", LH_INV_STABLE },
        { "baseline", LH_INV_BASELINE },
        { "bounded", LH_INV_BOUNDED },
        { "max_growth", LH_INV_MAX_GROWTH },
        { "rate", LH_INV_RATE },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kinds[i].name, name) == 0) {
            *canon = kinds[i].name;
            return kinds[i].kind;
        }
    *canon = "stable";
    return LH_INV_STABLE;
}

void lh_workload_add(lh_workload *w, const char *kind, const char *metric)
{
    if (w->ninvariants >= LH_MAX_INVARIANTS)
        return;
    lh_invariant *inv = &w->inv[w->ninvariants++];
    memset(inv, 0, sizeof *inv);
    snprintf(inv->metric, sizeof inv->metric, "%s", metric);
    inv->spec.kind = kind_of(kind, &inv->kind_name);
}

int lh_workload_read(lua_State *L, int idx, lh_workload *w, lh_buf *err)
{
    idx = lua_absindex(L, idx);
    memset(w, 0, sizeof *w);
    str_field(L, idx, "name", w->name, sizeof w->name);
    str_field(L, idx, "source", w->source, sizeof w->source);
    w->index = (int)num_field(L, idx, "index", 0);
    w->warmup = (long)num_field(L, idx, "warmup", LH_DEFAULT_WARMUP);
    w->duration = num_field(L, idx, "duration", 0);
    w->iterations = (long)num_field(L, idx, "iterations",
                                    w->duration > 0 ? 0
                                                    : LH_DEFAULT_ITERATIONS);
    w->threads = (int)num_field(L, idx, "threads", 1);
    w->samples = (int)num_field(L, idx, "samples", LH_DEFAULT_SAMPLES);
    w->timeout = num_field(L, idx, "timeout", LH_DEFAULT_TIMEOUT);
    w->horizon = num_field(L, idx, "horizon", LH_HORIZON_DEFAULT);
    /* leak.lua keeps a workload with a bad field, with its error, so that
     * the script's other workloads are still reported. */
    lua_getfield(L, idx, "_error");
    if (lua_type(L, -1) == LUA_TSTRING) {
        lh_buf_puts(err, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    if (w->threads > 64) {
        lh_buf_printf(err, "%s: workload '%s': threads = %d, at most 64",
                      w->source, w->name, w->threads);
        return -1;
    }
    w->samples_given = has_field(L, idx, "samples");
    if (w->iterations > 0 && w->samples > w->iterations) {
        w->samples = (int)w->iterations;
        w->samples_capped = 1;
    }

    lua_getfield(L, idx, "target");
    if (luaL_testudata(L, -1, LH_TARGET_MT)) {
        lua_getfield(L, -1, "path");
        lua_pushvalue(L, -2);
        lua_call(L, 1, 1);
        snprintf(w->target, sizeof w->target, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    int top = lua_gettop(L);
    if (lua_getfield(L, idx, "inputs") == LUA_TTABLE &&
        lua_getfield(L, -1, "__leak_corpus") == LUA_TSTRING)
        snprintf(w->corpus, sizeof w->corpus, "%s", lua_tostring(L, -1));
    lua_settop(L, top);

    lua_getfield(L, idx, "diagnose");
    w->diagnose = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
    w->sample_bytes = (long)num_field(L, idx, "sample_bytes",
                                      LH_DEFAULT_SAMPLE_BYTES);

    if (lua_getfield(L, idx, "ignore_goroutines") == LUA_TTABLE) {
        w->has_goignore = 1;
        static const char *keys[] = { "top", "any", "creator" };
        for (int k = 0; k < 3; k++) {
            char (*names)[128] = k == 0 ? w->goignore.top
                                 : k == 1 ? w->goignore.any
                                          : w->goignore.creator;
            int *n = k == 0 ? &w->goignore.ntop
                     : k == 1 ? &w->goignore.nany : &w->goignore.ncreator;
            if (lua_getfield(L, -1, keys[k]) == LUA_TTABLE) {
                lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
                for (lua_Integer i = 1; i <= len && *n < LH_GOIGNORE_MAX;
                     i++) {
                    if (lua_rawgeti(L, -1, i) == LUA_TSTRING)
                        snprintf(names[(*n)++], 128, "%s",
                                 lua_tostring(L, -1));
                    lua_pop(L, 1);
                }
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    /* leak.lua checked the list: strings, at most LH_NOT_MINE_MAX. */
    if (lua_getfield(L, idx, "not_mine") == LUA_TTABLE) {
        lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer i = 1; i <= len && w->not_mine.n < LH_NOT_MINE_MAX;
             i++) {
            if (lua_rawgeti(L, -1, i) == LUA_TSTRING)
                snprintf(w->not_mine.prefix[w->not_mine.n++],
                         sizeof w->not_mine.prefix[0], "%s",
                         lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    lua_getfield(L, idx, "settle");
    w->has_settle = lua_isfunction(L, -1);
    w->settle_disabled = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    lua_pop(L, 1);

    if (lua_getfield(L, idx, "expect") == LUA_TTABLE) {
        str_field(L, -1, "status", w->expect, sizeof w->expect);
        lua_getfield(L, -1, "metrics");
        size_t off = 0;
        for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
            int n = snprintf(w->expect_metrics + off,
                             sizeof w->expect_metrics - off, "%s%s",
                             off ? "," : "", lua_tostring(L, -1));
            if (n > 0 && off + (size_t)n < sizeof w->expect_metrics)
                off += (size_t)n;
            lua_pop(L, 1);
        }
        lua_pop(L, 2);
    }
    lua_pop(L, 1);

    w->has_invariants = has_field(L, idx, "invariants");
    if (lua_getfield(L, idx, "invariants") == LUA_TTABLE) {
        for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TTABLE; i++) {
            if (w->ninvariants >= LH_MAX_INVARIANTS) {
                lua_pop(L, 2);
                lh_buf_printf(err, "%s: workload '%s': more than %d "
                              "invariants", w->source, w->name,
                              LH_MAX_INVARIANTS);
                return -1;
            }
            char kind[32], metric[128];
            str_field(L, -1, "kind", kind, sizeof kind);
            str_field(L, -1, "metric", metric, sizeof metric);
            lh_workload_add(w, kind, metric);
            lh_invariant *inv = &w->inv[w->ninvariants - 1];
            inv->slack_given = has_field(L, -1, "slack");
            inv->spec.slack = num_field(L, -1, "slack", 0);
            lua_getfield(L, -1, "slack_pct");
            inv->spec.slack_is_pct = lua_toboolean(L, -1);
            lua_pop(L, 1);
            inv->spec.max = num_field(L, -1, "max", 0);
            inv->spec.per_iter = num_field(L, -1, "per_iter", 0);
            inv->spec.alpha = num_field(L, -1, "alpha", 0);
            if (lua_getfield(L, -1, "tolerance") == LUA_TTABLE) {
                read_tolerance(L, "per_iter", &inv->tol_per_iter);
                read_tolerance(L, "peak", &inv->tol_peak);
            }
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return lh_workload_check_samples(w, err);
}

static int check_one(const lh_workload *w, const lh_invariant *inv,
                     const char *what, lh_buf *err)
{
    size_t need = lh_detect_min_samples(&inv->spec);
    if (need && (size_t)w->samples + 1 >= need)  /* + the baseline */
        return 0;
    double alpha = inv->spec.alpha > 0 ? inv->spec.alpha
                   : inv->spec.kind == LH_INV_RATE ? LH_RATE_ALPHA : 0.001;
    lh_buf_printf(err, "%s: workload '%s': samples = %d", w->source,
                  w->name, w->samples);
    if (w->samples_capped)
        lh_buf_printf(err, " (capped at iterations = %ld)", w->iterations);
    else if (!w->samples_given)
        lh_buf_puts(err, " (the default)");
    lh_buf_printf(err, ": %s '%s'%s can never fail: ", inv->kind_name,
                  inv->metric, what);
    if (!need) {
        lh_buf_printf(err, "no number of samples reaches p < %g", alpha);
        return -1;
    }
    lh_buf_printf(err, "its %s needs at least %zu samples (%zu "
                  "with the baseline) to reach p < %g; use samples >= %zu",
                  inv->spec.kind == LH_INV_RATE ? "interval of the median "
                  "rate" : "trend test", need - 1, need, alpha, need - 1);
    if (w->iterations > 0 && (size_t)w->iterations < need - 1)
        lh_buf_printf(err, " and iterations >= %zu", need - 1);
    return -1;
}

int lh_workload_check_samples(const lh_workload *w, lh_buf *err)
{
    if (w->ninvariants == 0) {
        /* the defaults are all stable at the default alpha */
        lh_invariant def;
        memset(&def, 0, sizeof def);
        snprintf(def.metric, sizeof def.metric, "heap.live_bytes");
        def.kind_name = "stable";
        def.spec.kind = LH_INV_STABLE;
        return check_one(w, &def, " (a default invariant)", err);
    }
    for (int i = 0; i < w->ninvariants; i++)
        if (check_one(w, &w->inv[i], "", err) < 0)
            return -1;
    return 0;
}
