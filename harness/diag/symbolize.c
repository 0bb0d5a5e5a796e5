/*
 * symbolize.c - call stacks for diagnosis: capture, interning, symbols,
 * blame.
 *
 * Capture.  Targets are built -O2 without frame pointers, so stacks are
 * unwound from the DWARF call-frame information (.eh_frame) the compiler
 * emits for every function.  glibc's backtrace() does that through
 * libgcc's generic unwinder at ~150 ns a frame, which is too slow for the
 * heap sampler (a 25-frame stack every ~100 small mallocs would double
 * their cost).  So x86-64 gets a small unwinder of its own: the CFA rule
 * of each return address is computed once from .eh_frame (found through
 * _dl_find_object, lock-free) and cached, after which a frame costs a
 * hash probe and two loads.  Only the rules compilers emit for ordinary
 * code are understood (CFA = rsp/rbp + k, the DRAP form, rbp and the
 * return address saved at CFA + k); anything else -- a signal frame, Go
 * code (no .eh_frame), a hand-written stub -- ends the stack there, which
 * costs root frames, never the leaf ones that are blamed.  glibc's
 * backtrace() stays available (LEAKHOUND_UNWIND=libgcc, other
 * architectures).  Neither path allocates once lh_backtrace_init has run.
 *
 * Symbols.  dladdr only sees exported symbols, and the bundled targets
 * hide their helpers, so names and file:line come from addr2line, spawned
 * once per object with every address of a batch, after the run.  Inlined
 * frames are expanded (addr2line -i): a static helper inlined into an op
 * is blamed by its own name, "inlined into" the op.  Without addr2line or
 * debug info a frame is "libname.so+0xOFFSET".
 *
 * Blame.  The frame to blame is the innermost one outside the harness
 * (the interposer's own functions in the executable, recognised by name:
 * fuzz drivers link the target into the executable, so the object alone
 * cannot tell) and outside the runtime libraries (libc, ld.so, libstdc++,
 * libgcc, Lua ...).
 */
#include "diag.h"

#include <ctype.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interpose.h"

#define IE_TLS __attribute__((tls_model("initial-exec")))

#if defined(__x86_64__) && defined(__linux__)
#define LH_OWN_UNWINDER 1
#else
#define LH_OWN_UNWINDER 0
#endif

/* ---- spinlock ------------------------------------------------------------ */

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

/* ---- stack capture ------------------------------------------------------- */

static void stk_prepare(void);
static void stk_after(void);

/* Frames one capture may hold before trimming and the caller's max. */
#define BT_RAW 96

static atomic_int bt_ready;
static int bt_use_libgcc = !LH_OWN_UNWINDER;

/* A hook that captures a stack may be entered again from inside the
 * capture (glibc's backtrace() mallocs on its first call); the inner
 * call gets an empty stack rather than recursing. */
static _Thread_local int bt_busy IE_TLS;

#if LH_OWN_UNWINDER

/* DWARF constants (DWARF 4, 6.4.2 and 7.23; LSB's .eh_frame encodings). */
enum {
    PE_absptr = 0x00, PE_uleb128 = 0x01, PE_udata2 = 0x02,
    PE_udata4 = 0x03, PE_udata8 = 0x04, PE_sleb128 = 0x09,
    PE_sdata2 = 0x0a, PE_sdata4 = 0x0b, PE_sdata8 = 0x0c,
    PE_pcrel = 0x10, PE_datarel = 0x30, PE_indirect = 0x80,
    PE_omit = 0xff,
};

enum {
    DW_RBP = 6, DW_RSP = 7,
    OP_breg6 = 0x76, OP_deref = 0x06,
};

/* How to find the CFA, the return address and the caller's rbp. */
enum { CFA_NONE, CFA_RSP, CFA_RBP, CFA_DRAP, CFA_BAD };
enum { R_SAME, R_OFFSET, R_UNDEF, R_BAD };

typedef struct uw_rule {
    int32_t cfa_off;
    int16_t ra_off;
    int16_t rbp_off;
    uint8_t cfa_kind;
    uint8_t ra_kind;
    uint8_t rbp_kind;
} uw_rule;

typedef struct cfi_row {
    int cfa_kind;
    int64_t cfa_off;
    int rbp_kind;
    int64_t rbp_off;
    int ra_kind;
    int64_t ra_off;
} cfi_row;

typedef struct cie_info {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    int has_z;
    int signal;
    const uint8_t *insns, *insns_end;
} cie_info;

