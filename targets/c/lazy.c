/*
 * lazy.c - clean lazy initialisation: a table built on first use, then
 * nothing.
 *
 * lazy_crc32 computes a CRC-32 of its input with a slicing-by-16 table that
 * is allocated and filled once, on the first call from any thread.  That is
 * a one-time step in the heap (16 KiB, one block) that a detector must not
 * call a leak: after the first call the heap stays flat.  Workloads should
 * let warmup cover the first call.  Gauge: target.lazy_tables (0 or 1).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "lh_target.h"

enum { SLICES = 16 };

static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static uint32_t (*table)[256];      /* [SLICES][256], on the heap */
static atomic_int_fast64_t tables_built;

static void build_table(void)
{
    uint32_t (*t)[256] = malloc(SLICES * sizeof *t);
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int s = 1; s < SLICES; s++)
            t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    table = t;
    atomic_store(&tables_built, 1);
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n >= SLICES) {
        uint32_t w = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                          (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = table[15][w & 0xff] ^ table[14][(w >> 8) & 0xff] ^
            table[13][(w >> 16) & 0xff] ^ table[12][w >> 24];
        for (int i = 4; i < SLICES; i++)
            c ^= table[SLICES - 1 - i][p[i]];
        p += SLICES;
        n -= SLICES;
    }
    while (n--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return ~c;
}

LH_EXPORT int lazy_crc32(const uint8_t *data, size_t size)
{
    pthread_once(&table_once, build_table);
    if (table == NULL)
        return 0;
    uint32_t c = crc32(data, size);
    /* Keep the result (and so the table reads) from being optimised away. */
    lh_escape(&c);
    return 0;
}

LH_EXPORT int64_t leakhound_gauge_lazy_tables(void)
{
    return atomic_load(&tables_built);
}
