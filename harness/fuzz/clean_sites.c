/*
 * clean_sites.c - C heap growth remembered as clean by where it grows.
 *
 * A scratch buffer that grows to the largest request seen (a tokenizer's
 * arena, a parser's stack) raises heap.live_bytes at every new largest
 * request, and neither a replay of that input nor any variant of it grows
 * it again.  Under a fuzzer that lengthens its inputs, each such trigger
 * would cost thousands of distinct variants to be judged clean once more,
 * and the known-clean input cache cannot help: every input is new.
 *
 * So for ops that allocate rarely (fewer than 1 in SITES_MAX_RATE inputs
 * over the last SITES_WINDOW: recording every allocation is then free)
 * allocation sites are recorded along the fast path too (heapsites.c at
 * rate 0), and a trigger's growth since the last look is split by site:
 * per site, its stack (the op's own frames, raw: nothing is symbolized on
 * a trigger) and the size class of what it gained (log2 of the bytes).  A trigger is skipped when all its growth is one live block at
 * each site growing (no new block) into a size class already judged clean
 * there, and when neither a replay of the input nor one distinct variant
 * of it grows the heap again (a high-water mark rises only for a request
 * larger than any before).  A new block at the site, growth into a larger
 * class, growth at any other site, or growth again on the replay or the
 * variant is confirmed as any trigger is: a leak at the same site that
 * grows past the high-water mark is still found.
 */
#include <dlfcn.h>
#include <link.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "interpose.h"
#include "oracle_impl.h"
#include "target.h"

#define SITES_WINDOW 1024       /* inputs between two allocation-rate looks */
#define SITES_MAX_RATE 32       /* record sites below 1 allocation in this
                                 * many inputs */

/* FNV-1a of a stack's folded text: the same stack, the same key. */
static uint64_t stack_key(const char *folded)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)folded; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h ? h : 1;
}

static int size_class(double bytes)
{
    return bytes >= 1.0 ? (int)log2(bytes) : 0;
}

static int clean_has(const lh_oracle *o, uint64_t key, int cls)
{
    for (size_t i = 0; i < o->nclean; i++)
        if (o->clean[i].key == key && o->clean[i].cls == cls)
            return 1;
    return 0;
}

static void rebase(lh_oracle *o)
{
    lh_heapsites_free(o->sites_base);
    o->sites_base = lh_heapsites_snapshot();
}

/* Every input: every SITES_WINDOW inputs, look at the allocation rate and
 * start or stop recording sites on the fast path. */
void lh_or_sites_tick(lh_oracle *o)
{
    if (!(o->avail & HEAP_BITS) || o->cfg.distinct < 0 ||
        ++o->sites_inputs < SITES_WINDOW)
        return;
    lh_heap_stats hs;
    lh_heap_read(&hs);
    uint64_t allocs = hs.total_allocs - o->sites_allocs;
    o->sites_allocs = hs.total_allocs;
    o->sites_inputs = 0;
    int rare = allocs * SITES_MAX_RATE < SITES_WINDOW;
    if (rare && !o->sites_on) {
        size_t rate;
        if (lh_heapsites_recording(&rate))
            return;             /* someone else records: leave it as it is */
        lh_heapsites_start(0);
        o->sites_on = 1;
        rebase(o);
    } else if (!rare && o->sites_on) {
        lh_heapsites_stop();
        o->sites_on = 0;
        lh_heapsites_free(o->sites_base);
        o->sites_base = NULL;
    }
}

/* Where the op's frames end: every op is called through lh_target_call
 * (a direct step and a Lua step alike), so the first return address into
 * it is the harness's first frame.  Its extent from the dynamic symbol
 * table (the drivers export their symbols); without it, the first frame
 * in the executable ends the op's (right for a dlopened target only). */
static uintptr_t call_lo, call_hi;
static int call_known = -1;

static void find_call(void)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    call_known = 0;
    if (dladdr1((void *)(uintptr_t)lh_target_call, &info, (void **)&sym,
                RTLD_DL_SYMENT) && sym && sym->st_size && info.dli_saddr) {
        call_lo = (uintptr_t)info.dli_saddr;
        call_hi = call_lo + sym->st_size;
        call_known = 1;
    }
}