static uint64_t rd_uleb(const uint8_t **pp, const uint8_t *end)
{
    uint64_t v = 0;
    unsigned shift = 0;
    const uint8_t *p = *pp;
    while (p < end) {
        uint8_t b = *p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    *pp = p;
    return v;
}

static int64_t rd_sleb(const uint8_t **pp, const uint8_t *end)
{
    int64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    const uint8_t *p = *pp;
    while (p < end) {
        b = *p++;
        if (shift < 64)
            v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        v |= -((int64_t)1 << shift);
    *pp = p;
    return v;
}

/* Reads a pointer in .eh_frame encoding.  Only the applications that
 * linkers emit on x86-64 (absolute, pc-relative, data-relative for the
 * header's table) are supported.  0, or -1 when it cannot be decoded. */
static int rd_encoded(const uint8_t **pp, const uint8_t *end, uint8_t enc,
                      uintptr_t datarel, uintptr_t *out)
{
    const uint8_t *p = *pp;
    uintptr_t base;
    uint64_t v;
    if (enc == PE_omit)
        return -1;
    switch (enc & 0x70) {
    case 0:
        base = 0;
        break;
    case PE_pcrel:
        base = (uintptr_t)p;
        break;
    case PE_datarel:
        if (!datarel)
            return -1;
        base = datarel;
        break;
    default:
        return -1;
    }
    switch (enc & 0x0f) {
    case PE_absptr:
    case PE_udata8:
    case PE_sdata8:
        if (end - p < 8)
            return -1;
        memcpy(&v, p, 8);
        p += 8;
        break;
    case PE_udata4: {
        uint32_t x;
        if (end - p < 4)
            return -1;
        memcpy(&x, p, 4);
        v = x;
        p += 4;
        break;
    }
    case PE_sdata4: {
        int32_t x;
        if (end - p < 4)
            return -1;
        memcpy(&x, p, 4);
        v = (uint64_t)(int64_t)x;
        p += 4;
        break;
    }
    case PE_udata2: {
        uint16_t x;
        if (end - p < 2)
            return -1;
        memcpy(&x, p, 2);
        v = x;
        p += 2;
        break;
    }
    case PE_sdata2: {
        int16_t x;
        if (end - p < 2)
            return -1;
        memcpy(&x, p, 2);
        v = (uint64_t)(int64_t)x;
        p += 2;
        break;
    }
    case PE_uleb128:
        v = rd_uleb(&p, end);
        break;
    case PE_sleb128:
        v = (uint64_t)rd_sleb(&p, end);
        break;
    default:
        return -1;
    }
    v += base;
    if (enc & PE_indirect)
        memcpy(&v, (const void *)(uintptr_t)v, sizeof v);
    *pp = p;
    *out = (uintptr_t)v;
    return 0;
}

/* Length-prefixed .eh_frame record: start of its body and its end. */
static const uint8_t *rd_record(const uint8_t *p, const uint8_t **end)
{
    uint32_t len32;
    memcpy(&len32, p, 4);
    if (len32 == 0xffffffffu) {
        uint64_t len64;
        memcpy(&len64, p + 4, 8);
        *end = p + 12 + len64;
        return p + 12;
    }
    *end = p + 4 + len32;
    return p + 4;
}

static int parse_cie(const uint8_t *cie, cie_info *ci)
{
    const uint8_t *end;
    const uint8_t *p = rd_record(cie, &end);
    uint32_t id;
    memcpy(&id, p, 4);
    if (id != 0)
        return -1;
    p += 4;
    uint8_t version = *p++;
    const char *aug = (const char *)p;
    p += strlen(aug) + 1;
    if (strstr(aug, "eh"))      /* pre-GCC-3 layout: not worth it */
        return -1;
    ci->code_align = rd_uleb(&p, end);
    ci->data_align = rd_sleb(&p, end);
    ci->ra_reg = version == 1 ? *p++ : rd_uleb(&p, end);
    ci->fde_enc = PE_absptr;
    ci->has_z = aug[0] == 'z';
    ci->signal = 0;
    if (ci->has_z) {
        uint64_t alen = rd_uleb(&p, end);
        const uint8_t *aend = p + alen;
        for (const char *a = aug + 1; *a && p < aend; a++) {
            if (*a == 'R') {
                ci->fde_enc = *p++;
            } else if (*a == 'L') {
                p++;
            } else if (*a == 'P') {
                uint8_t penc = *p++;
                uintptr_t dummy;
                if (rd_encoded(&p, aend, penc & 0x7f, 0, &dummy) < 0)
                    break;
            } else if (*a == 'S') {
                ci->signal = 1;
            } else {
                break;      /* unknown: the length lets us skip the rest */
            }
        }
        p = aend;
        for (const char *a = aug + 1; *a; a++)
            if (*a == 'S')
                ci->signal = 1;
    }
    ci->insns = p;
    ci->insns_end = end;
    return 0;
}

static void set_reg(cfi_row *r, const cie_info *ci, uint64_t reg, int kind,
                    int64_t off)
{
    if (reg == DW_RBP) {
        r->rbp_kind = kind;
        r->rbp_off = off;
    } else if (reg == ci->ra_reg) {
        r->ra_kind = kind;
        r->ra_off = off;
    }
}

static void restore_reg(cfi_row *r, const cie_info *ci, uint64_t reg,
                        const cfi_row *init)
{
    if (reg == DW_RBP) {
        r->rbp_kind = init->rbp_kind;
        r->rbp_off = init->rbp_off;
    } else if (reg == ci->ra_reg) {
        r->ra_kind = init->ra_kind;
        r->ra_off = init->ra_off;
    }
}

/* Runs a CFA program up to the row that covers target (the rules at
 * target are those set by instructions at locations <= target). */
static int run_cfa(const uint8_t *p, const uint8_t *end, const cie_info *ci,
                   uintptr_t loc, uintptr_t target, cfi_row *r,
                   const cfi_row *init)
{
    cfi_row stack[8];
    int depth = 0;
    while (p < end) {
        uint8_t op = *p++;
        uint8_t hi = op & 0xc0, lo = op & 0x3f;
        uint64_t reg, delta;
        int64_t off;
        if (hi == 0x40) {                       /* advance_loc */
            delta = lo * ci->code_align;
            if (loc + delta > target)
                return 0;
            loc += delta;
            continue;
        }
        if (hi == 0x80) {                       /* offset */
            off = (int64_t)rd_uleb(&p, end) * ci->data_align;
            set_reg(r, ci, lo, R_OFFSET, off);
            continue;
        }
        if (hi == 0xc0) {                       /* restore */
            restore_reg(r, ci, lo, init);
            continue;
        }
        switch (op) {
        case 0x00:                              /* nop */
            break;
        case 0x01: {                            /* set_loc */
            uintptr_t nl;
            if (rd_encoded(&p, end, ci->fde_enc, 0, &nl) < 0)
                return -1;
            if (nl > target)
                return 0;
            loc = nl;
            break;
        }
        case 0x02:                              /* advance_loc1 */
        case 0x03:                              /* advance_loc2 */
        case 0x04: {                            /* advance_loc4 */
            uint32_t d = 0;
            size_t w = op == 0x02 ? 1 : op == 0x03 ? 2 : 4;
            if ((size_t)(end - p) < w)
                return -1;
            memcpy(&d, p, w);       /* little-endian */
            p += w;
            delta = d * ci->code_align;
            if (loc + delta > target)
                return 0;
            loc += delta;
            break;
        }
        case 0x05:                              /* offset_extended */
            reg = rd_uleb(&p, end);
            off = (int64_t)rd_uleb(&p, end) * ci->data_align;
            set_reg(r, ci, reg, R_OFFSET, off);
            break;
        case 0x06:                              /* restore_extended */
            restore_reg(r, ci, rd_uleb(&p, end), init);
            break;
        case 0x07:                              /* undefined */
            set_reg(r, ci, rd_uleb(&p, end), R_UNDEF, 0);
            break;
        case 0x08:                              /* same_value */
            set_reg(r, ci, rd_uleb(&p, end), R_SAME, 0);
            break;
        case 0x09:                              /* register */
            reg = rd_uleb(&p, end);
            rd_uleb(&p, end);
            set_reg(r, ci, reg, R_BAD, 0);
            break;
        case 0x0a:                              /* remember_state */
            if (depth == 8)
                return -1;
            stack[depth++] = *r;
            break;
        case 0x0b:                              /* restore_state */
            if (depth == 0)
                return -1;
            *r = stack[--depth];
            break;
        case 0x0c:                              /* def_cfa */
            reg = rd_uleb(&p, end);
            r->cfa_off = (int64_t)rd_uleb(&p, end);
            r->cfa_kind = reg == DW_RSP ? CFA_RSP
                          : reg == DW_RBP ? CFA_RBP : CFA_BAD;
            break;
        case 0x12:                              /* def_cfa_sf */
            reg = rd_uleb(&p, end);
            r->cfa_off = rd_sleb(&p, end) * ci->data_align;
            r->cfa_kind = reg == DW_RSP ? CFA_RSP
                          : reg == DW_RBP ? CFA_RBP : CFA_BAD;
            break;
        case 0x0d:                              /* def_cfa_register */
            reg = rd_uleb(&p, end);
            r->cfa_kind = reg == DW_RSP ? CFA_RSP
                          : reg == DW_RBP ? CFA_RBP : CFA_BAD;
            break;
        case 0x0e:                              /* def_cfa_offset */
            r->cfa_off = (int64_t)rd_uleb(&p, end);
            if (r->cfa_kind == CFA_DRAP)
                r->cfa_kind = CFA_BAD;
            break;
        case 0x13:                              /* def_cfa_offset_sf */
            r->cfa_off = rd_sleb(&p, end) * ci->data_align;
            if (r->cfa_kind == CFA_DRAP)
                r->cfa_kind = CFA_BAD;
            break;
        case 0x0f: {                            /* def_cfa_expression */
            uint64_t len = rd_uleb(&p, end);
            const uint8_t *e = p, *eend = p + len;
            /* The one expression gcc emits for ordinary code: a
             * realigned frame (DRAP), CFA = *(rbp + k). */
            r->cfa_kind = CFA_BAD;
            if (e < eend && *e++ == OP_breg6) {
                int64_t k = rd_sleb(&e, eend);
                if (e + 1 == eend && *e == OP_deref) {
                    r->cfa_kind = CFA_DRAP;
                    r->cfa_off = k;
                }
            }
            p = eend;
            break;
        }
        case 0x10:                              /* expression */
        case 0x16: {                            /* val_expression */
            reg = rd_uleb(&p, end);
            uint64_t len = rd_uleb(&p, end);
            p += len;
            set_reg(r, ci, reg, R_BAD, 0);
            break;
        }
        case 0x11:                              /* offset_extended_sf */
            reg = rd_uleb(&p, end);
            off = rd_sleb(&p, end) * ci->data_align;
            set_reg(r, ci, reg, R_OFFSET, off);
            break;
        case 0x14:                              /* val_offset */
            reg = rd_uleb(&p, end);
            rd_uleb(&p, end);
            set_reg(r, ci, reg, R_BAD, 0);
            break;
        case 0x15:                              /* val_offset_sf */
            reg = rd_uleb(&p, end);
            rd_sleb(&p, end);
            set_reg(r, ci, reg, R_BAD, 0);
            break;
        case 0x2e:                              /* GNU_args_size */
            rd_uleb(&p, end);
            break;
        case 0x2f:                     /* GNU_negative_offset_extended */
            reg = rd_uleb(&p, end);
            off = -(int64_t)rd_uleb(&p, end) * ci->data_align;
            set_reg(r, ci, reg, R_OFFSET, off);
            break;
        default:
            return -1;
        }
    }
    return 0;
}

/* The .eh_frame_hdr of the object holding pc. */
#ifdef DLFO_STRUCT_HAS_EH_DBASE
static const uint8_t *eh_frame_hdr(uintptr_t pc)
{
    struct dl_find_object fo;
    if (_dl_find_object((void *)pc, &fo) != 0)
        return NULL;
    return fo.dlfo_eh_frame;
}
#else
struct hdr_search {
    uintptr_t pc;
    const uint8_t *hdr;
};

static int hdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct hdr_search *s = data;
    const ElfW(Phdr) *eh = NULL;
    int inside = 0;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && s->pc >= a && s->pc < a + ph->p_memsz)
            inside = 1;
        else if (ph->p_type == PT_GNU_EH_FRAME)
            eh = ph;
    }
    if (!inside)
        return 0;
    if (eh)
        s->hdr = (const uint8_t *)(info->dlpi_addr + eh->p_vaddr);
    return 1;
}

static const uint8_t *eh_frame_hdr(uintptr_t pc)
{
    struct hdr_search s = { pc, NULL };
    dl_iterate_phdr(hdr_cb, &s);
    return s.hdr;
}
#endif

/* Computes the unwind rule at pc (an instruction address: a return
 * address minus one, or the current pc of the first frame). */
