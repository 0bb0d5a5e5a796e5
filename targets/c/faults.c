/*
 * faults.c - ops that crash or hang on demand, for the harness's own tests
 * (a worker that dies or stops answering must not take the run down).
 *
 * fault_crash writes through a NULL pointer (SIGSEGV) when the input starts
 * with "CRASH"; fault_hang sleeps forever when the input starts with "HANG".
 * Any other input returns at once and touches nothing, so the same ops serve
 * as a clean workload.  fault_echo_abort writes its input, as it is, to
 * stdout and aborts: the output tail a report must carry safely.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lh_target.h"

/*
 * NULL, but through a volatile the compiler cannot see that: a literal NULL
 * store is undefined behaviour that gcc -O2 turns into a trap instruction
 * (SIGILL), and the test wants a real SIGSEGV.
 */
static int *volatile null_target;

static int starts_with(const uint8_t *data, size_t size, const char *word)
{
    size_t n = strlen(word);
    return size >= n && memcmp(data, word, n) == 0;
}

LH_EXPORT int fault_crash(const uint8_t *data, size_t size)
{
    if (starts_with(data, size, "CRASH"))
        *null_target = 1;
    return 0;
}

LH_EXPORT int fault_hang(const uint8_t *data, size_t size)
{
    if (starts_with(data, size, "HANG"))
        for (;;)
            sleep(1);       /* asleep, not spinning: 2 cores are shared */
    return 0;
}

LH_EXPORT int fault_echo_abort(const uint8_t *data, size_t size)
{
    ssize_t n = write(STDOUT_FILENO, data, size);
    (void)n;
    abort();
}
