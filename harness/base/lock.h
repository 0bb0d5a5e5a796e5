/*
 * lock.h - the spinlock of the malloc-hook paths, and the one registry of
 * locks held across fork.
 *
 * A child forked while another thread held such a lock would deadlock at
 * its first sampled malloc or recorded open.  So every registered lock is
 * taken by one pthread_atfork prepare handler, in rank order, and released
 * in parent and child.  Meanwhile lh_forking() is 1 on the forking thread:
 * the hooks record nothing then (what other atfork handlers allocate or
 * open would need a lock it already holds).  Nothing here allocates after
 * the first registration; the flag is initial-exec TLS, safe inside malloc.
 */
#ifndef LEAKHOUND_LOCK_H
#define LEAKHOUND_LOCK_H

/* No syscall while uncontended; yields when it spins long. */
typedef struct lh_spinlock {
    int v;              /* only through __atomic builtins */
} lh_spinlock;

void lh_spin_lock(lh_spinlock *l);
void lh_spin_unlock(lh_spinlock *l);

/* Hold l across every fork from now on.  Locks are taken lowest rank
 * first (a lock that may be taken while another is held ranks above it)
 * and released in reverse.  Registering a lock again does nothing; at most
 * LH_FORK_LOCKS locks.  The first call calls pthread_atfork, which may
 * allocate: under the interposer, suspend counting around it. */
#define LH_FORK_LOCKS 16
void lh_lock_across_fork(lh_spinlock *l, int rank);

/* 1 on the forking thread between the prepare and after handlers. */
extern _Thread_local int lh_forking_
    __attribute__((tls_model("initial-exec")));

static inline int lh_forking(void)
{
    return lh_forking_;
}

#endif