static void compute_rule(uintptr_t pc, uw_rule *out)
{
    memset(out, 0, sizeof *out);
    out->cfa_kind = CFA_NONE;
    const uint8_t *hdr = eh_frame_hdr(pc);
    if (!hdr || hdr[0] != 1)
        return;
    const uint8_t *p = hdr + 4;
    const uint8_t *lim = hdr + 64;      /* the fields all fit well inside */
    uintptr_t eh_frame, count;
    if (rd_encoded(&p, lim, hdr[1], (uintptr_t)hdr, &eh_frame) < 0 ||
        rd_encoded(&p, lim, hdr[2], (uintptr_t)hdr, &count) < 0 ||
        hdr[3] != (PE_datarel | PE_sdata4) || count == 0)
        return;
    /* Binary search of the sorted (initial location, FDE) table, both
     * entries relative to the header. */
    const uint8_t *table = p;
    size_t lo = 0, hi = count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t loc;
        memcpy(&loc, table + mid * 8, 4);
        if ((uintptr_t)hdr + (intptr_t)loc <= pc)
            lo = mid;
        else
            hi = mid;
    }
    int32_t loc0, fde_off;
    memcpy(&loc0, table + lo * 8, 4);
    memcpy(&fde_off, table + lo * 8 + 4, 4);
    if ((uintptr_t)hdr + (intptr_t)loc0 > pc)
        return;
    const uint8_t *fde = hdr + fde_off;

    const uint8_t *fend;
    const uint8_t *q = rd_record(fde, &fend);
    uint32_t cie_ptr;
    memcpy(&cie_ptr, q, 4);
    if (cie_ptr == 0)
        return;
    cie_info ci;
    if (parse_cie(q - cie_ptr, &ci) < 0)
        return;
    q += 4;
    uintptr_t begin, range;
    if (rd_encoded(&q, fend, ci.fde_enc, 0, &begin) < 0 ||
        rd_encoded(&q, fend, ci.fde_enc & 0x0f, 0, &range) < 0)
        return;
    if (pc < begin || pc - begin >= range)
        return;
    if (ci.has_z) {
        uint64_t alen = rd_uleb(&q, fend);
        q += alen;
    }
    if (ci.signal) {
        out->cfa_kind = CFA_BAD;
        return;
    }

    cfi_row init = { CFA_BAD, 0, R_SAME, 0, R_UNDEF, 0 };
    if (run_cfa(ci.insns, ci.insns_end, &ci, begin, (uintptr_t)-1, &init,
                &init) < 0) {
        out->cfa_kind = CFA_BAD;
        return;
    }
    cfi_row row = init;
    if (run_cfa(q, fend, &ci, begin, pc, &row, &init) < 0) {
        out->cfa_kind = CFA_BAD;
        return;
    }
    if (row.cfa_off < INT32_MIN || row.cfa_off > INT32_MAX ||
        row.ra_off < INT16_MIN || row.ra_off > INT16_MAX ||
        row.rbp_off < INT16_MIN || row.rbp_off > INT16_MAX) {
        out->cfa_kind = CFA_BAD;
        return;
    }
    out->cfa_kind = (uint8_t)row.cfa_kind;
    out->cfa_off = (int32_t)row.cfa_off;
    out->ra_kind = (uint8_t)row.ra_kind;
    out->ra_off = (int16_t)row.ra_off;
    out->rbp_kind = (uint8_t)row.rbp_kind;
    out->rbp_off = (int16_t)row.rbp_off;
}

/*
 * Rule cache: insert-only open addressing, lock-free.  A writer claims an
 * empty slot (key 0 -> BUSY), fills the rule and publishes the key with
 * release; a reader that sees the key with acquire sees the rule.  Rules
 * are never changed or evicted: the same pc always has the same rule (a
 * library unloaded and another loaded at its address is the exception;
 * targets are never dlclosed).  When a probe run is full the rule is just
 * recomputed each time.
 */
#define UW_CACHE_BITS 14
#define UW_PROBES 16
#define UW_BUSY ((uintptr_t)1)

typedef struct uw_slot {
    _Atomic uintptr_t key;
    uw_rule rule;
} uw_slot;

static uw_slot uw_cache[1u << UW_CACHE_BITS];

static inline size_t uw_hash(uintptr_t pc)
{
    return (size_t)(((uint64_t)pc * 0x9e3779b97f4a7c15ull) >>
                    (64 - UW_CACHE_BITS));
}

static void rule_for(uintptr_t pc, uw_rule *r)
{
    size_t mask = (1u << UW_CACHE_BITS) - 1;
    size_t h = uw_hash(pc);
    uw_slot *empty = NULL;
    for (int i = 0; i < UW_PROBES; i++) {
        uw_slot *s = &uw_cache[(h + (size_t)i) & mask];
        uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == pc) {
            *r = s->rule;
            return;
        }
        if (k == 0) {
            empty = s;
            break;
        }
    }
    compute_rule(pc, r);
    if (empty) {
        uintptr_t zero = 0;
        if (atomic_compare_exchange_strong_explicit(
                &empty->key, &zero, UW_BUSY, memory_order_relaxed,
                memory_order_relaxed)) {
            empty->rule = *r;
            atomic_store_explicit(&empty->key, pc, memory_order_release);
        }
    }
}

/*
 * The previous capture of this thread, to skip the outer frames that the
 * next capture shares with it (the heap sampler captures the same Lua VM,
 * runner and main frames over and over).  When the unwind reaches a frame
 * with the CFA, return address and rbp of one in the memo, the frames
 * beyond are the memo's provided each of their return-address slots still
 * holds what was read there: one load per frame instead of a rule lookup
 * (cache misses, mostly).  The slots lie between this frame and the base of
 * the same stack, so reading them is safe.  Static TLS, ~1.5 KiB a thread.
 */
#define UW_MEMO 48

typedef struct uw_memo_t {
    int n;
    int complete;               /* reached the root (not cut at max) */
    uintptr_t cfa[UW_MEMO], slot[UW_MEMO], ra[UW_MEMO], rbp[UW_MEMO];
} uw_memo_t;

static _Thread_local uw_memo_t uw_memo IE_TLS;

/* Unwinds from its own frame: pcs[0] is its caller's return address. */
__attribute__((noinline))
static int uw_unwind(uintptr_t *pcs, int max)
{
    uintptr_t rip, rsp, rbp;
    __asm__ volatile("leaq 0(%%rip), %0\n\t"
                     "movq %%rsp, %1\n\t"
                     "movq %%rbp, %2"
                     : "=r"(rip), "=r"(rsp), "=r"(rbp));
    uw_memo_t *memo = &uw_memo;
    uintptr_t cfas[UW_MEMO], slots[UW_MEMO], rbps[UW_MEMO];
    int rbp_ok = 1, n = 0, j = 0, joined = -1, complete = 0;
    uintptr_t at = rip;
    for (;;) {
        if (n >= max)
            break;
        uw_rule r;
        rule_for(at, &r);
        uintptr_t cfa;
        if (r.cfa_kind == CFA_RSP)
            cfa = rsp + (intptr_t)r.cfa_off;
        else if (r.cfa_kind == CFA_RBP && rbp_ok)
            cfa = rbp + (intptr_t)r.cfa_off;
        else if (r.cfa_kind == CFA_DRAP && rbp_ok)
            memcpy(&cfa, (const void *)(rbp + (intptr_t)r.cfa_off),
                   sizeof cfa);
        else {
            complete = r.cfa_kind == CFA_NONE;
            break;
        }
        /* Callers' frames are above their callees'; anything else means
         * the rules and the stack disagree, and reading on would fault. */
        if (cfa <= rsp || cfa - rsp > ((uintptr_t)1 << 28) || (cfa & 7))
            break;
        if (r.ra_kind != R_OFFSET) {
            complete = 1;       /* undefined return address: the root */
            break;
        }
        uintptr_t slot = cfa + (intptr_t)r.ra_off, ra;
        memcpy(&ra, (const void *)slot, sizeof ra);
        if (r.rbp_kind == R_OFFSET)
            memcpy(&rbp, (const void *)(cfa + (intptr_t)r.rbp_off),
                   sizeof rbp);
        else if (r.rbp_kind != R_SAME)
            rbp_ok = 0;
        rsp = cfa;
        if (ra < 4096) {
            complete = 1;
            break;
        }
        if (n < UW_MEMO) {
            cfas[n] = cfa;
            slots[n] = slot;
            rbps[n] = rbp_ok ? rbp : 0;
        }
        pcs[n++] = ra;
        at = ra - 1;            /* the call instruction, not the next */

        /* Join the previous capture?  CFAs grow along both, so one
         * forward-moving index finds the candidate. */
        while (j < memo->n && memo->cfa[j] < cfa)
            j++;
        if (j < memo->n && memo->cfa[j] == cfa && memo->ra[j] == ra &&
            memo->rbp[j] == (rbp_ok ? rbp : 0) && rbp_ok &&
            n <= UW_MEMO) {
            int ok = memo->complete || n + (memo->n - j - 1) >= max;
            for (int m = j + 1; m < memo->n && ok; m++) {
                uintptr_t v;
                memcpy(&v, (const void *)memo->slot[m], sizeof v);
                ok = v == memo->ra[m];
            }
            if (ok) {
                joined = j;
                break;
            }
        }
    }
    if (joined >= 0) {
        int fresh = n;          /* frames unwound here (<= UW_MEMO) */
        int tail = memo->n - joined - 1;
        for (int m = 0; m < tail && n < max; m++)
            pcs[n++] = memo->ra[joined + 1 + m];
        /* The memo becomes this stack: our frames, then its tail. */
        int keep = tail;
        if (fresh + keep > UW_MEMO)
            keep = UW_MEMO - fresh;
        if (keep > 0 && fresh != joined + 1) {
            memmove(&memo->cfa[fresh], &memo->cfa[joined + 1],
                    (size_t)keep * sizeof(uintptr_t));
            memmove(&memo->slot[fresh], &memo->slot[joined + 1],
                    (size_t)keep * sizeof(uintptr_t));
            memmove(&memo->ra[fresh], &memo->ra[joined + 1],
                    (size_t)keep * sizeof(uintptr_t));
            memmove(&memo->rbp[fresh], &memo->rbp[joined + 1],
                    (size_t)keep * sizeof(uintptr_t));
        }
        memcpy(memo->cfa, cfas, (size_t)fresh * sizeof(uintptr_t));
        memcpy(memo->slot, slots, (size_t)fresh * sizeof(uintptr_t));
        memcpy(memo->ra, pcs, (size_t)fresh * sizeof(uintptr_t));
        memcpy(memo->rbp, rbps, (size_t)fresh * sizeof(uintptr_t));
        memo->complete = memo->complete && keep == tail;
        memo->n = fresh + (keep > 0 ? keep : 0);
    } else {
        int k = n < UW_MEMO ? n : UW_MEMO;
        memcpy(memo->cfa, cfas, (size_t)k * sizeof(uintptr_t));
        memcpy(memo->slot, slots, (size_t)k * sizeof(uintptr_t));
        memcpy(memo->ra, pcs, (size_t)k * sizeof(uintptr_t));
        memcpy(memo->rbp, rbps, (size_t)k * sizeof(uintptr_t));
        memo->n = k;
        memo->complete = complete && k == n;
    }
    return n;
}

