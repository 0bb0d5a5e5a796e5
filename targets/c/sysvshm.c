/*
 * sysvshm.c - SysV shared memory attached and never detached: a region
 * cache that takes a 4 KiB segment per SHARE request (shmget, shmat, then
 * IPC_RMID, so that no segment outlives the process) into one of 64
 * slots, and its clean twin.
 *
 *   sysv_region_leaky  overwrites the slot without shmdt: the attachment,
 *                      and the segment with it, is lost but still mapped.
 *                      No malloc, no mmap: only mmap.live_bytes (shmat is
 *                      interposed) and proc.rss_bytes once touched.
 *   sysv_region_ring   detaches the slot's old segment first: as many
 *                      segments come and go, 64 at most attached.
 *
 * A request is an input that starts with "SHARE"; anything else is a
 * no-op.  Gauge: target.sysv_attached (attached now, both ops).
 */
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "lh_target.h"

enum { SLOTS = 64, SEGMENT = 4096 };

static void *slot[SLOTS];
static unsigned next_slot;
static int64_t attached;

/* A new segment, attached and already marked for removal: it goes when
 * its last attachment does, or with the process. */
static void *region_new(const uint8_t *data, size_t size)
{
    int id = shmget(IPC_PRIVATE, SEGMENT, IPC_CREAT | 0600);
    if (id < 0)
        return NULL;
    void *p = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    if (p == (void *)-1)
        return NULL;
    memcpy(p, data, size < SEGMENT ? size : SEGMENT);
    attached++;
    return p;
}

static int is_request(const uint8_t *data, size_t size)
{
    return size >= 5 && memcmp(data, "SHARE", 5) == 0;
}

LH_EXPORT int sysv_region_leaky(const uint8_t *data, size_t size)
{
    if (!is_request(data, size))
        return 0;
    void *p = region_new(data, size);
    if (p != NULL)
        slot[next_slot++ % SLOTS] = p;     /* the old one is never detached */
    return 0;
}

LH_EXPORT int sysv_region_ring(const uint8_t *data, size_t size)
{
    if (!is_request(data, size))
        return 0;
    unsigned k = next_slot++ % SLOTS;
    if (slot[k] != NULL && shmdt(slot[k]) == 0)
        attached--;
    slot[k] = region_new(data, size);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_sysv_attached(void)
{
    return attached;
}
