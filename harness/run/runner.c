/* runner.c - the step loop, its threads and phases. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "file.h"
#include "interpose.h"
#include "script.h"
#include "lua_rng.h"
#include "clock.h"

/* Stack layout of each thread's state, from base:
 *   base+0 traceback handler, base+1 step, base+2 inputs (or nil),
 *   base+3 rng */
enum { S_TRACE, S_STEP, S_INPUTS, S_RNG };

/* One corpus entry into data: 1 when read, 0 for a directory (such as
 * regressions/), -1 with the reason in err.  Never blocks: the type is
 * checked before opening, and the open is non-blocking in case the entry
 * was swapped for a FIFO in between. */
static int read_entry(const char *path, lh_buf *data, lh_buf *err)
{
    struct stat st;
    const char *why = NULL;
    if (stat(path, &st) < 0) {
        int e = errno;
        struct stat lst;
        if (e == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
            why = "a dangling symbolic link";
        else if (e == ELOOP)
            why = "a symbolic link loop";
        else
            why = strerror(e);
    } else if (S_ISDIR(st.st_mode)) {
        return 0;
    } else if (!S_ISREG(st.st_mode)) {
        why = S_ISFIFO(st.st_mode) ? "a FIFO, not a regular file"
              : S_ISSOCK(st.st_mode) ? "a socket, not a regular file"
              : "a device, not a regular file";
    }
    int fd = -1;
    if (!why) {
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            why = strerror(errno);
        else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
            why = "not a regular file";
    }
    char chunk[16384];
    while (!why) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            why = strerror(errno);
        else if (n == 0)
            break;
        else
            lh_buf_add(data, chunk, (size_t)n);
    }
    if (fd >= 0)
        close(fd);
    if (why) {
        lh_buf_printf(err, "corpus entry '%s' cannot be read: %s", path,
                      why);
        return -1;
    }
    return 1;
}

/* What load_corpus's protected part works with; the caller owns (and
 * frees) the buffers, so a Lua memory error cannot leak them. */
typedef struct corpus_ctx {
    const char *dir;
    lh_buf names, path, data;
    lh_buf *err;
    int rc;
} corpus_ctx;

static int push_corpus(lua_State *L)
{
    corpus_ctx *c = lua_touserdata(L, 1);
    lua_newtable(L);
    lua_Integer n = 0;
    for (const char *p = lh_buf_str(&c->names); *p; p += strlen(p) + 1) {
        lh_buf_reset(&c->path);
        lh_buf_printf(&c->path, "%s/%s", c->dir, p);
        lh_buf_reset(&c->data);
        c->rc = read_entry(lh_buf_str(&c->path), &c->data, c->err);
        if (c->rc < 0)
            return 0;
        if (c->rc == 0)
            continue;
        lua_pushlstring(L, c->data.data ? c->data.data : "", c->data.len);
        lua_rawseti(L, -2, ++n);
    }
    if (n == 0) {
        lh_buf_printf(c->err, "corpus '%s' has no input files", c->dir);
        c->rc = -1;
        return 0;
    }
    c->rc = 0;
    return 1;
}

/* Corpus files in name order, as a list of strings on the stack.  An
 * entry that cannot be read is an error naming it: skipping it would run
 * (and judge) a workload on fewer inputs than its corpus holds. */
static int load_corpus(lua_State *L, const char *dir, lh_buf *err)
{
    /* Directory listing and reading happen in C with uncounted memory. */
    corpus_ctx c = { .dir = dir, .names = LH_BUF_INIT, .path = LH_BUF_INIT,
                     .data = LH_BUF_INIT, .err = err, .rc = -1 };
    if (lh_list_dir(dir, &c.names) < 0) {
        lh_buf_printf(err, "corpus '%s': %s", dir, strerror(errno));
        lh_buf_free(&c.names);
        return -1;
    }
    lua_pushcfunction(L, push_corpus);
    lua_pushlightuserdata(L, &c);
    int prc = lua_pcall(L, 1, 1, 0);
    if (prc != LUA_OK) {
        lh_buf_printf(err, "corpus '%s': %s", dir, lua_tostring(L, -1));
        c.rc = -1;
    }
    lh_buf_free(&c.names);
    lh_buf_free(&c.path);
    lh_buf_free(&c.data);
    if (c.rc < 0) {
        lua_pop(L, 1);  /* nil or the error */
        return -1;
    }
    return 0;
}

