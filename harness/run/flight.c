/* flight.c - the shared-memory flight recorder. */
#include "flight.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"

lh_flight *lh_flight_create(int *fd)
{
    int f = memfd_create("leakhound-flight", MFD_CLOEXEC);
    if (f < 0)
        return NULL;
    if (ftruncate(f, sizeof(lh_flight)) < 0) {
        close(f);
        return NULL;
    }
    lh_flight *fl = lh_flight_map(f);
    if (!fl) {
        close(f);
        return NULL;
    }
    *fd = f;
    return fl;
}

lh_flight *lh_flight_map(int fd)
{
    void *p = lh_raw_mmap(NULL, sizeof(lh_flight), PROT_READ | PROT_WRITE,
                          MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

const char *lh_phase_name(uint32_t phase)
{
    static const char *names[] = {
        "start", "setup", "warmup", "measure", "settle", "teardown",
        "diagnose", "done",
    };
    return phase < sizeof names / sizeof *names ? names[phase] : "?";
}
