/*
 * stacks.h - internals of the interned stacks (lh_stack_intern, diag.h)
 * and the ranks of the diagnosis locks held across fork (base/lock.h):
 * a source's lock is never held while interning, so the stack table's
 * lock ranks last.
 */
#ifndef LEAKHOUND_STACKS_H
#define LEAKHOUND_STACKS_H

enum {
    LH_RANK_HEAPSITES = 10,
    LH_RANK_FDDIAG = 20,
    LH_RANK_THREADDIAG = 30,
    LH_RANK_STACKS = 100,
};

/* Hold the stack table's lock across fork (lh_backtrace_init calls it);
 * may allocate: call with counting suspended. */
void lh_stacks_init(void);

#endif