/* With the workload table on top of t->L, set up the stack layout. */
static int prepare(lh_rthread *t, lh_buf *err)
{
    lua_State *L = t->L;
    int w = lua_gettop(L);
    t->base = w + 1;
    lua_pushcfunction(L, lh_script_traceback);
    lua_getfield(L, w, "step");
    int kind = lua_getfield(L, w, "inputs");
    t->inputs_kind = 0;
    if (kind == LUA_TFUNCTION) {
        t->inputs_kind = 2;
    } else if (kind == LUA_TTABLE) {
        lua_getfield(L, -1, "__leak_corpus");
        const char *dir = lua_tostring(L, -1);
        if (dir) {
            char d[4096];
            snprintf(d, sizeof d, "%s", dir);
            lua_pop(L, 2);
            if (load_corpus(L, d, err) < 0)
                return -1;
        } else {
            lua_pop(L, 1);
        }
        t->inputs_kind = 1;
        t->ninputs = (lua_Integer)lua_rawlen(L, -1);
    }
    lh_lua_pushrng(L, t->runner->seed * 0x9e3779b97f4a7c15ULL +
                          (uint64_t)t->index);
    return 0;
}

/* The step's lua_pcall, for a wrapper to call: never raises. */
typedef struct pcall_args {
    lua_State *L;
    int handler;
    int rc;
} pcall_args;

static void pcall_step(void *p)
{
    pcall_args *a = p;
    a->rc = lua_pcall(a->L, 3, 0, a->handler);
}