#endif /* LH_OWN_UNWINDER */

/* glibc's backtrace(): raw[0] is the return address into our caller. */
__attribute__((noinline))
static int lg_unwind(uintptr_t *pcs, int max)
{
    void *raw[BT_RAW + 1];
    if (max > BT_RAW)
        max = BT_RAW;
    lh_heap_suspend();          /* its first call dlopens libgcc_s */
    int n = backtrace(raw, max + 1);
    lh_heap_resume();
    /* raw[0] is the return address into this function. */
    for (int i = 1; i < n; i++)
        pcs[i - 1] = (uintptr_t)raw[i];
    return n > 0 ? n - 1 : 0;
}

/* Both unwinders, called directly from the public functions (noinline,
 * so pcs[0] is always the return address into the public function):
 * this must be inlined whatever the optimisation level. */
__attribute__((always_inline))
static inline int capture(uintptr_t *pcs, int max)
{
#if LH_OWN_UNWINDER
    if (!bt_use_libgcc)
        return uw_unwind(pcs, max);
#endif
    return lg_unwind(pcs, max);
}

void lh_backtrace_init(void)
{
    if (atomic_load(&bt_ready))
        return;
    const char *e = getenv("LEAKHOUND_UNWIND");
    if (e && strcmp(e, "libgcc") == 0)
        bt_use_libgcc = 1;
    /* glibc's backtrace() loads libgcc_s and mallocs on its first call:
     * do that now, outside any hook. */
    void *warm[4];
    lh_heap_suspend();
    backtrace(warm, 4);
    pthread_atfork(stk_prepare, stk_after, stk_after);
    lh_heap_resume();
    atomic_store(&bt_ready, 1);
}

__attribute__((noinline))
int lh_backtrace(uintptr_t *pcs, int max, int skip)
{
    uintptr_t raw[BT_RAW];
    if (max <= 0 || skip < 0 || bt_busy)
        return 0;
    int want = 1 + skip + max;
    if (want > BT_RAW)
        want = BT_RAW;
    bt_busy = 1;
    int n = capture(raw, want);
    bt_busy = 0;
    /* raw[0] is the return address into this function: drop it. */
    int out = 0;
    for (int i = 1 + skip; i < n && out < max; i++)
        pcs[out++] = raw[i];
    return out;
}

/* How far into the stack the caller's return address may be: the
 * interposer's own frames (wrapper, recorder, this) come first. */
#define BT_FIND_RA 24

__attribute__((noinline))
int lh_backtrace_from(uintptr_t *pcs, int max, uintptr_t ra)
{
    uintptr_t raw[BT_RAW];
    if (max <= 0 || bt_busy)
        return 0;
    int want = max + BT_FIND_RA;
    if (want > BT_RAW)
        want = BT_RAW;
    bt_busy = 1;
    int n = capture(raw, want);
    bt_busy = 0;
    int start = 1;
    for (int i = 0; i < n && i < BT_FIND_RA; i++) {
        if (raw[i] == ra) {
            start = i;
            break;
        }
    }
    int out = 0;
    for (int i = start; i < n && out < max; i++)
        pcs[out++] = raw[i];
    return out;
}

/* ---- interned stacks ----------------------------------------------------- */

/*
 * id -> stack goes through fixed chunks that never move, so readers need
 * no lock; pcs -> id is an open-addressing index under a spinlock (only
 * taken on a sampled path).
 */
#define STK_CHUNK 1024
#define STK_CHUNKS 1024

typedef struct stk {
    uint64_t hash;
    int n;
    uintptr_t pcs[];
} stk;

typedef _Atomic(stk *) stk_slot;

static _Atomic(stk_slot *) stk_chunks[STK_CHUNKS];
static int stk_count;
static int *stk_index;          /* id + 1; 0 = empty */
static size_t stk_index_cap;
static lh_spinlock stk_lock;

/* fork() while another thread interns would leave the child's lock held
 * forever: hold it across fork.  The callers (the sampler, the fd and
 * thread recorders) keep away on the forking thread by their own flags. */
static void stk_prepare(void)
{
    lh_spin_lock(&stk_lock);
}

static void stk_after(void)
{
    lh_spin_unlock(&stk_lock);
}

/* Four independent multiply chains: a 30-frame stack hashes in a few
 * dozen cycles instead of one long dependency chain. */
static uint64_t hash_pcs(const uintptr_t *pcs, int n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h[4] = { (uint64_t)n, 0x243f6a8885a308d3ull,
                      0x13198a2e03707344ull, 0xa4093822299f31d0ull };
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++)
            h[j] = (h[j] ^ (uint64_t)pcs[i + j]) * k;
    for (; i < n; i++)
        h[0] = (h[0] ^ (uint64_t)pcs[i]) * k;
    uint64_t r = h[0] ^ (h[1] >> 17) ^ (h[2] << 13) ^ (h[3] >> 29);
    r ^= h[1] ^ h[2] ^ h[3];
    r *= k;
    return r ^ (r >> 32);
}

static stk *stk_get(int id)
{
    if (id < 0 || id >= STK_CHUNK * STK_CHUNKS)
        return NULL;
    stk_slot *c = atomic_load_explicit(&stk_chunks[id / STK_CHUNK],
                                       memory_order_acquire);
    if (!c)
        return NULL;
    return atomic_load_explicit(&c[id % STK_CHUNK], memory_order_acquire);
}

/* Doubles the index; under stk_lock. */
static int stk_index_grow(void)
{
    size_t cap = stk_index_cap ? stk_index_cap * 2 : 4096;
    int *idx = lh_raw_calloc(cap, sizeof *idx);
    if (!idx)
        return -1;
    for (size_t i = 0; i < stk_index_cap; i++) {
        if (!stk_index[i])
            continue;
        stk *s = stk_get(stk_index[i] - 1);
        size_t h = (size_t)s->hash & (cap - 1);
        while (idx[h])
            h = (h + 1) & (cap - 1);
        idx[h] = stk_index[i];
    }
    lh_raw_free(stk_index);
    stk_index = idx;
    stk_index_cap = cap;
    return 0;
}

int lh_stack_intern(const uintptr_t *pcs, int n)
{
    if (n < 0)
        return -1;
    if (n > LH_SITE_MAX_FRAMES)
        n = LH_SITE_MAX_FRAMES;
    uint64_t h = hash_pcs(pcs, n);
    int id = -1;
    lh_spin_lock(&stk_lock);
    if ((size_t)(stk_count + 1) * 2 > stk_index_cap &&
        stk_index_grow() < 0)
        goto out;
    size_t mask = stk_index_cap - 1, i = (size_t)h & mask;
    for (; stk_index[i]; i = (i + 1) & mask) {
        stk *s = stk_get(stk_index[i] - 1);
        if (s->hash == h && s->n == n &&
            memcmp(s->pcs, pcs, (size_t)n * sizeof *pcs) == 0) {
            id = stk_index[i] - 1;
            goto out;
        }
    }
    if (stk_count >= STK_CHUNK * STK_CHUNKS)
        goto out;
    int nid = stk_count;
    stk_slot *c = atomic_load_explicit(&stk_chunks[nid / STK_CHUNK],
                                       memory_order_relaxed);
    if (!c) {
        c = lh_raw_calloc(STK_CHUNK, sizeof *c);
        if (!c)
            goto out;
        atomic_store_explicit(&stk_chunks[nid / STK_CHUNK], c,
                              memory_order_release);
    }
    stk *s = lh_raw_malloc(sizeof *s + (size_t)n * sizeof *pcs);
    if (!s)
        goto out;
    s->hash = h;
    s->n = n;
    if (n)
        memcpy(s->pcs, pcs, (size_t)n * sizeof *pcs);
    atomic_store_explicit(&c[nid % STK_CHUNK], s, memory_order_release);
    stk_index[i] = nid + 1;
    stk_count++;
    id = nid;
out:
    lh_spin_unlock(&stk_lock);
    return id;
}