/* The executable's loaded segments. */
static uintptr_t exe_lo[8], exe_hi[8];
static int nexe = -1;

static int note_exe(struct dl_phdr_info *info, size_t size, void *ud)
{
    (void)size;
    (void)ud;
    nexe = 0;
    for (int i = 0; i < info->dlpi_phnum && nexe < 8; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        exe_lo[nexe] = info->dlpi_addr + ph->p_vaddr;
        exe_hi[nexe] = exe_lo[nexe] + ph->p_memsz;
        nexe++;
    }
    return 1;                   /* the first object is the executable */
}

static int harness_frame(uintptr_t pc)
{
    if (call_known < 0)
        find_call();
    if (call_known)
        return pc >= call_lo && pc < call_hi;
    if (nexe < 0)
        dl_iterate_phdr(note_exe, NULL);
    for (int i = 0; i < nexe; i++)
        if (pc >= exe_lo[i] && pc < exe_hi[i])
            return 1;
    return 0;
}

/* A recorded stack's key: a hash of the op's frames, from the allocating
 * call out to the harness's first (below it the engine's path, which
 * differs between libFuzzer's seed pass and its mutations, or a replay's).
 * Raw addresses: no symbolization (an addr2line of the whole driver) on a
 * trigger.  0 when the stack does not reach the harness (truncated, or
 * made on another thread) or starts in it: those are keyed by symbolized
 * site instead. */
static uint64_t stack_key_raw(int id)
{
    int n;
    const uintptr_t *pcs = lh_stack_pcs(id, &n);
    uint64_t h = 0x9e3779b97f4a7c15ull;
    int k = 0;
    for (; k < n && !harness_frame(pcs[k]); k++)
        h = lh_or_mix64(h ^ pcs[k]);
    return k == 0 || k == n ? 0 : h ? h : 1;
}

#define TG_STACKS 16            /* grown stacks looked at per trigger */

/* The growth from o->sites_base to now into o->tg, by raw stack key
 * (stacks with the same target frames merged); *held: its bytes.  -1
 * when a stack has no raw key (then by_site), else how many keys
 * (TG_SITES + 1: too many to explain or learn from). */
static int by_stack(lh_oracle *o, const lh_heapsnap *now, double *held)
{
    int ids[TG_STACKS];
    double bytes[TG_STACKS], count[TG_STACKS];
    int m = lh_heapsites_diff_stacks(o->sites_base, now, ids, bytes, count,
                                     TG_STACKS);
    if (m > TG_STACKS)
        return TG_SITES + 1;
    double cnt[TG_SITES];
    int n = 0;
    for (int i = 0; i < m; i++) {
        uint64_t key = stack_key_raw(ids[i]);
        if (!key)
            return -1;
        int j = 0;
        while (j < n && o->tg[j].key != key)
            j++;
        if (j == TG_SITES)
            return TG_SITES + 1;
        if (j == n) {
            o->tg[n].key = key;
            o->tg[n].grew = 0.0;
            cnt[n++] = 0.0;
        }
        o->tg[j].grew += bytes[i];
        cnt[j] += count[i];
        *held += bytes[i];
    }
    for (int j = 0; j < n; j++) {
        o->tg[j].cls = size_class(o->tg[j].grew);
        o->tg[j].same_block = cnt[j] < 0.5;
    }
    return n;
}

/* The same by symbolized site (lh_heapsites_diff), when a stack has no
 * raw key. */
static int by_site(lh_oracle *o, const lh_heapsnap *now, double *held)
{
    lh_site *top = lh_raw_malloc(TG_SITES * sizeof *top);
    int n = 0;
    if (top)
        n = lh_heapsites_diff(o->sites_base, now, top, TG_SITES);
    for (int i = 0; i < n; i++) {
        o->tg[i].key = stack_key(top[i].folded);
        o->tg[i].grew = top[i].bytes;
        o->tg[i].cls = size_class(top[i].bytes);
        o->tg[i].same_block = top[i].count < 0.5;
        *held += top[i].bytes;
    }
    lh_raw_free(top);
    return n;
}

