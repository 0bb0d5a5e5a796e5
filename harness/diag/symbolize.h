/*
 * symbolize.h - what an address resolves to, for blame.c: the object it
 * lies in and its inline chain of functions and file:line, from addr2line
 * or dladdr (symbolize.c).  Entries are cached and never freed.
 */
#ifndef LEAKHOUND_SYMBOLIZE_H
#define LEAKHOUND_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

/* An object (executable or shared library) addresses belong to. */
typedef struct sym_obj {
    struct sym_obj *next;
    const void *lm;             /* its link_map: identity */
    uintptr_t bias;             /* load bias (l_addr) */
    char *path;                 /* for addr2line */
    char *real;                 /* its real path (path if unresolved) */
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

/* The entry for an instruction address (a return address minus one),
 * resolving it if needed; NULL when nothing at all is known. */
const sym_entry *lh_sym_entry(uintptr_t addr);

/* "libname.so+0x1234" (or "0x1234") for an address with no better name. */
void lh_sym_offset(const sym_entry *e, uintptr_t addr, char *out,
                   size_t len);

#endif
