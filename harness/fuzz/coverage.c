/*
 * coverage.c - the engine's coverage counters kept to an input's own run.
 *
 * libFuzzer zeroes the inline 8-bit counters before an input and turns
 * what they hold after it into features.  A confirmation runs inside one
 * input: without this, its replays and distinct variants would count as
 * the input's coverage (more features than the input has, inputs kept
 * for the wrong reason).  The regions are each loaded object's
 * __sancov_cntrs section, found from the section headers of its file
 * (the linker's __start_/__stop_ symbols are hidden); the growth fed back
 * through __libfuzzer_extra_counters is another section and stays.
 */
#include "coverage.h"

#include <link.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "elfsyms.h"

#define MAX_REGIONS 64

static struct region {
    uint8_t *at;
    size_t len;
    uint8_t *saved;
} regions[MAX_REGIONS];
static int nregions;

static int add_object(struct dl_phdr_info *info, size_t sz, void *total)
{
    (void)sz;
    const char *path = info->dlpi_name && info->dlpi_name[0]
                     ? info->dlpi_name : "/proc/self/exe";
    uint64_t addr, len;
    if (nregions == MAX_REGIONS ||
        lh_elf_section(path, "__sancov_cntrs", &addr, &len) < 0 || !len)
        return 0;
    uint8_t *saved = lh_raw_malloc(len);
    if (!saved)
        return 0;
    regions[nregions++] = (struct region){
        (uint8_t *)(info->dlpi_addr + addr), len, saved };
    *(size_t *)total += len;
    return 0;
}

size_t lh_cov_find(void)
{
    size_t total = 0;
    for (int i = 0; i < nregions; i++)
        lh_raw_free(regions[i].saved);
    nregions = 0;
    dl_iterate_phdr(add_object, &total);
    return total;
}

void lh_cov_save(void)
{
    for (int i = 0; i < nregions; i++)
        memcpy(regions[i].saved, regions[i].at, regions[i].len);
}

void lh_cov_restore(void)
{
    for (int i = 0; i < nregions; i++)
        memcpy(regions[i].at, regions[i].saved, regions[i].len);
}
