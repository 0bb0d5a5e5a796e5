/*
 * supervisor.c - one worker process per workload.
 *
 * The supervisor never opens a target: it loads scripts only to list their
 * workloads, then re-executes itself as a worker for each one.  A worker
 * that crashes, hangs or exits early is judged here, with the input it was
 * running taken from the flight recorder and saved before anything else.
 */
#include "supervisor.h"

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>

#include "buf.h"
#include "file.h"
#include "child.h"
#include "clock.h"
#include "json.h"
#include "flight.h"
#include "outdir.h"
#include "alloc.h"
#include "script.h"
#include "text.h"
#include "worker.h"
#include "workload.h"

#define TAIL_MAX 8192

typedef struct job {
    const char *script;
    lh_workload w;
    const char *load_error;     /* script failed to load: no worker */
    /* outcome */
    const char *status;
    lh_buf result;              /* the workload's JSON object */
    lh_buf failed_metrics;      /* ",m1,m2," */
    int judged_partial;         /* crashed or timed out, judged on the
                                   samples taken before */
    int expect_met;
} job;

const char *const lh_report_files[] = {
    "report.json", "junit.xml", "summary.md", "index.html", NULL,
};

static int tty;
static const char *self_name = "leakhound";   /* argv[0], for commands */

static void clear_progress(void)
{
    if (tty)
        fputs("\r\033[K", stderr);
}

/* ---- listing workloads ------------------------------------------------ */

static job *jobs;
static int njobs;

static job *new_job(const char *script)
{
    jobs = lh_xrealloc(jobs, (size_t)(njobs + 1) * sizeof *jobs);
    job *j = &jobs[njobs++];
    memset(j, 0, sizeof *j);
    j->script = script;
    return j;
}

static int matches(const lh_run_opts *o, const char *name, int *used)
{
    if (o->nonly == 0)
        return 1;
    int hit = 0;
    for (int i = 0; i < o->nonly; i++)
        if (fnmatch(o->only[i], name, 0) == 0) {
            used[i] = 1;
            hit = 1;
        }
    return hit;
}

/* A workload name is a report folder, a case id and a baseline key: two
 * declarations of one name in a run are both errors naming each other. */
static void check_duplicates(void)
{
    for (int i = 0; i < njobs; i++) {
        if (jobs[i].load_error)
            continue;   /* says so already (or has no name) */
        lh_buf where = LH_BUF_INIT;
        int n = 0;
        for (int k = 0; k < njobs; k++)
            if (jobs[k].w.source[0] &&
                strcmp(jobs[k].w.name, jobs[i].w.name) == 0)
                lh_buf_printf(&where, "%s%s", n++ ? " and " : "",
                              jobs[k].w.source);
        if (n > 1) {
            lh_buf msg = LH_BUF_INIT;
            lh_buf_printf(&msg, "%s: workload '%s' is declared %d times "
                          "in this run (%s): a name must be unique (it "
                          "names the report folder, case id and baseline "
                          "key)", jobs[i].w.source, jobs[i].w.name, n,
                          lh_buf_str(&where));
            jobs[i].load_error = lh_xstrdup(lh_buf_str(&msg));
            lh_buf_free(&msg);
        }
        lh_buf_free(&where);
    }
}

