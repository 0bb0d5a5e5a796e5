/*
 * heapcache.c - the interposer's per-thread cache of freed small blocks:
 * start-up switch, the key, thread-exit flush, and the aborts
 * (heapcache.h has the fast paths and the design).
 */
#include "heapcache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

extern void __libc_free(void *p);

LH_HC_HIDDEN _Thread_local lh_hc lh_hc_tls
    __attribute__((tls_model("initial-exec")));
LH_HC_HIDDEN uintptr_t lh_hc_key;

static int hc_mode = -1;        /* __atomic */

int lh_hc_init(int headers_readable)
{
    const char *env = getenv("LEAKHOUND_HEAP_CACHE");
    int on = headers_readable && !(env && strcmp(env, "0") == 0);
    if (on) {
        /* Random, as glibc's tcache key: a program's data matching it
         * by chance only costs a scan of one bin. */
        uintptr_t key = 0;
        if (getrandom(&key, sizeof key, GRND_NONBLOCK) != sizeof key) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            key = ((uintptr_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull) ^
                  (uintptr_t)&ts ^ (uintptr_t)getpid();
        }
        lh_hc_key = key | 1;    /* never 0, the word of a block handed out */
    }
    __atomic_store_n(&hc_mode, on, __ATOMIC_RELEASE);
    return on;
}

int lh_hc_mode(void)
{
    return __atomic_load_n(&hc_mode, __ATOMIC_ACQUIRE);
}

void lh_hc_thread_exit(void)
{
    lh_hc *c = &lh_hc_tls;
    c->state = LH_HC_OFF;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    for (size_t slot = 0; slot < LH_HC_SLOTS; slot++) {
        uintptr_t *p = (uintptr_t *)c->head[slot];
        for (int n = c->count[slot]; n > 0 && p; n--) {
            uintptr_t *next = (uintptr_t *)lh_hc_mangle(p, p[0]);
            p[1] = 0;
            __libc_free(p);
            p = next;
        }
        c->head[slot] = 0;
        c->count[slot] = 0;
    }
}

/* stderr without stdio (which may allocate). */
static void say(const char *what, const void *p)
{
    char buf[160], hex[2 + 16 + 1];
    uintptr_t v = (uintptr_t)p;
    int i = (int)sizeof hex - 1;
    hex[i] = '\0';
    do {
        hex[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v && i > 2);
    hex[--i] = 'x';
    hex[--i] = '0';
    size_t n = 0;
    const char *parts[] = { "leakhound: ", what, " (block ", hex + i,
                            ", in the interposer's heap cache)\n" };
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        size_t len = strlen(parts[k]);
        if (n + len > sizeof buf)
            len = sizeof buf - n;
        memcpy(buf + n, parts[k], len);
        n += len;
    }
    ssize_t w = write(2, buf, n);
    (void)w;
}

void lh_hc_check_double(void *p, size_t slot)
{
    lh_hc *c = &lh_hc_tls;
    uintptr_t *b = (uintptr_t *)c->head[slot];
    for (int n = c->count[slot]; n > 0 && b; n--) {
        if (b == p) {
            say("free(): double free detected", p);
            abort();
        }
        uintptr_t next = lh_hc_mangle(b, b[0]);
        if (next & 15)
            lh_hc_corrupt(b);
        b = (uintptr_t *)next;
    }
}

void lh_hc_corrupt(void *p)
{
    say("malloc(): corrupted cached block (written after free?)", p);
    abort();
}
