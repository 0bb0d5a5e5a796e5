/*
 * unwind.c - capturing call stacks in the hooks.
 *
 * Targets are built -O2 without frame pointers, so stacks are unwound
 * from the DWARF call-frame information (.eh_frame) the compiler emits
 * for every function.  glibc's backtrace() does that through libgcc's
 * generic unwinder at ~150 ns a frame, which is too slow for the heap
 * sampler (a 25-frame stack every ~100 small mallocs would double their
 * cost).  So x86-64 gets a small unwinder of its own: the CFA rule of each
 * return address is computed once from .eh_frame (found through
 * _dl_find_object, lock-free) and cached, after which a frame costs a hash
 * probe and two loads.  Only the rules compilers emit for ordinary code
 * are understood (CFA = rsp/rbp + k, the DRAP form, rbp and the return
 * address saved at CFA + k); anything else -- a signal frame, Go code (no
 * .eh_frame), a hand-written stub -- ends the stack there, which costs
 * root frames, never the leaf ones that are blamed.  glibc's backtrace()
 * stays available (LEAKHOUND_UNWIND=libgcc, other architectures).  Neither
 * path allocates once lh_backtrace_init has run.
 */
#include "diag.h"

#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "interpose.h"
#include "stacks.h"
#include "trim.h"

#define IE_TLS __attribute__((tls_model("initial-exec")))

#if defined(__x86_64__) && defined(__linux__)
#define LH_OWN_UNWINDER 1
#else
#define LH_OWN_UNWINDER 0
#endif

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
 * Rule cache: open addressing, lock-free, slots never emptied.  The same
 * pc has the same rule until an object is unloaded (another may then be
 * loaded at its address, with other rules): every unload starts a new
 * generation (uw_gen), and a slot filled in an older one is stale -- never
 * used, and free to be filled again.  Unloads are seen in dlclose (below)
 * and, for the ones glibc makes itself, through dl_iterate_phdr's count of
 * them on each cache miss.
 *
 * A writer claims a slot (empty or stale -> BUSY with a CAS), stores the
 * rule and the generation, then publishes the key with release.  A reader
 * that sees its pc (acquire) reads generation and rule, then the key and
 * generation again: a slot rewritten meanwhile shows BUSY or another
 * generation, and the rule is computed instead.  When a probe run holds no
 * free slot the rule is just computed each time.
 */
#define UW_CACHE_BITS 14
#define UW_PROBES 16
#define UW_BUSY ((uintptr_t)1)

typedef struct uw_slot {
    _Atomic uintptr_t key;              /* pc; 0 empty; UW_BUSY */
    _Atomic uint64_t gen;               /* uw_gen it was computed in */
    _Atomic uint64_t w[2];              /* the rule, packed */
} uw_slot;

static uw_slot uw_cache[1u << UW_CACHE_BITS];
static _Atomic uint64_t uw_gen = 1;
static _Atomic unsigned long long uw_subs;  /* dlpi_subs last seen */

static inline size_t uw_hash(uintptr_t pc)
{
    return (size_t)(((uint64_t)pc * 0x9e3779b97f4a7c15ull) >>
                    (64 - UW_CACHE_BITS));
}

static void rule_pack(const uw_rule *r, uint64_t w[2])
{
    w[0] = (uint64_t)(uint32_t)r->cfa_off |
           (uint64_t)(uint16_t)r->ra_off << 32 |
           (uint64_t)(uint16_t)r->rbp_off << 48;
    w[1] = (uint64_t)r->cfa_kind | (uint64_t)r->ra_kind << 8 |
           (uint64_t)r->rbp_kind << 16;
}

static void rule_unpack(const uint64_t w[2], uw_rule *r)
{
    r->cfa_off = (int32_t)(uint32_t)w[0];
    r->ra_off = (int16_t)(uint16_t)(w[0] >> 32);
    r->rbp_off = (int16_t)(uint16_t)(w[0] >> 48);
    r->cfa_kind = (uint8_t)w[1];
    r->ra_kind = (uint8_t)(w[1] >> 8);
    r->rbp_kind = (uint8_t)(w[1] >> 16);
}