static int collect(const lh_run_opts *o)
{
    int *used = lh_xcalloc((size_t)o->nonly + 1, sizeof *used);
    lh_buf names = LH_BUF_INIT, failed = LH_BUF_INIT;
    for (int s = 0; s < o->nscripts; s++) {
        lua_State *L = lh_script_new(LH_SCRIPT_DECLARE);
        lh_buf err = LH_BUF_INIT;
        int n = 0;
        if (lh_script_load(L, o->scripts[s], &err) == 0) {
            n = lh_script_workload_count(L);
            if (n == 0)
                lh_buf_printf(&err, "%s: declares no workloads (use "
                              "leak.workload \"name\" { ... })",
                              o->scripts[s]);
        }
        if (n == 0) {
            /* Reported whatever --workload says: the workload asked for
             * may be in it. */
            job *j = new_job(o->scripts[s]);
            snprintf(j->w.name, sizeof j->w.name, "%s", o->scripts[s]);
            j->load_error = lh_xstrdup(lh_buf_str(&err));
            const char *msg = lh_buf_str(&err);
            const char *tb = strstr(msg, "\nstack traceback:");
            lh_buf_printf(&failed, "\n  %.*s",
                          (int)(tb ? (size_t)(tb - msg) : strlen(msg)), msg);
            lh_buf_free(&err);
            lua_close(L);
            continue;
        }
        for (int i = 1; i <= n; i++) {
            lh_workload w;
            lh_script_workload(L, i);
            lh_buf_reset(&err);
            int rc = lh_workload_read(L, -1, &w, &err);
            lua_pop(L, 1);
            lh_buf_printf(&names, "%s%s", names.len ? ", " : "", w.name);
            if (!matches(o, w.name, used))
                continue;
            job *j = new_job(o->scripts[s]);
            j->w = w;
            if (rc < 0)
                j->load_error = lh_xstrdup(lh_buf_str(&err));
        }
        lh_buf_free(&err);
        lua_close(L);
    }
    check_duplicates();
    int bad = 0;
    for (int i = 0; i < o->nonly; i++)
        if (!used[i]) {
            fprintf(stderr, "leakhound: no workload matches --workload "
                    "'%s' (workloads: %s)%s%s\n", o->only[i],
                    names.len ? lh_buf_str(&names) : "none",
                    failed.len ? "; scripts that failed to load:" : "",
                    lh_buf_str(&failed));
            bad = 1;
        }
    lh_raw_free(used);
    lh_buf_free(&names);
    lh_buf_free(&failed);
    return bad ? -1 : 0;
}

/* ---- running one worker ---------------------------------------------- */

/* The worker's pipes, as lh_child numbers them. */
enum { OUT_PIPE, MSG_PIPE };

typedef struct child {
    lh_child proc;
    job *j;
    const lh_run_opts *o;
    int pos, total;
    lh_flight *flight;
    int flight_fd;
    lh_buf line;            /* partial message line */
    char tail[TAIL_MAX];    /* ring of the worker's stdout+stderr */
    size_t tail_len, tail_pos;
    int got_result;
    int diag_grace;         /* the deadline moved for the diagnosis */
    lh_buf interim;         /* the last interim result (worker.h) */
} child;

static void tail_add(child *c, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c->tail[c->tail_pos] = p[i];
        c->tail_pos = (c->tail_pos + 1) % TAIL_MAX;
        if (c->tail_len < TAIL_MAX)
            c->tail_len++;
    }
}

static void tail_get(const child *c, lh_buf *out)
{
    size_t start = (c->tail_pos + TAIL_MAX - c->tail_len) % TAIL_MAX;
    for (size_t i = 0; i < c->tail_len; i++)
        lh_buf_putc(out, c->tail[(start + i) % TAIL_MAX]);
}

static int spawn(child *c, const job *j, const lh_run_opts *o)
{
    c->flight = lh_flight_create(&c->flight_fd);
    if (!c->flight)
        return -1;
    char index[16], seed[32], timeout[32];
    snprintf(index, sizeof index, "%d", j->w.index);
    snprintf(timeout, sizeof timeout, "%.3f",
             o->timeout > 0 ? o->timeout : j->w.timeout);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    char *argv[] = {
        "leakhound", LH_WORKER_CMD, "--script", (char *)j->script,
        "--index", index, "--seed", seed, "--msg-fd", "3",
        "--flight-fd", "4", "--report-dir", (char *)o->report_dir,
        "--timeout", timeout, NULL,
    };
    lh_child_spec spec = {
        .argv = argv, .exe = "/proc/self/exe",
        .in = LH_CHILD_NULL, .out = LH_CHILD_PIPE, .err = LH_CHILD_STDOUT,
        .pipes = { 3 }, .npipes = 1,
        .pass = { { c->flight_fd, 4 } }, .npass = 1,
        .kill_on_interrupt = 1,
    };
    return lh_child_start(&c->proc, &spec);
}

