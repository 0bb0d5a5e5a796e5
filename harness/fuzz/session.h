/*
 * session.h - one workload made ready to take single inputs: script
 * loaded, target opened, setup and warmup done.  What the fuzz drivers,
 * `repro` and `minimize` build on (the regular worker runs phases of many
 * steps instead, see worker.c).
 */
#ifndef LEAKHOUND_SESSION_H
#define LEAKHOUND_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "buf.h"
#include "flight.h"
#include "oracle.h"
#include "probes.h"
#include "runner.h"
#include "workload.h"

typedef struct lh_session {
    const char *script;
    lua_State *L;
    int wtab;               /* stack index of the workload table */
    lh_workload w;
    lh_target *target;      /* NULL when the workload has none */
    lh_probes probes;
    lh_runner runner;
    lh_flight *flight;
    int trace_idx, step_idx;
    lua_Integer next_i;     /* iteration index passed to step */
    lh_op_fn direct;        /* step is lib:fn(op): call it directly */
    int step_nargs;         /* the parameters a Lua step declares (<= 3) */
    /* The oracle's steps since input_steps was last zeroed; before the
     * second (the first replay of an input), before_replay is called. */
    unsigned input_steps;
    void (*before_replay)(void);
    /* The settle raised a Lua error (the oracle's settle cannot fail: its
     * callers look here after each run and end with this error). */
    int settle_failed;
    char settle_error[1024];
} lh_session;

/* Load the script, find the workload by name, open its target, run setup
 * and warmup.  -1 with a message (file:line where known) in err. */
int lh_session_open(lh_session *s, const char *script, const char *workload,
                    uint64_t seed, lh_buf *err);

/* Call the workload's step once on an input.  -1 with the Lua error and
 * traceback in err. */
int lh_session_step(lh_session *s, const uint8_t *data, size_t size,
                    lh_buf *err);

/* The workload's settle: its own function, or the default (Go GC).  A
 * Lua error in it sets settle_failed (the first one kept). */
void lh_session_settle(lh_session *s);

/* A leak oracle over the session's step and settle (cfg may be NULL).  A
 * step that raises a Lua error is reported on stderr and fails the
 * oracle's run. */
lh_oracle *lh_session_oracle(lh_session *s, const lh_oracle_config *cfg);

#endif