/* A C heap trigger of `growth` bytes: where it grew since the last look
 * (into o->tg).  1 when all of it is known clean by site and size class
 * (then it is not confirmed), else 0. */
int lh_or_sites_explain(lh_oracle *o, double growth)
{
    o->ntg = 0;
    if (!o->sites_on || !o->sites_base)
        return 0;
    lh_heapsnap *now = lh_heapsites_snapshot();
    double held = 0.0;
    int n = 0;
    if (now) {
        n = by_stack(o, now, &held);
        if (n < 0) {
            held = 0.0;
            n = by_site(o, now, &held);
        }
    }
    if (n > TG_SITES)
        n = 0;
    int known = n > 0;
    for (int i = 0; i < n; i++)
        if (!o->tg[i].same_block || !clean_has(o, o->tg[i].key,
                                                o->tg[i].cls))
            known = 0;
    o->ntg = n;
    lh_heapsites_free(o->sites_base);
    o->sites_base = now;
    /* What the sites hold must account for the whole rise (rate 0 is
     * exact): growth recording did not see, or sites the diff left out,
     * are never explained. */
    return known && n < TG_SITES && held + 0.5 >= growth;
}

/* A high-water mark does not rise again for the same request, nor for
 * another of its size: replay the input once and step one distinct
 * variant of it (as a distinct run would).  1 when either grew the C
 * heap (or a step failed): a block that grows on every call, or per
 * distinct input, in a class judged clean is a leak to confirm. */
static int regrows(lh_oracle *o, const uint8_t *data, size_t size)
{
    double b[W_COUNT] = { 0 }, a[W_COUNT] = { 0 };
    lh_or_read_metrics(o, HEAP_BITS, b);
    if (o->step(o->ud, data, size) < 0)
        return 1;
    lh_or_read_metrics(o, HEAP_BITS, a);
    if (a[W_HEAP_BYTES] > b[W_HEAP_BYTES] ||
        a[W_HEAP_ALLOCS] > b[W_HEAP_ALLOCS])
        return 1;
    size_t at, digits, len;
    uint64_t seq = lh_or_mix64(lh_or_hash_input(data, size) ^ 0x5c) >> 8;
    if (lh_or_variant_begin(o, data, size, seq, 0, &at, &digits, &len) < 0)
        return 1;
    lh_or_next_variant(o, at, digits);
    if (o->step(o->ud, o->variant, len) < 0)
        return 1;
    lh_or_read_metrics(o, HEAP_BITS, b);
    return b[W_HEAP_BYTES] > a[W_HEAP_BYTES] ||
           b[W_HEAP_ALLOCS] > a[W_HEAP_ALLOCS];
}

/* The whole check for a C heap trigger of `growth` bytes on data: 1 when
 * it is known clean (not to be confirmed). */
int lh_or_sites_known_clean(lh_oracle *o, const uint8_t *data, size_t size,
                            double growth)
{
    if (!lh_or_sites_explain(o, growth))
        return 0;
    int again = regrows(o, data, size);
    o->proc_have = 0;       /* the guard's steps may move fds, threads */
    if (o->sites_on)
        rebase(o);          /* ... and moved the heap */
    if (again)
        return 0;
    o->stats.clean_sites++;
    return 1;
}

/* The trigger looked up last was judged clean on the C heap: remember its
 * sites' growth (one block growing) as clean, then look afresh (the
 * replays moved the heap). */
void lh_or_sites_learn(lh_oracle *o, int clean)
{
    for (int i = 0; clean && i < o->ntg; i++) {
        if (!o->tg[i].same_block || clean_has(o, o->tg[i].key, o->tg[i].cls))
            continue;
        if (lh_grow((void **)&o->clean, &o->cleancap, o->nclean + 1,
                    sizeof *o->clean) < 0)
            break;
        o->clean[o->nclean].key = o->tg[i].key;
        o->clean[o->nclean].cls = o->tg[i].cls;
        o->nclean++;
    }
    o->ntg = 0;
    if (o->sites_on)
        rebase(o);
}

void lh_or_sites_free(lh_oracle *o)
{
    if (o->sites_on)
        lh_heapsites_stop();
    lh_heapsites_free(o->sites_base);
    lh_raw_free(o->clean);
}