/* One message from the worker (worker.h). */
static void handle_line(child *c, job *j, const lh_run_opts *o, int pos,
                        int total, char *line, size_t len)
{
    (void)o;
    char err[128];
    lh_json *m = lh_json_parse(line, len, err, sizeof err);
    const char *type = lh_json_gets(m, "type", "");
    if (strcmp(type, "progress") == 0) {
        if (tty) {
            double all = lh_json_getn(m, "total", 0);
            fprintf(stderr, "\r\033[K[%d/%d] %s  iter %.0f", pos, total,
                    j->w.name, lh_json_getn(m, "done", 0));
            if (all > 0)
                fprintf(stderr, "/%.0f", all);
            fprintf(stderr, "  %.0f it/s  %s", lh_json_getn(m, "rate", 0),
                    lh_json_gets(m, "text", ""));
            fflush(stderr);
        }
    } else if (strcmp(type, "verdict") == 0) {
        const char *status = lh_json_gets(m, "status", "info");
        clear_progress();
        printf("%s%s\n", strcmp(status, "info") == 0 ? "      " : "",
               lh_json_gets(m, "text", ""));
        fflush(stdout);
        /* an invariant not judged is no more met than a failed one */
        if (strcmp(status, "fail") == 0 || strcmp(status, "unresolved") == 0)
            lh_buf_printf(&j->failed_metrics, ",%s,",
                          lh_json_gets(m, "metric", "-"));
    } else if (strcmp(type, "result") == 0 &&
               lh_json_get(m, "result") &&
               lh_json_get(m, "result")->type == LH_JOBJ) {
        lh_buf_reset(&j->result);
        lh_json_write(&j->result, lh_json_get(m, "result"));
        c->got_result = 1;
    } else if (strcmp(type, "interim") == 0 &&
               lh_json_get(m, "result") &&
               lh_json_get(m, "result")->type == LH_JOBJ) {
        lh_buf_reset(&c->interim);
        lh_json_write(&c->interim, lh_json_get(m, "result"));
    } else if (!m) {
        /* a bug in the worker: dropped, never copied into the report */
        clear_progress();
        fprintf(stderr, "leakhound: bad message from the worker (%s)\n",
                err);
    }
    lh_json_free(m);
}

static void on_output(void *ctx, int i, const char *buf, size_t n)
{
    child *c = ctx;
    if (i == OUT_PIPE) {
        tail_add(c, buf, n);
        if (c->o->verbose) {
            clear_progress();
            fwrite(buf, 1, n, stderr);
        }
        return;
    }
    lh_buf_add(&c->line, buf, n);
    char *start = c->line.data;
    char *nl;
    while ((nl = memchr(start, '\n', c->line.len - (size_t)(start -
                                                         c->line.data)))) {
        *nl = '\0';
        handle_line(c, c->j, c->o, c->pos, c->total, start,
                    (size_t)(nl - start));
        start = nl + 1;
    }
    size_t rest = c->line.len - (size_t)(start - c->line.data);
    memmove(c->line.data, start, rest);
    c->line.len = rest;
}

static void hex_prefix(lh_buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n && i < 256; i++) {
        lh_buf_putc(b, digits[p[i] >> 4]);
        lh_buf_putc(b, digits[p[i] & 15]);
    }
}

/* The inputs in flight, saved under report_dir/inputs/ at once. */
static void flight_inputs(child *c, job *j, const lh_run_opts *o, lh_buf *js,
                          lh_buf *human)
{
    char name[256];
    lh_safe_name(name, sizeof name, j->w.name);
    lh_buf dir = LH_BUF_INIT;
    lh_buf_printf(&dir, "%s/inputs", o->report_dir);
    int dir_ok = lh_mkdir_p(lh_buf_str(&dir)) == 0;
    int dir_errno = errno;
    lh_buf_puts(js, "[");
    int first = 1;
    uint32_t nt = c->flight->nthreads;
    for (uint32_t t = 0; t < nt && t < LH_FLIGHT_THREADS; t++) {
        lh_flight_slot *s = &c->flight->slot[t];
        if (!s->busy)
            continue;
        size_t len = s->len < LH_FLIGHT_INPUT_MAX ? s->len
                                                   : LH_FLIGHT_INPUT_MAX;
        lh_buf path = LH_BUF_INIT;
        lh_buf_printf(&path, "%s/%s-t%u.bin", lh_buf_str(&dir), name, t);
        int saved = dir_ok &&
                    lh_write_atomic(lh_buf_str(&path), s->data, len) == 0;
        int why = dir_ok ? errno : dir_errno;
        lh_buf_printf(js, "%s{\"thread\":%u,\"iteration\":%llu,\"size\":%u,"
                      "\"truncated\":%s,\"file\":", first ? "" : ",", t,
                      (unsigned long long)s->iter, s->len,
                      s->len > LH_FLIGHT_INPUT_MAX ? "true" : "false");
        lh_json_str(js, saved ? lh_buf_str(&path) : NULL);
        lh_buf_puts(js, ",\"hex\":\"");
        hex_prefix(js, s->data, len);
        lh_buf_puts(js, "\"");
        if (!saved) {
            lh_buf_puts(js, ",\"save_error\":");
            lh_buf err = LH_BUF_INIT;
            lh_buf_printf(&err, "cannot write %s: %s", lh_buf_str(&path),
                          strerror(why));
            lh_json_str(js, lh_buf_str(&err));
            lh_buf_free(&err);
        }
        lh_buf_putc(js, '}');
        if (first && saved)
            lh_buf_printf(human, "; input in flight (iteration %llu, %u "
                          "bytes) saved to %s",
                          (unsigned long long)s->iter, s->len,
                          lh_buf_str(&path));
        else if (first)
            lh_buf_printf(human, "; input in flight (iteration %llu, %u "
                          "bytes) NOT saved: cannot write %s: %s",
                          (unsigned long long)s->iter, s->len,
                          lh_buf_str(&path), strerror(why));
        first = 0;
        lh_buf_free(&path);
    }
    lh_buf_puts(js, "]");
    lh_buf_free(&dir);
}

