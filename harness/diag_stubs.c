/* diag_stubs.c - TEMPORARY weak stand-ins for diag.h while its sources are
 * written; every real definition overrides these.  To be deleted. */
#include "diag.h"

#define WEAK __attribute__((weak))

WEAK void lh_heapsites_start(size_t b) { (void)b; }
WEAK lh_heapsnap *lh_heapsites_snapshot(void) { return NULL; }
WEAK void lh_heapsites_free(lh_heapsnap *s) { (void)s; }
WEAK int lh_heapsites_diff(const lh_heapsnap *a, const lh_heapsnap *b,
                           lh_site *o, int m)
{ (void)a; (void)b; (void)o; (void)m; return 0; }
WEAK lh_gosnap *lh_godiag_snapshot(lh_target *t) { (void)t; return NULL; }
WEAK void lh_godiag_free(lh_gosnap *s) { (void)s; }
WEAK int lh_godiag_goroutines(const lh_gosnap *a, const lh_gosnap *b,
                              lh_site *o, int m)
{ (void)a; (void)b; (void)o; (void)m; return 0; }
WEAK int lh_godiag_heap(const lh_gosnap *a, const lh_gosnap *b, lh_site *o,
                        int m)
{ (void)a; (void)b; (void)o; (void)m; return 0; }
WEAK int lh_godiag_write_heap_profile(const lh_gosnap *s, const char *p)
{ (void)s; (void)p; return -1; }
WEAK lh_fdsnap *lh_fddiag_snapshot(void) { return NULL; }
WEAK void lh_fddiag_free(lh_fdsnap *s) { (void)s; }
WEAK int lh_fddiag_diff(const lh_fdsnap *a, const lh_fdsnap *b, lh_site *o,
                        int m)
{ (void)a; (void)b; (void)o; (void)m; return 0; }
WEAK lh_threadsnap *lh_threaddiag_snapshot(void) { return NULL; }
WEAK void lh_threaddiag_free(lh_threadsnap *s) { (void)s; }
WEAK int lh_threaddiag_diff(const lh_threadsnap *a, const lh_threadsnap *b,
                            lh_site *o, int m)
{ (void)a; (void)b; (void)o; (void)m; return 0; }
WEAK void lh_fddiag_start(void) {}
WEAK void lh_threaddiag_start(void) {}