/* One step: fetch the input, record it, call step(input, i). */
static int step(lh_rthread *t, lh_buf *err)
{
    lua_State *L = t->L;
    int base = t->base;
    lh_runner *r = t->runner;
    lua_Integer i = (lua_Integer)(t->k * (uint64_t)r->nthreads +
                                  (uint64_t)t->index);
    lua_pushvalue(L, base + S_STEP);
    switch (t->inputs_kind) {
    case 1:
        lua_rawgeti(L, base + S_INPUTS, i % t->ninputs + 1);
        break;
    case 2:
        lua_pushvalue(L, base + S_INPUTS);
        lua_pushvalue(L, base + S_RNG);
        lua_pushinteger(L, i);
        if (lua_pcall(L, 2, 1, base + S_TRACE) != LUA_OK) {
            lh_buf_printf(err, "inputs generator failed: %s",
                          lua_tostring(L, -1));
            lua_pop(L, 2);
            return -1;
        }
        if (lua_type(L, -1) != LUA_TSTRING && !lua_isnil(L, -1)) {
            lh_buf_printf(err, "inputs generator returned a %s at "
                          "iteration %lld (want a string)",
                          luaL_typename(L, -1), (long long)i);
            lua_pop(L, 2);
            return -1;
        }
        break;
    default:
        lua_pushnil(L);
    }
    lh_flight_slot *slot = &r->flight->slot[t->index];
    size_t len = 0;
    const char *in = lua_tolstring(L, -1, &len);
    slot->iter = (uint64_t)i;
    slot->len = (uint32_t)len;
    memcpy(slot->data, in ? in : "", len < LH_FLIGHT_INPUT_MAX
                                           ? len : LH_FLIGHT_INPUT_MAX);
    slot->busy = 1;
    lua_pushinteger(L, i);
    lua_pushinteger(L, t->index);
    uint64_t t0 = r->record_latency ? lh_now_ns() : 0;
    pcall_args pa = { L, base + S_TRACE, LUA_OK };
    if (r->wrap)
        r->wrap(r->wrap_ud, t->index, pcall_step, &pa);
    else
        pcall_step(&pa);
    int rc = pa.rc;
    if (r->record_latency)
        lh_hist_add(&t->hist, lh_now_ns() - t0);
    slot->busy = 0;
    if (rc != LUA_OK) {
        lh_buf_puts(err, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    t->k++;
    t->done++;
    return 0;
}

static void run_share(lh_rthread *t)
{
    lh_runner *r = t->runner;
    uint64_t quota = r->quota[t->index];
    double next_tick = t->index == 0 && r->tick ? lh_now() +
                                                  r->tick_interval : 0;
    for (uint64_t n = 0; !r->abort; n++) {
        if (r->deadline > 0) {
            if ((n & 15) == 0 && lh_now() >= r->deadline)
                break;
        } else if (n >= quota) {
            break;
        }
        if (step(t, &t->err) < 0) {
            r->abort = 1;
            break;
        }
        if (next_tick > 0 && (n & 63) == 0 && lh_now() >= next_tick) {
            r->tick(r->tick_ud);
            next_tick = lh_now() + r->tick_interval;
        }
    }
}

static void *thread_main(void *arg)
{
    lh_rthread *t = arg;
    lh_runner *r = t->runner;
    for (;;) {
        pthread_barrier_wait(&r->go);
        if (r->quit)
            break;
        run_share(t);
        pthread_barrier_wait(&r->end);
    }
    return NULL;
}

int lh_runner_init(lh_runner *r, lua_State *L, int nthreads,
                   const char *script, int workload_index, uint64_t seed,
                   lh_flight *flight, lh_buf *err)
{
    memset(r, 0, sizeof *r);
    r->nthreads = nthreads;
    r->script = script;
    r->workload_index = workload_index;
    r->seed = seed;
    r->flight = flight;
    r->tick_interval = 0.25;
    r->threads = lh_xcalloc((size_t)nthreads, sizeof *r->threads);
    flight->nthreads = (uint32_t)nthreads;
    for (int i = 0; i < nthreads; i++) {
        lh_rthread *t = &r->threads[i];
        t->runner = r;
        t->index = i;
        if (i == 0) {
            t->L = L;
        } else {
            t->L = lh_script_new(LH_SCRIPT_WORKER);
            if (!t->L || lh_script_load(t->L, script, err) < 0) {
                lh_buf_printf(err, " (loading the script for thread %d)",
                              i);
                return -1;
            }
            lh_script_workload(t->L, workload_index);
        }
        if (prepare(t, err) < 0)
            return -1;
    }
    pthread_barrier_init(&r->go, NULL, (unsigned)nthreads);
    pthread_barrier_init(&r->end, NULL, (unsigned)nthreads);
    /* glibc allocates per-thread bookkeeping that outlives the thread;
     * it is the harness's, not the target's. */
    lh_heap_suspend();
    int started = 1;
    for (; started < nthreads; started++)
        if (pthread_create(&r->threads[started].tid, NULL, thread_main,
                           &r->threads[started]) != 0)
            break;
    lh_heap_resume();
    for (int i = started; i < nthreads; i++)
        if (i == started) {
            lh_buf_printf(err, "cannot start worker thread %d", i);
            /* threads already started wait on a barrier that can never
             * complete; the worker exits right after reporting */
            return -1;
        }
    return 0;
}

int lh_runner_init_threads(lh_runner *r, lh_buf *err)
{
    for (int i = 0; i < r->nthreads; i++) {
        lh_rthread *t = &r->threads[i];
        lua_State *L = t->L;
        /* the workload table sits just below the base */
        if (lua_getfield(L, t->base - 1, "init") != LUA_TFUNCTION) {
            lua_pop(L, 1);
            return 0;
        }
        lua_pushinteger(L, i);
        if (lh_script_pcall(L, 1, 0, err) < 0)
            return -1;
    }
    return 0;
}

int lh_runner_phase(lh_runner *r, uint64_t iterations, double seconds,
                    int record_latency, lh_buf *err)
{
    uint64_t n = (uint64_t)r->nthreads;
    for (uint64_t i = 0; i < n; i++)
        r->quota[i] = iterations / n + (i < iterations % n);
    r->deadline = seconds > 0 ? lh_now() + seconds : 0;
    r->record_latency = record_latency;
    if (r->nthreads > 1)
        pthread_barrier_wait(&r->go);
    run_share(&r->threads[0]);
    if (r->nthreads > 1)
        pthread_barrier_wait(&r->end);
    if (r->abort) {
        for (int i = 0; i < r->nthreads; i++)
            if (r->threads[i].err.len) {
                lh_buf_puts(err, lh_buf_str(&r->threads[i].err));
                if (r->nthreads > 1)
                    lh_buf_printf(err, "\n(in thread %d)", i);
                break;
            }
        return -1;
    }
    return 0;
}

uint64_t lh_runner_done(const lh_runner *r)
{
    uint64_t sum = 0;
    for (int i = 0; i < r->nthreads; i++)
        sum += r->threads[i].done;
    return sum;
}

void lh_runner_latency(const lh_runner *r, lh_hist *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < r->nthreads; i++)
        lh_hist_merge(out, &r->threads[i].hist);
}

void lh_runner_finish(lh_runner *r)
{
    if (r->nthreads > 1 && !r->quit) {
        r->quit = 1;
        pthread_barrier_wait(&r->go);
        for (int i = 1; i < r->nthreads; i++)
            pthread_join(r->threads[i].tid, NULL);
    }
    for (int i = 1; i < r->nthreads; i++)
        if (r->threads[i].L)
            lua_close(r->threads[i].L);
}