/* The worker died or hung after samples enough to judge: its last interim
 * result (the verdicts on the samples taken, worker.c send_interim) goes
 * into the report with the crash or timeout, whose record replaces the
 * status and iterations.  "partial" says what came first: the failure
 * (at its first failing sample) or, with every invariant passing, the
 * crash or timeout.  The FAIL lines count for expect = { fail = ... }. */
static void judge_partial(child *c, job *j, int timed_out)
{
    if (!c->interim.len)
        return;
    lh_json *in = lh_json_from(&c->interim);
    lh_json *dead = lh_json_from(&j->result);
    lh_json *partial = lh_json_member(in, "partial");
    if (!in || !dead || !partial) {
        lh_json_free(in);
        lh_json_free(dead);
        return;
    }
    const char *event = timed_out ? "timeout" : "crash";
    const lh_json *ff = lh_json_get(partial, "first_fail");
    const lh_json *f1 = lh_json_at(ff, 0);
    for (const lh_json *e = lh_json_first(ff); e; e = e->next)
        if (lh_json_getn(e, "sample", 0) < lh_json_getn(f1, "sample", 0))
            f1 = e;
    lh_buf frag = LH_BUF_INIT;
    lh_json_str(&frag, f1 ? "fail" : event);
    lh_json_set(partial, "first", lh_json_from(&frag));
    lh_buf_reset(&frag);
    lh_json_str(&frag, j->status);
    lh_json_set(in, "status", lh_json_from(&frag));
    /* the crash or timeout record, as judge_death wrote it */
    lh_buf_reset(&frag);
    lh_json_write(&frag, lh_json_get(dead, event));
    lh_json_set(in, event, lh_json_from(&frag));
    lh_buf_reset(&frag);
    lh_json_write(&frag, lh_json_get(dead, "iterations"));
    lh_json_set(in, "iterations", lh_json_from(&frag));

    double n = lh_json_getn(partial, "samples", 0);
    double of = lh_json_getn(partial, "of", 0);
    const lh_json *lines = lh_json_get(partial, "lines");
    for (const lh_json *l = lh_json_first(lines); l; l = l->next) {
        const char *st = lh_json_gets(l, "status", "info");
        printf("%s\n", lh_json_gets(l, "text", ""));
        if (strcmp(st, "fail") == 0)
            lh_buf_printf(&j->failed_metrics, ",%s,",
                          lh_json_gets(l, "metric", "-"));
    }
    printf("      judged on the %.0f of %.0f samples taken before the %s "
           "(%.0f iterations): ", n, of, event,
           lh_json_getn(partial, "iterations", 0));
    if (f1) {
        double at = lh_json_getn(f1, "sample", 0);
        int k = 0;
        for (const lh_json *e = lh_json_first(ff); e; e = e->next)
            if (lh_json_getn(e, "sample", 0) == at)
                printf("%s%s", k++ ? ", " : "", lh_json_gets(e, "metric",
                                                             "?"));
        printf(" failed first, from sample %.0f (%.0f iterations%s), then "
               "the %s\n", at, lh_json_getn(f1, "iterations", 0),
               at == lh_json_getn(partial, "judged_from", -1) ?
                   "; the first judged" : "", event);
    } else
        printf("every invariant held; the %s came first\n", event);
    j->judged_partial = 1;
    lh_buf_reset(&j->result);
    lh_json_write(&j->result, in);
    lh_buf_free(&frag);
    lh_json_free(in);
    lh_json_free(dead);
}