const uintptr_t *lh_stack_pcs(int id, int *n)
{
    stk *s = stk_get(id);
    *n = s ? s->n : 0;
    return s ? s->pcs : NULL;
}

/* ---- symbolization ------------------------------------------------------- */

/* An object (executable or shared library) addresses belong to. */
typedef struct sym_obj {
    struct sym_obj *next;
    const void *lm;             /* its link_map: identity */
    uintptr_t bias;             /* load bias (l_addr) */
    char *path;                 /* for addr2line */
    char *name;                 /* basename, for display */
    int is_main;
    int tool_failed;
    int has_symtab;             /* a full symbol table (not stripped) */
} sym_obj;

typedef struct sym_frame {
    const char *func;           /* NULL: unknown */
    const char *loc;            /* NULL: unknown */
} sym_frame;

/* What one address resolves to: an inline chain, innermost first. */
typedef struct sym_entry {
    uintptr_t addr;             /* the instruction looked up */
    const sym_obj *obj;         /* NULL: in no known object */
    int nfr;
    sym_frame fr[];
} sym_entry;

static pthread_mutex_t sym_mu = PTHREAD_MUTEX_INITIALIZER;
static sym_obj *sym_objs;
static sym_entry **sym_tab;     /* open addressing by addr */
static size_t sym_cap, sym_count;
static int sym_tool_missing;

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* Whether an ELF file has a .symtab.  Without one (stripped), addr2line
 * names an address by the nearest exported symbol before it, which for a
 * hidden function is the wrong one. */
static int file_has_symtab(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int found = 0;
    ElfW(Ehdr) eh;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
        memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == (sizeof(void *) == 8 ? ELFCLASS64
                                                     : ELFCLASS32) &&
        eh.e_shentsize == sizeof(ElfW(Shdr))) {
        for (unsigned i = 0; i < eh.e_shnum && !found; i++) {
            ElfW(Shdr) sh;
            if (pread(fd, &sh, sizeof sh,
                      (off_t)(eh.e_shoff + (uint64_t)i * sizeof sh)) !=
                (ssize_t)sizeof sh)
                break;
            found = sh.sh_type == SHT_SYMTAB;
        }
    }
    close(fd);
    return found;
}

static sym_obj *obj_for(uintptr_t addr)
{
    Dl_info info;
    struct link_map *lm = NULL;
    if (!dladdr1((void *)addr, &info, (void **)&lm, RTLD_DL_LINKMAP) ||
        !lm)
        return NULL;
    for (sym_obj *o = sym_objs; o; o = o->next)
        if (o->lm == lm)
            return o;
    sym_obj *o = lh_raw_calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->lm = lm;
    o->bias = lm->l_addr;
    char buf[4096];
    /* The main program has an empty l_name.  addr2line gets it through
     * /proc/PID/exe, which stays right even if the file is rebuilt. */
    if (lm == _r_debug.r_map || !lm->l_name || !lm->l_name[0]) {
        o->is_main = 1;
        snprintf(buf, sizeof buf, "/proc/%d/exe", (int)getpid());
        o->path = lh_raw_strdup(buf);
        ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
        buf[k > 0 ? k : 0] = '\0';
        o->name = lh_raw_strdup(k > 0 ? base_name(buf) : "exe");
    } else {
        o->path = lh_raw_strdup(lm->l_name);
        o->name = lh_raw_strdup(base_name(lm->l_name));
    }
    if (!o->path || !o->name) {
        lh_raw_free(o->path);
        lh_raw_free(o->name);
        lh_raw_free(o);
        return NULL;
    }
    /* No file to read: the vDSO and other pseudo-objects.  A relative
     * l_name is what dlopen was given, relative to the cwd then (the
     * worker does not chdir). */
    if (!strchr(o->path, '/') || access(o->path, R_OK) != 0)
        o->tool_failed = 1;
    else
        o->has_symtab = file_has_symtab(o->path);
    o->next = sym_objs;
    sym_objs = o;
    return o;
}

static size_t sym_hash(uintptr_t a)
{
    return (size_t)(((uint64_t)a * 0x9e3779b97f4a7c15ull) >> 20);
}

static sym_entry *cache_get(uintptr_t addr)
{
    if (!sym_cap)
        return NULL;
    for (size_t i = sym_hash(addr) & (sym_cap - 1); sym_tab[i];
         i = (i + 1) & (sym_cap - 1))
        if (sym_tab[i]->addr == addr)
            return sym_tab[i];
    return NULL;
}

static void cache_put(sym_entry *e)
{
    if ((sym_count + 1) * 2 > sym_cap) {
        size_t cap = sym_cap ? sym_cap * 2 : 1024;
        sym_entry **t = lh_raw_calloc(cap, sizeof *t);
        if (!t)
            return;     /* uncached: resolved again next time */
        for (size_t i = 0; i < sym_cap; i++) {
            if (!sym_tab[i])
                continue;
            size_t j = sym_hash(sym_tab[i]->addr) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = sym_tab[i];
        }
        lh_raw_free(sym_tab);
        sym_tab = t;
        sym_cap = cap;
    }
    size_t j = sym_hash(e->addr) & (sym_cap - 1);
    while (sym_tab[j])
        j = (j + 1) & (sym_cap - 1);
    sym_tab[j] = e;
    sym_count++;
}

/* Lexically cleans an absolute or relative path ("a/./b/../c" -> "a/c")
 * and makes it relative to cwd when it lies under it. */
static void clean_path(const char *in, size_t len, const char *cwd,
                       char *out, size_t outlen)
{
    char tmp[4096];
    size_t starts[256];         /* where each kept component begins */
    int dotdot[256];            /* ... and whether it is a kept ".." */
    int depth = 0;
    size_t o = 0;
    int abs = len > 0 && in[0] == '/';
    if (abs)
        tmp[o++] = '/';
    size_t i = 0;
    while (i < len) {
        while (i < len && in[i] == '/')
            i++;
        size_t j = i;
        while (j < len && in[j] != '/')
            j++;
        size_t n = j - i;
        if (n == 0)
            break;
        int up = n == 2 && in[i] == '.' && in[i + 1] == '.';
        if (n == 1 && in[i] == '.') {
            /* "." */
        } else if (up && depth > 0 && !dotdot[depth - 1]) {
            o = starts[--depth];
        } else if (up && abs) {
            /* "/.." is "/" */
        } else if (o + n + 2 < sizeof tmp && depth < 256) {
            size_t at = o;
            if (o > (size_t)abs)
                tmp[o++] = '/';
            starts[depth] = at;
            dotdot[depth++] = up;
            memcpy(tmp + o, in + i, n);
            o += n;
        }
        i = j;
    }
    tmp[o] = '\0';
    size_t cl = cwd ? strlen(cwd) : 0;
    const char *res = tmp;
    if (cl > 1 && strncmp(tmp, cwd, cl) == 0 && tmp[cl] == '/')
        res = tmp + cl + 1;
    snprintf(out, outlen, "%s", res);
}

/* A piece of the tool's output; s NULL: unknown. */
typedef struct slice {
    const char *s;
    size_t n;
} slice;

/* A cache entry from one address's inline chain (innermost first). */
static sym_entry *make_entry(uintptr_t addr, const sym_obj *obj,
                             const slice *funcs, const slice *locs, int nfr,
                             const char *cwd)
{
    char locbuf[32][512];
    size_t strsize = 0;
    if (nfr > 32)
        nfr = 32;
    for (int i = 0; i < nfr; i++) {
        locbuf[i][0] = '\0';
        if (locs[i].s) {
            /* "file:line (discriminator N)" -> cleaned "file:line" */
            size_t n = locs[i].n;
            static const char disc[] = " (discriminator";
            for (size_t k = 0; k + sizeof disc - 1 <= n; k++)
                if (memcmp(locs[i].s + k, disc, sizeof disc - 1) == 0) {
                    n = k;
                    break;
                }
            const char *colon = NULL;
            for (size_t k = n; k > 0; k--)
                if (locs[i].s[k - 1] == ':') {
                    colon = locs[i].s + k - 1;
                    break;
                }
            char path[512];
            size_t plen = colon ? (size_t)(colon - locs[i].s) : n;
            clean_path(locs[i].s, plen, cwd, path, sizeof path);
            snprintf(locbuf[i], sizeof locbuf[i], "%s%.*s", path,
                     colon ? (int)(n - plen) : 0, colon ? colon : "");
            strsize += strlen(locbuf[i]) + 1;
        }
        if (funcs[i].s)
            strsize += funcs[i].n + 1;
    }
    sym_entry *e = lh_raw_malloc(sizeof *e + (size_t)nfr * sizeof e->fr[0] +
                                 strsize);
    if (!e)
        return NULL;
    e->addr = addr;
    e->obj = obj;
    e->nfr = nfr;
    char *str = (char *)&e->fr[nfr];
    for (int i = 0; i < nfr; i++) {
        e->fr[i].func = e->fr[i].loc = NULL;
        if (funcs[i].s) {
            memcpy(str, funcs[i].s, funcs[i].n);
            str[funcs[i].n] = '\0';
            e->fr[i].func = str;
            str += funcs[i].n + 1;
        }
        if (locs[i].s) {
            size_t l = strlen(locbuf[i]);
            memcpy(str, locbuf[i], l + 1);
            e->fr[i].loc = str;
            str += l + 1;
        }
    }
    return e;
}

