/*
 * elfsyms.h - the functions a shared library exports, read from its ELF
 * dynamic symbol table (.dynsym) without loading it: what `leakhound init`
 * offers as a target's ops.
 */
#ifndef LEAKHOUND_ELFSYMS_H
#define LEAKHOUND_ELFSYMS_H

#include <stdint.h>

#include "buf.h"

/* The defined GLOBAL FUNC symbols of PATH's .dynsym (a 64-bit ELF of this
 * machine's byte order), sorted and without duplicates, each
 * NUL-terminated, appended to names; the list ends with an empty name.
 * Returns their count, or -1 with the reason, naming PATH, in err. */
int lh_elf_exported_functions(const char *path, lh_buf *names, lh_buf *err);

/* Where section NAME of PATH lies when loaded: its address relative to
 * the load base, and its size, from the section headers (read with
 * pread, not the whole file).  0, or -1 when PATH cannot be read, is not
 * a 64-bit ELF file or has no such section. */
int lh_elf_section(const char *path, const char *name, uint64_t *addr,
                   uint64_t *size);

/* Is PATH a Go library (Go's build info inside: a c-shared or c-archive
 * build)?  0 as well when it cannot be read. */
int lh_lib_is_go(const char *path);

#endif