static void uw_invalidate(void)
{
    atomic_fetch_add_explicit(&uw_gen, 1, memory_order_acq_rel);
}

static int subs_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(unsigned long long *)data = info->dlpi_subs;
    return 1;
}

/* A new generation when an object was unloaded since the last look. */
static void uw_check_unloads(void)
{
    unsigned long long subs = 0;
    dl_iterate_phdr(subs_cb, &subs);
    unsigned long long seen = atomic_load_explicit(&uw_subs,
                                                   memory_order_relaxed);
    if (subs != seen &&
        atomic_compare_exchange_strong(&uw_subs, &seen, subs))
        uw_invalidate();
}

static void rule_for(uintptr_t pc, uw_rule *r)
{
    size_t mask = (1u << UW_CACHE_BITS) - 1;
    size_t h = uw_hash(pc);
    uint64_t gen = atomic_load_explicit(&uw_gen, memory_order_acquire);
    uw_slot *spare = NULL;
    uintptr_t spare_key = 0;
    for (int i = 0; i < UW_PROBES; i++) {
        uw_slot *s = &uw_cache[(h + (size_t)i) & mask];
        uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == 0) {
            if (!spare)
                spare = s;
            break;
        }
        if (k == UW_BUSY)
            continue;
        uint64_t g = atomic_load_explicit(&s->gen, memory_order_relaxed);
        if (g != gen) {
            if (!spare) {
                spare = s;
                spare_key = k;
            }
            continue;
        }
        if (k != pc)
            continue;
        uint64_t w[2] = {
            atomic_load_explicit(&s->w[0], memory_order_relaxed),
            atomic_load_explicit(&s->w[1], memory_order_relaxed),
        };
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->key, memory_order_relaxed) == pc &&
            atomic_load_explicit(&s->gen, memory_order_relaxed) == gen) {
            rule_unpack(w, r);
            return;
        }
    }
    uw_check_unloads();
    if (atomic_load_explicit(&uw_gen, memory_order_acquire) != gen)
        spare = NULL;           /* an unload seen just now */
    compute_rule(pc, r);
    if (spare && atomic_compare_exchange_strong_explicit(
                     &spare->key, &spare_key, UW_BUSY,
                     memory_order_acquire, memory_order_relaxed)) {
        atomic_thread_fence(memory_order_release);
        uint64_t w[2];
        rule_pack(r, w);
        atomic_store_explicit(&spare->w[0], w[0], memory_order_relaxed);
        atomic_store_explicit(&spare->w[1], w[1], memory_order_relaxed);
        atomic_store_explicit(&spare->gen, gen, memory_order_relaxed);
        atomic_store_explicit(&spare->key, pc, memory_order_release);
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
    uint64_t gen;               /* uw_gen of the capture */
    int n;
    int complete;               /* reached the root (not cut at max) */
    uintptr_t cfa[UW_MEMO], slot[UW_MEMO], ra[UW_MEMO], rbp[UW_MEMO];
    /* The rule of the first frame unwound (uw_unwind's own: the same pc
     * every time), so a capture that joins at once looks no rule up. */
    uintptr_t pc0;              /* 0: none yet */
    uw_rule rule0;
} uw_memo_t;

static _Thread_local uw_memo_t uw_memo IE_TLS;