/* An entry from dladdr alone: the exported symbol containing addr, if
 * any (a hidden function would otherwise borrow the name of the exported
 * one before it). */
static sym_entry *dladdr_entry(uintptr_t addr, const sym_obj *obj)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    slice f = { NULL, 0 }, l = { NULL, 0 };
    if (dladdr1((void *)addr, &info, (void **)&sym, RTLD_DL_SYMENT) &&
        info.dli_sname && info.dli_saddr && sym) {
        uintptr_t s = (uintptr_t)info.dli_saddr;
        if (addr >= s && (sym->st_size == 0 || addr < s + sym->st_size)) {
            f.s = info.dli_sname;
            f.n = strlen(info.dli_sname);
        }
    }
    return make_entry(addr, obj, &f, &l, 1, NULL);
}

static int is_unknown(const char *s, size_t n)
{
    return n >= 2 && s[0] == '?' && s[1] == '?';
}

/* Runs addr2line on one object for n addresses (object-relative) and
 * appends its output to out.  0, or -1 when it could not run. */
static int run_addr2line(const char *path, const uintptr_t *rel, int n,
                         lh_buf *out)
{
    const char *tool = getenv("LEAKHOUND_ADDR2LINE");
    if (!tool || !*tool)
        tool = "addr2line";
    char **argv = lh_raw_calloc((size_t)n + 8, sizeof *argv);
    char *nums = lh_raw_malloc((size_t)n * 20);
    if (!argv || !nums) {
        lh_raw_free(argv);
        lh_raw_free(nums);
        return -1;
    }
    int a = 0;
    argv[a++] = (char *)tool;
    argv[a++] = "-a";
    argv[a++] = "-f";
    argv[a++] = "-i";
    argv[a++] = "-C";
    argv[a++] = "-e";
    argv[a++] = (char *)path;
    for (int i = 0; i < n; i++) {
        argv[a] = nums + (size_t)i * 20;
        snprintf(argv[a], 20, "0x%" PRIxPTR, rel[i]);
        a++;
    }
    argv[a] = NULL;

    int rc = -1, pfd[2];
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    if (pipe2(pfd, O_CLOEXEC) < 0)
        goto out;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int err = posix_spawnp(&pid, tool, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (err != 0) {
        if (err == ENOENT)
            sym_tool_missing = 1;
        close(pfd[0]);
        goto out;
    }
    /* A huge object (a Go library with DWARF) takes seconds; a stuck
     * tool must not hang the worker. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = 60000 - ((t.tv_sec - t0.tv_sec) * 1000 +
                             (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p = { pfd[0], POLLIN, 0 };
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        char chunk[8192];
        ssize_t k = read(pfd[0], chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        lh_buf_add(out, chunk, (size_t)k);
    }
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    rc = 0;
out:
    lh_raw_free(argv);
    lh_raw_free(nums);
    return rc;
}

/* Parses "-a -f -i" output: per address a 0x line, then func/loc pairs.
 * Entries are made for want[0..n) in order. */
static void parse_tool_output(const char *s, size_t len, const sym_obj *obj,
                              const uintptr_t *want, const uintptr_t *rel,
                              int n, const char *cwd)
{
    slice funcs[32], locs[32];
    int k = -1, nfr = 0, expect_loc = 0;
    size_t i = 0;
    for (;;) {
        int at_end = i >= len;
        size_t j = i;
        while (j < len && s[j] != '\n')
            j++;
        const char *line = s + i;
        size_t ln = j - i;
        int is_addr = !at_end && ln > 2 && line[0] == '0' && line[1] == 'x';
        if (is_addr)
            for (size_t c = 2; c < ln; c++)
                if (!isxdigit((unsigned char)line[c]))
                    is_addr = 0;
        if ((is_addr || at_end) && k >= 0 && k < n) {
            if (nfr > 0) {
                sym_entry *e = make_entry(want[k], obj, funcs, locs, nfr,
                                          cwd);
                if (e)
                    cache_put(e);
            }
        }
        if (at_end)
            break;
        if (is_addr) {
            uintptr_t v = (uintptr_t)strtoull(line, NULL, 16);
            k++;
            /* Trust the order, but resync when the tool says otherwise. */
            if (k < n && rel[k] != v)
                for (int m = 0; m < n; m++)
                    if (rel[m] == v) {
                        k = m;
                        break;
                    }
            nfr = 0;
            expect_loc = 0;
        } else if (k >= 0) {
            if (!expect_loc) {
                if (nfr < 32) {
                    funcs[nfr].s = is_unknown(line, ln) ? NULL : line;
                    funcs[nfr].n = ln;
                }
                expect_loc = 1;
            } else {
                if (nfr < 32) {
                    int unk = is_unknown(line, ln);
                    locs[nfr].s = unk ? NULL : line;
                    locs[nfr].n = ln;
                    /* No line info: the name is a symbol-table guess,
                     * only trusted from a full symbol table (dladdr,
                     * which checks sizes, gets a say otherwise). */
                    if (unk && !obj->has_symtab)
                        funcs[nfr].s = NULL;
                    nfr++;
                }
                expect_loc = 0;
            }
        }
        i = j + 1;
    }
}

static int cmp_uintptr(const void *x, const void *y)
{
    uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
    return (a > b) - (a < b);
}

/* Resolves the uncached addresses among addrs (instruction addresses);
 * under sym_mu. */
static void resolve_locked(const uintptr_t *addrs, int n)
{
    uintptr_t *todo = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *todo);
    const sym_obj **objs = lh_raw_malloc((size_t)(n ? n : 1) *
                                         sizeof *objs);
    uintptr_t *rel = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *rel);
    uintptr_t *grp = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *grp);
    if (!todo || !objs || !rel || !grp)
        goto out;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!cache_get(addrs[i]))
            todo[m++] = addrs[i];
    qsort(todo, (size_t)m, sizeof *todo, cmp_uintptr);
    int u = 0;
    for (int i = 0; i < m; i++)
        if (i == 0 || todo[i] != todo[u - 1])
            todo[u++] = todo[i];
    m = u;
    for (int i = 0; i < m; i++)
        objs[i] = obj_for(todo[i]);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    /* One addr2line per object (in chunks that keep argv modest). */
    for (int i = 0; i < m; i++) {
        const sym_obj *o = objs[i];
        if (!o || o->tool_failed || sym_tool_missing || cache_get(todo[i]))
            continue;
        int g = 0;
        for (int j = i; j < m && g < 512; j++) {
            if (objs[j] == o && !cache_get(todo[j])) {
                grp[g] = todo[j];
                rel[g] = todo[j] - o->bias;
                g++;
            }
        }
        lh_buf outb = LH_BUF_INIT;
        if (run_addr2line(o->path, rel, g, &outb) < 0) {
            ((sym_obj *)o)->tool_failed = 1;
        } else {
            parse_tool_output(outb.data ? outb.data : "", outb.len, o, grp,
                              rel, g, cwd);
            /* A tool that ran but named nothing (no symbols at all) is
             * not asked about this object again. */
            int any = 0;
            for (int j = 0; j < g && !any; j++) {
                sym_entry *e = cache_get(grp[j]);
                any = e && e->fr[0].func;
            }
            if (!any)
                ((sym_obj *)o)->tool_failed = 1;
        }
        lh_buf_free(&outb);
    }
    /* Whatever addr2line could not name gets dladdr's answer. */
    for (int i = 0; i < m; i++) {
        sym_entry *e = cache_get(todo[i]);
        if (e && e->fr[0].func)
            continue;
        sym_entry *d = dladdr_entry(todo[i], objs[i]);
        if (!d)
            continue;
        if (e && d->fr[0].func && e->nfr == 1 && !e->fr[0].func) {
            /* Keep the tool's location, take dladdr's name. */
            slice f = { d->fr[0].func, strlen(d->fr[0].func) };
            slice l = { e->fr[0].loc, e->fr[0].loc ? strlen(e->fr[0].loc)
                                                   : 0 };
            sym_entry *both = make_entry(todo[i], objs[i], &f, &l, 1, NULL);
            lh_raw_free(d);
            if (!both)
                continue;
            /* Replace e in place in the table. */
            for (size_t j = 0; j < sym_cap; j++)
                if (sym_tab[j] == e) {
                    sym_tab[j] = both;
                    lh_raw_free(e);
                    break;
                }
        } else if (!e) {
            cache_put(d);
        } else {
            lh_raw_free(d);
        }
    }
out:
    lh_raw_free(todo);
    lh_raw_free(objs);
    lh_raw_free(rel);
    lh_raw_free(grp);
}

