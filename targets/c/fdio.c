/*
 * fdio.c - a sink that writes records to /dev/null and, on one path, forgets
 * to close it.
 *
 * The first byte of a record is a flags byte; bit 0 means "probe only":
 * open the sink to check it is writable, then stop.  fd_sink_leaky returns
 * on that path without closing the descriptor, so every input whose first
 * byte is odd leaks exactly one fd (no heap: open() does not allocate).
 * fd_sink_clean closes it.  Empty and even-first-byte inputs are clean in
 * both.
 *
 * The open-file limit on these machines is 20,000, shared with the harness:
 * a workload on fd_sink_leaky must keep its number of odd inputs well below
 * that (lua/suites/c.lua runs 2,000 calls).
 *
 * fd_hoard and fd_flood leak until the process has no fd left, for runs
 * under a lowered limit (tests/scripts/fd_exhaust.lua, `ulimit -n 256`):
 * fd_hoard keeps one more /dev/null per call, fd_flood opens until EMFILE
 * on every call.  Neither looks at its input.
 */
#include <fcntl.h>
#include <unistd.h>

#include "lh_target.h"

static int sink(const uint8_t *data, size_t size, int leaky)
{
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;

    if (size > 0 && (data[0] & 1)) {
        /* Probe only: the sink opened, nothing to write. */
        if (leaky)
            return 0;       /* deliberate bug: fd is never closed */
        close(fd);
        return 0;
    }

    ssize_t n = size > 0 ? write(fd, data, size) : 0;
    (void)n;                /* /dev/null takes everything */
    close(fd);
    return 0;
}

/* Leaks one fd per input whose first byte is odd. */
LH_EXPORT int fd_sink_leaky(const uint8_t *data, size_t size)
{
    return sink(data, size, 1);
}

LH_EXPORT int fd_sink_clean(const uint8_t *data, size_t size)
{
    return sink(data, size, 0);
}

/* Leaks one fd per call, until open fails. */
LH_EXPORT int fd_hoard(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    (void)fd;               /* deliberate bug: never closed */
    return 0;
}

/* Opens fds until EMFILE (or 1,000,000), keeps them all. */
LH_EXPORT int fd_flood(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    for (int i = 0; i < 1000000; i++)
        if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0)
            break;
    return 0;
}