static void judge_death(child *c, job *j, const lh_run_opts *o,
                        double timeout)
{
    int timed_out = c->proc.end == LH_CHILD_TIMEDOUT;
    int sig = c->proc.end == LH_CHILD_SIGNALLED ? c->proc.code : 0;
    lh_buf human = LH_BUF_INIT, inputs = LH_BUF_INIT, tail = LH_BUF_INIT;
    const char *phase = lh_phase_name(c->flight->phase);
    j->status = timed_out ? "timeout" : "crashed";
    if (timed_out)
        lh_buf_printf(&human, "TIMEOUT %s  no result after %gs (in %s)",
                      j->w.name, timeout, phase);
    else if (sig)
        lh_buf_printf(&human, "CRASH %s  worker killed by signal %d (%s) "
                      "in %s", j->w.name, sig, strsignal(sig), phase);
    else
        lh_buf_printf(&human, "CRASH %s  worker exited with status %d "
                      "without a result, in %s", j->w.name,
                      c->proc.code, phase);
    flight_inputs(c, j, o, &inputs, &human);
    tail_get(c, &tail);

    lh_buf *r = &j->result;
    lh_buf_reset(r);
    lh_buf_puts(r, "{\"name\":");
    lh_json_str(r, j->w.name);
    lh_buf_printf(r, ",\"status\":\"%s\",\"iterations\":%llu,", j->status,
                  (unsigned long long)c->flight->done);
    lh_json_key(r, timed_out ? "timeout" : "crash");
    lh_buf_puts(r, "{");
    if (timed_out) {
        lh_json_key(r, "seconds");
        lh_json_num(r, timeout);
    } else if (sig) {
        lh_buf_printf(r, "\"signal\":%d,\"signal_name\":", sig);
        lh_json_str(r, strsignal(sig));
    } else {
        lh_buf_printf(r, "\"exit_code\":%d", c->proc.code);
    }
    lh_buf_puts(r, ",\"phase\":");
    lh_json_str(r, phase);
    unsigned taken = c->flight->samples, needed = c->flight->needed;
    if (needed > 0)
        lh_buf_printf(r, ",\"samples\":%u,\"samples_needed\":%u", taken,
                      needed);
    lh_buf_puts(r, ",\"inputs\":");
    lh_buf_add(r, inputs.data ? inputs.data : "[]", inputs.len ? inputs.len
                                                                : 2);
    lh_buf_puts(r, ",\"output_tail\":");
    lh_json_strn(r, lh_buf_str(&tail), tail.len);
    lh_buf_puts(r, "},\"invariants\":[]}");

    clear_progress();
    printf("%s\n", lh_buf_str(&human));
    judge_partial(c, j, timed_out);
    if (!j->judged_partial && needed > 0 && taken < needed)
        printf("      no verdict: the %s came after %u of %u samples, "
               "before the %u needed to judge\n", timed_out ? "timeout"
               : "crash", taken, (unsigned)c->flight->planned, needed);
    if (tail.len && !o->verbose) {
        /* the last lines of output usually say why (a Go panic, ...) */
        const char *p = lh_buf_str(&tail);
        int lines = 0;
        for (const char *q = p + tail.len; q > p; q--)
            if (q[-1] == '\n' && ++lines > 12) {
                p = q;
                break;
            }
        printf("      output tail:\n");
        for (const char *q = p; *q;) {
            const char *e = strchr(q, '\n');
            size_t n = e ? (size_t)(e - q) : strlen(q);
            printf("      | %.*s\n", (int)n, q);
            q += n + (e ? 1 : 0);
        }
    }
    fflush(stdout);
    lh_buf_free(&human);
    lh_buf_free(&inputs);
    lh_buf_free(&tail);
}

static void status_from_result(job *j)
{
    static const char *known[] = { "pass", "fail", "error", "unresolved",
                                   NULL };
    lh_json *r = lh_json_parse(lh_buf_str(&j->result), j->result.len, NULL,
                               0);
    const char *s = lh_json_gets(r, "status", "");
    j->status = "error";
    for (int i = 0; known[i]; i++)
        if (strcmp(s, known[i]) == 0)
            j->status = known[i];
    lh_json_free(r);
}

/* Judging and diagnosis (symbolization: seconds on a big object) are not
 * the workload's time: a worker past its timeout in that phase, as the
 * flight recorder says, gets LH_DIAGNOSE_SECONDS more, once. */
#define LH_DIAGNOSE_SECONDS 120.0