static void resolve(const uintptr_t *addrs, int n)
{
    /* addr2line, posix_spawn and our tables allocate: none of it is the
     * target's, and none of it may be sampled. */
    lh_heap_suspend();
    pthread_mutex_lock(&sym_mu);
    resolve_locked(addrs, n);
    pthread_mutex_unlock(&sym_mu);
    lh_heap_resume();
}

void lh_symbolize_batch(const uintptr_t *pcs, int n, int ret)
{
    if (n <= 0)
        return;
    uintptr_t *a = lh_raw_malloc((size_t)n * sizeof *a);
    if (!a)
        return;
    for (int i = 0; i < n; i++)
        a[i] = ret && pcs[i] ? pcs[i] - 1 : pcs[i];
    resolve(a, n);
    lh_raw_free(a);
}

/* The cache entry for an instruction address (resolving it if needed).
 * Entries are never freed once published, except the in-place upgrade
 * above, which happens before anyone can have seen the old one. */
static const sym_entry *entry_for(uintptr_t addr)
{
    pthread_mutex_lock(&sym_mu);
    sym_entry *e = cache_get(addr);
    pthread_mutex_unlock(&sym_mu);
    if (e)
        return e;
    resolve(&addr, 1);
    pthread_mutex_lock(&sym_mu);
    e = cache_get(addr);
    pthread_mutex_unlock(&sym_mu);
    return e;
}

/* "libname.so+0x1234" for an address with no better name. */
static void fmt_offset(const sym_entry *e, uintptr_t addr, char *out,
                       size_t len)
{
    if (e && e->obj)
        snprintf(out, len, "%s+0x%" PRIxPTR, e->obj->name,
                 addr - e->obj->bias);
    else
        snprintf(out, len, "0x%" PRIxPTR, addr);
}

static void symbolize_at(uintptr_t addr, char *func, size_t flen, char *loc,
                         size_t llen)
{
    const sym_entry *e = entry_for(addr);
    char off[300];
    fmt_offset(e, addr, off, sizeof off);
    if (func && flen)
        snprintf(func, flen, "%s", e && e->fr[0].func ? e->fr[0].func : off);
    if (loc && llen)
        snprintf(loc, llen, "%s", e && e->fr[0].loc ? e->fr[0].loc : off);
}

void lh_symbolize(uintptr_t pc, char *func, size_t flen, char *loc,
                  size_t llen)
{
    /* A return address points after the call; the call is what the
     * line table should name. */
    symbolize_at(pc ? pc - 1 : 0, func, flen, loc, llen);
}

void lh_symbolize_func(uintptr_t addr, char *func, size_t flen, char *loc,
                       size_t llen)
{
    symbolize_at(addr, func, flen, loc, llen);
}

/* ---- blame --------------------------------------------------------------- */

/* Functions the harness defines in the executable around the target's
 * calls: the malloc family, the fd and thread interposers, and the
 * interposer's static helpers (named by addr2line).  Everything else of
 * the harness is named lh_*. */
static const char *const harness_funcs[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "cfree",
    "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc",
    "run_hook", "note_alloc", "note_free", "counted", "counted_realloc",
    "open", "open64", "__open_2", "__open64_2", "openat", "openat64",
    "__openat_2", "__openat64_2", "creat", "creat64", "socket",
    "socketpair", "pipe", "pipe2", "dup", "dup2", "dup3", "accept",
    "accept4", "eventfd", "timerfd_create", "epoll_create",
    "epoll_create1", "memfd_create", "signalfd", "inotify_init",
    "inotify_init1", "fopen", "fopen64", "freopen", "freopen64", "tmpfile",
    "tmpfile64", "mkstemp", "mkstemp64", "mkostemp", "mkostemp64",
    "opendir", "popen", "fcntl", "fcntl64", "close", "fclose", "pclose",
    "closedir", "close_range", "closefrom", "pthread_create",
};

/* Runtime libraries: the frame that called into them is to blame. */
static const char *const runtime_objs[] = {
    "libc.so", "libc-", "ld-linux", "ld64.so", "libstdc++", "libc++",
    "libgcc_s", "liblua", "libpthread", "libdl.so", "libm.so", "librt.so",
    "libglib-2.0", "libunwind", "linux-vdso",
};

static int name_is_harness(const char *f)
{
    if (!f)
        return 0;
    if (strncmp(f, "lh_", 3) == 0)
        return 1;
    for (size_t i = 0; i < sizeof harness_funcs / sizeof *harness_funcs;
         i++)
        if (strcmp(f, harness_funcs[i]) == 0)
            return 1;
    return 0;
}

/* C++ library code instantiated into the target (std::vector growing)
 * is the runtime's too: blame its caller. */
static int name_is_library(const char *f)
{
    if (!f)
        return 0;
    static const char *const pre[] = { "std::", "__gnu_cxx::",
                                       "operator new", "operator delete",
                                       "__cxa_", "__libc_", "_cgo_",
                                       "x_cgo_", "runtime." };
    const char *g = f;
    /* A template's demangled name starts with its return type. */
    const char *sp = strchr(f, ' ');
    const char *lt = strpbrk(f, "<(");
    if (sp && (!lt || sp < lt))
        g = sp + 1;
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++)
        if (strncmp(f, pre[i], strlen(pre[i])) == 0 ||
            strncmp(g, pre[i], strlen(pre[i])) == 0)
            return 1;
    return 0;
}

static int obj_is_runtime(const sym_obj *o)
{
    if (!o || o->is_main)
        return 0;
    for (size_t i = 0; i < sizeof runtime_objs / sizeof *runtime_objs; i++)
        if (strncmp(o->name, runtime_objs[i], strlen(runtime_objs[i])) ==
            0)
            return 1;
    return 0;
}

static int frame_is_harness(const sym_entry *e)
{
    return e && e->obj && e->obj->is_main && name_is_harness(e->fr[0].func);
}

static void append_frame(char *out, size_t cap, size_t *len,
                         const char *name)
{
    size_t n = strlen(name);
    if (*len + n + 2 >= cap)
        return;
    if (*len)
        out[(*len)++] = ';';
    for (size_t i = 0; i < n; i++)
        out[(*len)++] = name[i] == ';' ? ':' : name[i];
    out[*len] = '\0';
}

void lh_site_from_stack(lh_site *s, const uintptr_t *pcs, int n)
{
    s->func[0] = s->location[0] = s->detail[0] = s->folded[0] = '\0';
    if (n <= 0 || !pcs) {
        snprintf(s->func, sizeof s->func, "(no stack)");
        return;
    }
    if (n > LH_SITE_MAX_FRAMES * 2)
        n = LH_SITE_MAX_FRAMES * 2;
    lh_symbolize_batch(pcs, n, 1);
    const sym_entry *e[LH_SITE_MAX_FRAMES * 2];
    for (int i = 0; i < n; i++)
        e[i] = entry_for(pcs[i] - 1);

    /* Blame: the innermost frame in neither the harness nor a runtime
     * library; within its inline chain, the innermost function that is
     * not library code (std::, cgo glue).  Failing that (a Go runtime
     * thread's stack is all glue and libc), the innermost frame outside
     * the runtime libraries, then the innermost non-harness frame. */
    int bi = -1, bj = 0;
    for (int i = 0; i < n && bi < 0; i++) {
        if (!e[i] || frame_is_harness(e[i]) || obj_is_runtime(e[i]->obj))
            continue;
        for (int j = 0; j < e[i]->nfr; j++)
            if (!name_is_library(e[i]->fr[j].func)) {
                bi = i;
                bj = j;
                break;
            }
    }
    for (int i = 0; i < n && bi < 0; i++)
        if (e[i] && !frame_is_harness(e[i]) && !obj_is_runtime(e[i]->obj))
            bi = i;
    for (int i = 0; i < n && bi < 0; i++)
        if (!frame_is_harness(e[i]))
            bi = i;
    if (bi < 0)
        bi = 0;

    char off[300];
    const sym_entry *b = e[bi];
    fmt_offset(b, pcs[bi] - 1, off, sizeof off);
    const char *f = b && b->fr[bj].func ? b->fr[bj].func : NULL;
    snprintf(s->func, sizeof s->func, "%s", f ? f : off);
    snprintf(s->location, sizeof s->location, "%s",
             b && b->fr[bj].loc ? b->fr[bj].loc : off);
    if (b && bj + 1 < b->nfr && b->fr[bj + 1].func)
        snprintf(s->detail, sizeof s->detail, "inlined into %s (%s)",
                 b->fr[bj + 1].func,
                 b->fr[bj + 1].loc ? b->fr[bj + 1].loc : "?");
    else if (f && strncmp(f, "_cgo_", 5) == 0 && strstr(f, "_Cfunc_")) {
        /* cgo's stub for C.f: the Go code that called it runs on a
         * goroutine stack this unwinder cannot follow.  _Cfunc__CMalloc
         * is the allocator behind C.CString, C.CBytes and C.malloc. */
        const char *c = strstr(f, "_Cfunc_") + 7;
        snprintf(s->detail, sizeof s->detail,
                 "%s%s called from Go (the Go caller is not unwound; see "
                 "the Go profiles)",
                 strncmp(c, "_C", 2) == 0 ? "C.CString, C.CBytes or C.malloc"
                                          : "C.",
                 strncmp(c, "_C", 2) == 0 ? "" : c);
    } else if (f && bi + 1 < n && e[bi + 1] && e[bi + 1]->fr[0].func &&
               !frame_is_harness(e[bi + 1]) &&
               strcmp(e[bi + 1]->fr[0].func, f) != 0) {
        /* a helper that allocates for several ops: say which op called
         * it, as the "cache_put ... called from op_insert" */
        const sym_entry *c = e[bi + 1];
        snprintf(s->detail, sizeof s->detail, "called from %s (%s)",
                 c->fr[0].func, c->fr[0].loc ? c->fr[0].loc : "?");
    }

    /* Folded, root first, inline chains expanded, the interposer left
     * out.  Names are gathered leaf first so that, when the stack does
     * not fit, root frames are the ones that give way. */
    enum { MAXN = LH_SITE_MAX_FRAMES * 8 };
    const char *names[MAXN];
    char offs[LH_SITE_MAX_FRAMES * 2][64];
    int nn = 0;
    for (int i = 0; i < n && nn < MAXN; i++) {
        if (frame_is_harness(e[i]))
            continue;
        if (!e[i] || !e[i]->fr[0].func) {
            fmt_offset(e[i], pcs[i] - 1, offs[i], sizeof offs[i]);
            names[nn++] = offs[i];
            continue;
        }
        for (int j = 0; j < e[i]->nfr && nn < MAXN; j++)
            names[nn++] = e[i]->fr[j].func ? e[i]->fr[j].func : "??";
    }
    /* names[0..keep) is the leaf side that fits. */
    size_t total = 4;           /* room for "...;" */
    int keep = 0;
    while (keep < nn && total + strlen(names[keep]) + 1 <
                            sizeof s->folded)
        total += strlen(names[keep++]) + 1;
    size_t len = 0;
    if (keep < nn)
        append_frame(s->folded, sizeof s->folded, &len, "...");
    for (int k = keep - 1; k >= 0; k--)
        append_frame(s->folded, sizeof s->folded, &len, names[k]);
}

