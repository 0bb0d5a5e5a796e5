/* session.c - a workload ready for single inputs. */
#include "session.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_target.h"
#include "lualeak.h"
#include "script.h"

static void default_settle(void *ud)
{
    lh_session *s = ud;
    lh_probes_settle(&s->probes);
}

int lh_session_open(lh_session *s, const char *script, const char *workload,
                    uint64_t seed, lh_buf *err)
{
    memset(s, 0, sizeof *s);
    s->script = script;
    lua_State *L = s->L = lh_script_new(LH_SCRIPT_WORKER);
    if (!L) {
        lh_buf_puts(err, "cannot create a Lua state");
        return -1;
    }
    if (lh_script_load(L, script, err) < 0)
        return -1;
    int index = lh_script_find_workload(L, workload);
    if (!index) {
        lh_buf_printf(err, "%s: no workload named '%s'", script, workload);
        return -1;
    }
    lh_script_workload(L, index);
    s->wtab = lua_gettop(L);
    if (lh_workload_read(L, s->wtab, &s->w, err) < 0)
        return -1;

    char msg[2048];
    lua_getfield(L, s->wtab, "target");
    if (!lua_isnil(L, -1)) {
        s->target = lh_lua_totarget(L, -1, msg, sizeof msg);
        if (!s->target) {
            lh_buf_printf(err, "%s: workload '%s': %s", s->w.source,
                          s->w.name, msg);
            return -1;
        }
    }
    lua_pop(L, 1);
    lh_probes_init(&s->probes, s->target);
    if (s->target && s->target->allocator)
        fprintf(stderr, "leakhound: warning: heap growth is not watched: "
                "target '%s' runs with %s, which the malloc interposer "
                "cannot see (README: Metrics)\n", s->target->path,
                s->target->allocator);
    lh_lua_set_settle(L, default_settle, s);
    lh_blame_set_not_mine(&s->w.not_mine);     /* for the leak's site */

    if (lua_getfield(L, s->wtab, "setup") == LUA_TFUNCTION) {
        if (lh_script_pcall(L, 0, 0, err) < 0)
            return -1;
    } else {
        lua_pop(L, 1);
    }
    /* Warm up on the workload's own inputs: one-time initialisation must
     * be over before anything is measured. */
    int fd;
    s->flight = lh_flight_create(&fd);
    if (!s->flight) {
        lh_buf_puts(err, "cannot create the flight recorder");
        return -1;
    }
    if (lh_runner_init(&s->runner, L, 1, script, index, seed, s->flight,
                       err) < 0 ||
        lh_runner_init_threads(&s->runner, err) < 0 ||
        lh_runner_phase(&s->runner, (uint64_t)s->w.warmup, 0, 0, err) < 0)
        return -1;
    s->trace_idx = s->runner.threads[0].base;
    s->step_idx = s->trace_idx + 1;
    s->next_i = (lua_Integer)lh_runner_done(&s->runner);
    s->direct = lh_lua_toop(L, s->step_idx);
    /* step(input, i, thread): a Lua function declaring fewer parameters
     * gets only those, the input at least (the rest would be dropped on
     * entry: two pushes per input saved). */
    lua_Debug ar;
    lua_pushvalue(L, s->step_idx);
    s->step_nargs = 3;
    if (lua_getinfo(L, ">u", &ar) && !ar.isvararg && ar.nparams < 3)
        s->step_nargs = ar.nparams < 1 ? 1 : ar.nparams;
    /* Every input becomes a Lua string that dies with its step: young
     * garbage, which the generational collector frees for less. */
    lua_gc(L, LUA_GCGEN, 0, 0);
    return 0;
}

int lh_session_step(lh_session *s, const uint8_t *data, size_t size,
                    lh_buf *err)
{
    lua_State *L = s->L;
    if (s->direct) {
        lh_target_call(s->direct, data, size);
        s->next_i++;
        return 0;
    }
    lua_pushvalue(L, s->step_idx);
    lua_pushlstring(L, (const char *)data, size);
    if (s->step_nargs > 1)
        lua_pushinteger(L, s->next_i);
    if (s->step_nargs > 2)
        lua_pushinteger(L, 0);
    s->next_i++;
    if (lua_pcall(L, s->step_nargs, 0, s->trace_idx) != LUA_OK) {
        lh_buf_reset(err);
        lh_buf_puts(err, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

void lh_session_settle(lh_session *s)
{
    if (s->w.has_settle) {
        lua_getfield(s->L, s->wtab, "settle");
        lh_buf err = LH_BUF_INIT;
        if (lh_script_pcall(s->L, 0, 0, &err) < 0 && !s->settle_failed) {
            s->settle_failed = 1;
            snprintf(s->settle_error, sizeof s->settle_error, "%s",
                     lh_buf_str(&err));
        }
        lh_buf_free(&err);
    } else if (!s->w.settle_disabled) {
        lh_probes_settle(&s->probes);
    }
}

/* Before an input's first replay (its second step) the fuzz driver saves
 * the engine's coverage counters: replays add none of their own. */
static inline void count_step(lh_session *s)
{
    if (s->input_steps++ == 1 && s->before_replay)
        s->before_replay();
}

static int oracle_step(void *ud, const uint8_t *data, size_t size)
{
    count_step(ud);
    lh_buf err = LH_BUF_INIT;
    int rc = lh_session_step(ud, data, size, &err);
    if (rc < 0) {
        fprintf(stderr, "leakhound: the workload's step raised an error "
                "(a script problem, not a target crash):\n%s\n",
                lh_buf_str(&err));
        lh_buf_free(&err);      /* only an error fills it: no free() on
                                 * every input */
    }
    return rc;
}

/* step = lib:fn: the op itself, one call fewer on every input. */
static int oracle_step_direct(void *ud, const uint8_t *data, size_t size)
{
    lh_session *s = ud;
    count_step(s);
    lh_target_call(s->direct, data, size);
    s->next_i++;
    return 0;
}

static void oracle_settle(void *ud)
{
    lh_session_settle(ud);
}

lh_oracle *lh_session_oracle(lh_session *s, const lh_oracle_config *cfg)
{
    return lh_oracle_new(&s->probes, cfg,
                         s->direct ? oracle_step_direct : oracle_step,
                         oracle_settle, s);
}