static double diagnosis_deadline(void *ctx, double deadline)
{
    child *c = ctx;
    if (c->diag_grace || c->flight->phase != LH_PHASE_DIAGNOSE)
        return deadline;
    c->diag_grace = 1;
    return deadline + LH_DIAGNOSE_SECONDS;
}

static void run_job(job *j, const lh_run_opts *o, int pos, int total)
{
    child c;
    memset(&c, 0, sizeof c);
    c.j = j;
    c.o = o;
    c.pos = pos;
    c.total = total;
    if (spawn(&c, j, o) < 0) {
        int e = errno;
        if (c.flight)
            close(c.flight_fd);
        j->status = "error";
        /* the flight recorder is a 4 MiB memfd: RLIMIT_FSIZE counts it */
        char why[256];
        snprintf(why, sizeof why, "cannot start a worker: %s%s",
                 c.flight ? "" : "cannot create its flight recorder: ",
                 strerror(e));
        if (e == EFBIG)
            snprintf(why + strlen(why), sizeof why - strlen(why),
                     " (the file size limit, ulimit -f, is below %zu "
                     "KiB)", (sizeof(lh_flight) + 1023) / 1024);
        lh_buf_printf(&j->result, "{\"name\":");
        lh_json_str(&j->result, j->w.name);
        lh_buf_printf(&j->result, ",\"status\":\"error\",\"error\":"
                      "{\"message\":");
        lh_json_str(&j->result, why);
        lh_buf_printf(&j->result, "},\"invariants\":[]}");
        printf("ERROR %s  %s\n", j->w.name, why);
        return;
    }
    /* Judged by waitpid, not by the pipes: what the target forked may
     * hold them open long after the worker died. */
    double timeout = o->timeout > 0 ? o->timeout : j->w.timeout;
    c.proc.at_deadline = diagnosis_deadline;
    c.proc.at_deadline_ctx = &c;
    lh_child_wait(&c.proc, lh_now() + timeout, on_output, &c);
    if (c.got_result) {
        status_from_result(j);
    } else if (lh_child_interrupted()) {
        j->status = "error";
        lh_buf_reset(&j->result);
        lh_buf_puts(&j->result, "{\"name\":");
        lh_json_str(&j->result, j->w.name);
        lh_buf_puts(&j->result, ",\"status\":\"error\",\"error\":"
                    "{\"message\":\"interrupted\"},\"invariants\":[]}");
    } else {
        judge_death(&c, j, o, timeout + (c.diag_grace ?
                                         LH_DIAGNOSE_SECONDS : 0));
    }
    lh_buf_free(&c.line);
    lh_buf_free(&c.interim);
    close(c.flight_fd);
}

/* ---- expectations and the report -------------------------------------- */

static int metric_failed(const job *j, const char *m)
{
    lh_buf key = LH_BUF_INIT;
    lh_buf_printf(&key, ",%s,", m);
    int hit = strstr(lh_buf_str(&j->failed_metrics), key.data) != NULL;
    lh_buf_free(&key);
    return hit;
}

static void check_expectation(job *j)
{
    const char *e = j->w.expect;
    if (!*e) {
        j->expect_met = -1;
        return;
    }
    if (strcmp(e, "clean") == 0) {
        j->expect_met = strcmp(j->status, "pass") == 0;
        return;
    }
    if (strcmp(e, "fail") != 0) {
        j->expect_met = strcmp(j->status, e) == 0;
        return;
    }
    /* a crash or timeout judged on the samples before it shows a failure
     * as a run that ends does (README, "reliability") */
    int ok = strcmp(j->status, "fail") == 0 ||
             (j->judged_partial && j->failed_metrics.len);
    /* every expected metric failed ... */
    char list[512];
    snprintf(list, sizeof list, "%s", j->w.expect_metrics);
    for (char *save, *m = strtok_r(list, ",", &save); m && ok;
         m = strtok_r(NULL, ",", &save))
        ok = metric_failed(j, m);
    /* ... and nothing else did */
    snprintf(list, sizeof list, "%s", lh_buf_str(&j->failed_metrics));
    for (char *save, *m = strtok_r(list, ",", &save); m && ok;
         m = strtok_r(NULL, ",", &save)) {
        lh_buf key = LH_BUF_INIT;
        lh_buf_printf(&key, ",%s,", m);
        lh_buf exp = LH_BUF_INIT;
        lh_buf_printf(&exp, ",%s,", j->w.expect_metrics);
        ok = strstr(lh_buf_str(&exp), key.data) != NULL;
        lh_buf_free(&key);
        lh_buf_free(&exp);
    }
    j->expect_met = ok;
}