/* A word of the stack (one load). */
static inline uintptr_t uw_load(uintptr_t addr)
{
    uintptr_t v;
    memcpy(&v, (const void *)addr, sizeof v);
    return v;
}

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
    uint64_t gen = atomic_load_explicit(&uw_gen, memory_order_acquire);
    if (memo->gen != gen) {
        memo->gen = gen;        /* an object was unloaded: start afresh */
        memo->n = 0;
        memo->pc0 = 0;
    }
    uintptr_t cfas[UW_MEMO], slots[UW_MEMO], rbps[UW_MEMO];
    int rbp_ok = 1, n = 0, j = 0, joined = -1, complete = 0;
    uintptr_t at = rip;
    for (;;) {
        if (n >= max)
            break;
        uw_rule r;
        if (n == 0 && at == memo->pc0) {
            r = memo->rule0;
        } else {
            rule_for(at, &r);
            if (n == 0) {
                memo->rule0 = r;
                memo->pc0 = at;
            }
        }
        uintptr_t cfa;
        if (r.cfa_kind == CFA_RSP)
            cfa = rsp + (intptr_t)r.cfa_off;
        else if (r.cfa_kind == CFA_RBP && rbp_ok)
            cfa = rbp + (intptr_t)r.cfa_off;
        else if (r.cfa_kind == CFA_DRAP && rbp_ok)
            cfa = uw_load(rbp + (intptr_t)r.cfa_off);
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
        ra = uw_load(slot);
        if (r.rbp_kind == R_OFFSET)
            rbp = uw_load(cfa + (intptr_t)r.rbp_off);
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
            for (int m = j + 1; m < memo->n && ok; m++)
                ok = uw_load(memo->slot[m]) == memo->ra[m];
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
                    (size_t)keep * sizeof *memo->cfa);
            memmove(&memo->slot[fresh], &memo->slot[joined + 1],
                    (size_t)keep * sizeof *memo->slot);
            memmove(&memo->ra[fresh], &memo->ra[joined + 1],
                    (size_t)keep * sizeof *memo->ra);
            memmove(&memo->rbp[fresh], &memo->rbp[joined + 1],
                    (size_t)keep * sizeof *memo->rbp);
        }
        memcpy(memo->cfa, cfas, (size_t)fresh * sizeof *cfas);
        memcpy(memo->slot, slots, (size_t)fresh * sizeof *slots);
        memcpy(memo->ra, pcs, (size_t)fresh * sizeof *pcs);
        memcpy(memo->rbp, rbps, (size_t)fresh * sizeof *rbps);
        memo->complete = memo->complete && keep == tail;
        memo->n = fresh + (keep > 0 ? keep : 0);
    } else {
        int k = n < UW_MEMO ? n : UW_MEMO;
        memcpy(memo->cfa, cfas, (size_t)k * sizeof *cfas);
        memcpy(memo->slot, slots, (size_t)k * sizeof *slots);
        memcpy(memo->ra, pcs, (size_t)k * sizeof *pcs);
        memcpy(memo->rbp, rbps, (size_t)k * sizeof *rbps);
        memo->n = k;
        memo->complete = complete && k == n;
    }
    return n;
}

#endif /* LH_OWN_UNWINDER */

/* dlclose, interposed (exported from the worker): an unloaded object's
 * cached unwind rules must not be used for whatever is loaded next at its
 * address. */
__attribute__((visibility("default")))
int dlclose(void *handle)
{
    static void *_Atomic real;
    int (*fn)(void *);
    void *f = atomic_load_explicit(&real, memory_order_relaxed);
    if (!f) {
        lh_heap_suspend();      /* dlsym may malloc (its error state) */
        f = dlsym(RTLD_NEXT, "dlclose");
        lh_heap_resume();
        atomic_store_explicit(&real, f, memory_order_relaxed);
    }
    if (!f)
        return -1;
    *(void **)&fn = f;
    int rc = fn(handle);
#if LH_OWN_UNWINDER
    uw_check_unloads();
#endif
    return rc;
}

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
    lh_stacks_init();
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

__attribute__((noinline))
int lh_backtrace_from(uintptr_t *pcs, int max, uintptr_t ra)
{
    uintptr_t raw[BT_RAW];
    if (max <= 0 || bt_busy)
        return 0;
    int want = max + LH_TRIM_SCAN;
    if (want > BT_RAW)
        want = BT_RAW;
    bt_busy = 1;
    int n = capture(raw, want);
    bt_busy = 0;
    /* raw[0] is the return address into this function. */
    int start = n > 0 ? 1 + lh_trim_leading(raw + 1, n - 1, ra) : 0;
    int out = 0;
    for (int i = start; i < n && out < max; i++)
        pcs[out++] = raw[i];
    return out;
}
