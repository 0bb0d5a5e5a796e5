/* lock.c - the spinlock, and one pthread_atfork for every lock it holds. */
#include "lock.h"

#include <pthread.h>
#include <sched.h>

_Thread_local int lh_forking_ __attribute__((tls_model("initial-exec")));

void lh_spin_lock(lh_spinlock *l)
{
    unsigned spins = 0;
    while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&l->v, __ATOMIC_RELAXED)) {
            /* A holder preempted on a busy machine (64 runner threads
             * on 2 cores) must get the CPU back rather than be spun at. */
            if (++spins % 128 == 0)
                sched_yield();
#if defined(__x86_64__) || defined(__i386__)
            else
                __builtin_ia32_pause();
#endif
        }
    }
}

void lh_spin_unlock(lh_spinlock *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

/* Sorted by rank; changed under reg_lock, which the prepare handler takes
 * first so that a registration cannot race a fork. */
static struct {
    lh_spinlock *l;
    int rank;
} reg[LH_FORK_LOCKS];
static int nreg;
static lh_spinlock reg_lock;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    lh_forking_ = 1;
    lh_spin_lock(&reg_lock);
    for (int i = 0; i < nreg; i++)
        lh_spin_lock(reg[i].l);
}

static void fork_after(void)
{
    for (int i = nreg - 1; i >= 0; i--)
        lh_spin_unlock(reg[i].l);
    lh_spin_unlock(&reg_lock);
    lh_forking_ = 0;
}

static void reg_init(void)
{
    pthread_atfork(fork_prepare, fork_after, fork_after);
}

void lh_lock_across_fork(lh_spinlock *l, int rank)
{
    pthread_once(&reg_once, reg_init);
    lh_spin_lock(&reg_lock);
    int i = 0;
    while (i < nreg && reg[i].l != l)
        i++;
    if (i == nreg && nreg < LH_FORK_LOCKS) {
        /* Insert before the first of higher rank. */
        int at = nreg;
        while (at > 0 && reg[at - 1].rank > rank) {
            reg[at] = reg[at - 1];
            at--;
        }
        reg[at].l = l;
        reg[at].rank = rank;
        nreg++;
    }
    lh_spin_unlock(&reg_lock);
}