/* ---- grouping ------------------------------------------------------------ */

/* Distinct stacks symbolized per diff: the rest are noise-sized. */
#define GROUP_MAX_STACKS 256

typedef struct grp_stack {
    int id;
    double bytes, count;
    int site;                   /* index into the merged sites */
} grp_stack;

static int cmp_weight(double ba, double ca, double bb, double cb)
{
    if (ba != bb)
        return ba > bb ? -1 : 1;
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return 0;
}

static int cmp_grp_stack(const void *x, const void *y)
{
    const grp_stack *a = x, *b = y;
    return cmp_weight(a->bytes, a->count, b->bytes, b->count);
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

typedef struct site_rank {
    int idx;
    double bytes, count;
} site_rank;

static int cmp_site_rank(const void *x, const void *y)
{
    const site_rank *a = x, *b = y;
    int c = cmp_weight(a->bytes, a->count, b->bytes, b->count);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

int lh_sites_group(const int *ids, const double *bytes, const double *count,
                   int n, lh_site *out, int max, int *group)
{
    if (group)
        for (int i = 0; i < n; i++)
            group[i] = -1;
    if (n <= 0 || max <= 0)
        return 0;
    int *sorted = lh_raw_malloc((size_t)n * sizeof *sorted);
    grp_stack *gs = lh_raw_calloc((size_t)n, sizeof *gs);
    lh_site *sites = NULL;
    site_rank *rank = NULL;
    int ng = 0, ns = 0, written = 0;
    if (!sorted || !gs)
        goto out;
    memcpy(sorted, ids, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_int);
    for (int i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[i - 1])
            gs[ng++].id = sorted[i];
    /* Weights per distinct stack (binary search: ids are sorted). */
    for (int i = 0; i < n; i++) {
        int lo = 0, hi = ng - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (gs[mid].id < ids[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        gs[lo].bytes += bytes ? bytes[i] : 0;
        gs[lo].count += count ? count[i] : 1;
    }
    qsort(gs, (size_t)ng, sizeof *gs, cmp_grp_stack);
    if (ng > GROUP_MAX_STACKS)
        ng = GROUP_MAX_STACKS;

    /* One addr2line per object for everything at once. */
    size_t npcs = 0;
    for (int g = 0; g < ng; g++) {
        int k;
        lh_stack_pcs(gs[g].id, &k);
        npcs += (size_t)k;
    }
    uintptr_t *all = lh_raw_malloc((npcs ? npcs : 1) * sizeof *all);
    if (all) {
        size_t at = 0;
        for (int g = 0; g < ng; g++) {
            int k;
            const uintptr_t *p = lh_stack_pcs(gs[g].id, &k);
            if (p)
                memcpy(all + at, p, (size_t)k * sizeof *p);
            at += p ? (size_t)k : 0;
        }
        lh_symbolize_batch(all, (int)at, 1);
        lh_raw_free(all);
    }

    sites = lh_raw_calloc((size_t)ng, sizeof *sites);
    if (!sites)
        goto out;
    for (int g = 0; g < ng; g++) {
        lh_site tmp;
        int k;
        const uintptr_t *p = lh_stack_pcs(gs[g].id, &k);
        memset(&tmp, 0, sizeof tmp);
        if (p) {
            lh_site_from_stack(&tmp, p, k);
        } else {
            snprintf(tmp.func, sizeof tmp.func, "(not recorded)");
            snprintf(tmp.folded, sizeof tmp.folded, "(not recorded)");
        }
        /* Same blamed frame: one site (the stacks differ only above it,
         * or by which inlined copy): the heaviest stack's folded stays. */
        int m = 0;
        for (; m < ns; m++)
            if (strcmp(sites[m].func, tmp.func) == 0 &&
                strcmp(sites[m].location, tmp.location) == 0)
                break;
        if (m == ns)
            sites[ns++] = tmp;
        sites[m].bytes += gs[g].bytes;
        sites[m].count += gs[g].count;
        gs[g].site = m;
    }
    rank = lh_raw_malloc((size_t)(ns ? ns : 1) * sizeof *rank);
    if (!rank)
        goto out;
    for (int m = 0; m < ns; m++) {
        rank[m].idx = m;
        rank[m].bytes = sites[m].bytes;
        rank[m].count = sites[m].count;
    }
    qsort(rank, (size_t)ns, sizeof *rank, cmp_site_rank);
    written = ns < max ? ns : max;
    int *where = lh_raw_malloc((size_t)(ns ? ns : 1) * sizeof *where);
    if (!where) {
        written = 0;
        goto out;
    }
    for (int m = 0; m < ns; m++)
        where[m] = -1;
    for (int r = 0; r < written; r++) {
        out[r] = sites[rank[r].idx];
        where[rank[r].idx] = r;
    }
    if (group) {
        for (int i = 0; i < n; i++) {
            for (int g = 0; g < ng; g++)
                if (gs[g].id == ids[i]) {
                    group[i] = where[gs[g].site];
                    break;
                }
        }
    }
    lh_raw_free(where);
out:
    lh_raw_free(sorted);
    lh_raw_free(gs);
    lh_raw_free(sites);
    lh_raw_free(rank);
    return written;
}

/* ---- tallies for site details ------------------------------------------ */

int lh_tally_add(lh_tally *t, int nt, const char *name)
{
    int j = 0;
    while (j < nt && strcmp(t[j].name, name) != 0)
        j++;
    if (j == nt)
        snprintf(t[nt++].name, sizeof t->name, "%s", name);
    t[j].n++;
    return nt;
}

static int cmp_tally(const void *x, const void *y)
{
    const lh_tally *a = x, *b = y;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->name, b->name);
}

void lh_tally_format(lh_tally *t, int nt, char *out, size_t len)
{
    out[0] = '\0';
    qsort(t, (size_t)nt, sizeof *t, cmp_tally);
    size_t at = 0;
    for (int j = 0; j < nt; j++) {
        char part[300];
        int w = snprintf(part, sizeof part, "%s%s x %d", j ? ", " : "",
                         t[j].name, t[j].n);
        if (w < 0)
            break;
        /* Room for this part and, when more follow, for saying so. */
        size_t tail = j + 1 < nt ? 24 : 0;
        if (j > 0 && at + (size_t)w + tail + 1 > len) {
            snprintf(out + at, len - at, ", ... (+%d more)", nt - j);
            break;
        }
        snprintf(out + at, len - at, "%s", part);
        at = strlen(out);
        if (at + 1 >= len)
            break;
    }
}

void lh_site_describe(lh_site *s, const char *summary,
                      const char *unrecorded)
{
    char ctx[sizeof s->detail];
    snprintf(ctx, sizeof ctx, "%s", s->detail);
    if (strcmp(s->func, "(not recorded)") == 0)
        snprintf(s->func, sizeof s->func, "%s", unrecorded);
    if (ctx[0])
        snprintf(s->detail, sizeof s->detail, "%s; %s", summary, ctx);
    else
        snprintf(s->detail, sizeof s->detail, "%s", summary);
    s->bytes = 0;
}
