/*
 * shm.c - SysV shared memory the target attaches, counted as mapped
 * memory (mmap.live_bytes, mmap.live_maps) with its site.
 *
 * shmat and shmdt are interposed like mmap and munmap (interpose.c): an
 * attachment the target makes is a mapping of the segment's size (from
 * IPC_STAT), kept until shmdt detaches it.  A segment marked IPC_RMID
 * lives while attached, so a lost attachment holds its memory; one the
 * target never attaches holds none of the process's address space and is
 * not counted.  Both forward to the raw syscalls; the table is locked
 * across them, so another thread's mmap cannot be handed a detached
 * address before the table forgets it.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "interpose.h"
#include "lock.h"

#define LH_EXPORT __attribute__((visibility("default")))

LH_EXPORT void *shmat(int shmid, const void *addr, int flags)
{
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    if (lh_forking())
        return (void *)syscall(SYS_shmat, shmid, addr, flags);
    int tag = -1;
    int count = lh_mmap_counted(ra, &tag);
    struct shmid_ds ds;
    size_t len = 0;
    int saved = errno;
    if (syscall(SYS_shmctl, shmid, IPC_STAT, &ds) == 0)
        len = ds.shm_segsz;
    errno = saved;
    lh_mmap_lock();
    void *p = (void *)syscall(SYS_shmat, shmid, addr, flags);
    if (p != (void *)-1 && len > 0) {
        if (count)
            lh_mmap_note_map((uintptr_t)p, len, ra, tag);
        else if (flags & SHM_REMAP)     /* it replaced what was there */
            lh_mmap_note_unmap((uintptr_t)p, len);
    }
    lh_mmap_unlock();
    return p;
}

LH_EXPORT int shmdt(const void *addr)
{
    if (lh_forking())
        return (int)syscall(SYS_shmdt, addr);
    lh_mmap_lock();
    size_t len = lh_mmap_len_at((uintptr_t)addr);
    int rc = (int)syscall(SYS_shmdt, addr);
    if (rc == 0 && len > 0)
        lh_mmap_note_unmap((uintptr_t)addr, len);
    lh_mmap_unlock();
    return rc;
}