static void iso_time(char *out, size_t len, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The supervisor adds what it knows to the worker's object. */
static void add_job_json(lh_buf *b, const job *j)
{
    lh_buf_puts(b, "{\"script\":");
    lh_json_str(b, j->script);
    lh_buf_puts(b, ",\"source\":");
    lh_json_str(b, j->w.source[0] ? j->w.source : j->script);
    lh_buf_puts(b, ",\"target\":");
    lh_json_str(b, j->w.target[0] ? j->w.target : NULL);
    lh_buf_puts(b, ",\"corpus\":");
    lh_json_str(b, j->w.corpus[0] ? j->w.corpus : NULL);
    lh_buf_puts(b, ",\"repro\":");
    lh_buf cmd = LH_BUF_INIT;
    lh_buf_printf(&cmd, "%s run ", self_name);
    lh_shell_quote(&cmd, j->script);
    lh_buf_puts(&cmd, " --workload ");
    lh_shell_quote(&cmd, j->w.name);
    lh_json_str(b, lh_buf_str(&cmd));
    lh_buf_free(&cmd);
    lh_buf_puts(b, ",\"expect\":");
    if (j->w.expect[0]) {
        lh_buf_puts(b, "{\"status\":");
        lh_json_str(b, j->w.expect);
        lh_buf_puts(b, ",\"metrics\":[");
        char list[512];
        snprintf(list, sizeof list, "%s", j->w.expect_metrics);
        int first = 1;
        for (char *save, *m = strtok_r(list, ",", &save); m;
             m = strtok_r(NULL, ",", &save)) {
            lh_buf_puts(b, first ? "" : ",");
            lh_json_str(b, m);
            first = 0;
        }
        lh_buf_printf(b, "],\"met\":%s}", j->expect_met ? "true" : "false");
    } else {
        lh_buf_puts(b, "null");
    }
    const char *r = lh_buf_str(&j->result);
    lh_buf_putc(b, ',');
    lh_buf_puts(b, r + 1);  /* the worker's object without its '{' */
}

static void build_report(const lh_run_opts *o, time_t started,
                         int exit_code, int counts[6])
{
    lh_buf b = LH_BUF_INIT;
    char t0[32], t1[32];
    iso_time(t0, sizeof t0, started);
    iso_time(t1, sizeof t1, time(NULL));
    lh_buf_puts(&b, "{\"leakhound\":\"" LH_VERSION "\",\"schema\":1,");
    lh_buf_printf(&b, "\"started\":\"%s\",\"finished\":\"%s\",", t0, t1);
    lh_buf_printf(&b, "\"seed\":%llu,\"exit_code\":%d,\"command\":[",
                  (unsigned long long)o->seed, exit_code);
    for (int i = 0; i < o->argc; i++) {
        lh_buf_puts(&b, i ? "," : "");
        lh_json_str(&b, o->argv[i]);
    }
    lh_buf_printf(&b, "],\"summary\":{\"workloads\":%d,\"pass\":%d,"
                  "\"fail\":%d,\"error\":%d,\"crashed\":%d,\"timeout\":%d,"
                  "\"unresolved\":%d},\"workloads\":[", njobs, counts[0],
                  counts[1], counts[2], counts[3], counts[4], counts[5]);
    for (int i = 0; i < njobs; i++) {
        if (i)
            lh_buf_puts(&b, ",\n");
        add_job_json(&b, &jobs[i]);
    }
    lh_buf_puts(&b, "]}\n");
    /* the caller judges it in memory and writes it (lh_report_write) */
    lh_buf_reset(o->report);
    lh_buf_add(o->report, b.data, b.len);
    lh_buf_free(&b);
}

static void load_error_result(job *j)
{
    j->status = "error";
    lh_buf_reset(&j->result);
    lh_buf_puts(&j->result, "{\"name\":");
    lh_json_str(&j->result, j->w.name);
    lh_buf_puts(&j->result, ",\"status\":\"error\",\"error\":{\"message\":");
    const char *msg = j->load_error;
    const char *tb = strstr(msg, "\nstack traceback:");
    lh_json_strn(&j->result, msg, tb ? (size_t)(tb - msg) : strlen(msg));
    lh_buf_puts(&j->result, ",\"traceback\":");
    lh_json_str(&j->result, tb ? tb + 1 : "");
    lh_buf_puts(&j->result, "},\"invariants\":[]}");
    printf("ERROR %s  %.*s\n", j->w.name,
           (int)(tb ? (size_t)(tb - msg) : strlen(msg)), msg);
}

int lh_supervise(const lh_run_opts *o)
{
    tty = isatty(STDERR_FILENO);
    if (o->argc > 0)
        self_name = o->argv[0];
    if (collect(o) < 0)
        return LH_EXIT_ERROR;
    if (o->list_fuzzable) {
        /* For scripts (.clusterfuzzlite/build.sh): what a fuzzer needs. */
        int bad = 0;
        for (int i = 0; i < njobs; i++)
            if (jobs[i].load_error)
                bad = fprintf(stderr, "leakhound: %s\n", jobs[i].load_error);
            else if (jobs[i].w.target[0] && jobs[i].w.corpus[0])
                printf("%s\t%s\t%s\t%s\n", jobs[i].w.name, jobs[i].script,
                       jobs[i].w.target, jobs[i].w.corpus);
        return bad ? LH_EXIT_ERROR : LH_EXIT_PASS;
    }
    if (o->list_only) {
        int bad = 0;
        for (int i = 0; i < njobs; i++) {
            printf("%-40s %s%s%s\n", jobs[i].w.name, jobs[i].w.source,
                   jobs[i].load_error ? "  ERROR: " : "",
                   jobs[i].load_error ? jobs[i].load_error : "");
            bad |= jobs[i].load_error != NULL;
        }
        return bad ? LH_EXIT_ERROR : LH_EXIT_PASS;
    }
    /* the outputs, before any work: a run must not end unwritable */
    lh_buf err = LH_BUF_INIT;
    if (lh_outdir_claim(o->report_dir, lh_report_files, &err) < 0 ||
        lh_outdir_clear(o->report_dir, lh_report_files, &err) < 0) {
        fprintf(stderr, "leakhound: report directory %s\n",
                lh_buf_str(&err));
        lh_buf_free(&err);
        return LH_EXIT_ERROR;
    }
    lh_child_trap_signals();
    signal(SIGPIPE, SIG_IGN);

    /* A worker's orphans (setsid() daemons of its target) come to us
     * when the worker dies, and go after each workload. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    time_t started = time(NULL);
    int counts[6] = { 0 };   /* pass fail error crashed timeout unresolved */
    int unmet = 0;
    for (int i = 0; i < njobs; i++) {
        job *j = &jobs[i];
        if (lh_child_interrupted()) {
            j->load_error = "not run: interrupted";
        }
        if (j->load_error)
            load_error_result(j);
        else
            run_job(j, o, i + 1, njobs);
        lh_child_kill_descendants();
        check_expectation(j);
        if (j->expect_met == 0) {
            unmet++;
            printf("      expected %s%s%s, got %s\n", j->w.expect,
                   j->w.expect_metrics[0] ? " on " : "",
                   j->w.expect_metrics, j->status);
        }
        static const char *names[] = {
            "pass", "fail", "error", "crashed", "timeout", "unresolved",
        };
        for (int k = 0; k < 6; k++)
            if (strcmp(j->status, names[k]) == 0)
                counts[k]++;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    int code = LH_EXIT_PASS;
    if (counts[1])
        code = LH_EXIT_FAIL;
    /* unresolved: leakhound could not judge, as for an error */
    if (counts[2] || counts[5])
        code = LH_EXIT_ERROR;
    if (counts[3] || counts[4])
        code = LH_EXIT_CRASH;
    if (o->check_expect) {
        code = unmet ? LH_EXIT_FAIL : LH_EXIT_PASS;
        /* a workload that could not be loaded met no expectation */
        for (int i = 0; i < njobs; i++)
            if (jobs[i].load_error && strcmp(jobs[i].w.expect, "error"))
                code = LH_EXIT_ERROR;
    }
    clear_progress();
    printf("%d workload%s: %d pass, %d fail, %d error, %d crashed, "
           "%d timeout", njobs, njobs == 1 ? "" : "s", counts[0], counts[1], counts[2], counts[3],
           counts[4]);
    if (counts[5])
        printf(", %d unresolved", counts[5]);
    if (o->check_expect)
        printf("; %d of %d expectations met", njobs - unmet, njobs);
    printf("\n");
    if (lh_child_interrupted())
        code = 128 + lh_child_interrupted();
    build_report(o, started, code, counts);
    return code;
}
