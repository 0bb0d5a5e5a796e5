/*
 * elfsyms.c - a shared library's exported functions from its .dynsym.
 *
 * The section headers lead to the SHT_DYNSYM section and, through its
 * sh_link, to its string table; every offset and size read from the file
 * is checked against the file's length first, so a truncated or hostile
 * file is an error, never a read out of bounds.  (A library stripped of
 * its section headers, e.g. by sstrip, is refused with that reason.)
 */
#include "elfsyms.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "file.h"

/* Does [off, off + len) lie within a file of `size` bytes? */
static int within(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int fail(lh_buf *err, const char *path, const char *why)
{
    lh_buf_printf(err, "'%s': %s", path, why);
    return -1;
}

int lh_elf_exported_functions(const char *path, lh_buf *names, lh_buf *err)
{
    lh_buf file = LH_BUF_INIT;
    if (lh_read_file(path, &file) < 0) {
        lh_buf_printf(err, "cannot read '%s': %s", path, strerror(errno));
        lh_buf_free(&file);
        return -1;
    }
    const unsigned char *d = (const unsigned char *)file.data;
    size_t size = file.len;
    int rc = -1;
    const char **list = NULL;
    size_t n = 0;
    int native = 1;
    if (size < sizeof(Elf64_Ehdr) || memcmp(d, ELFMAG, SELFMAG) != 0) {
        fail(err, path, "not an ELF file");
        goto out;
    }
    if (d[EI_CLASS] != ELFCLASS64 ||
        d[EI_DATA] != (*(const char *)&native ? ELFDATA2LSB : ELFDATA2MSB)) {
        fail(err, path, "not a 64-bit ELF file of this machine's byte "
             "order");
        goto out;
    }
    Elf64_Ehdr eh;
    memcpy(&eh, d, sizeof eh);
    if (eh.e_type != ET_DYN) {
        fail(err, path, "not a shared library (ELF type is not ET_DYN)");
        goto out;
    }
    if (eh.e_shoff == 0 || eh.e_shnum == 0) {
        fail(err, path, "has no section headers (stripped with sstrip?): "
             "its dynamic symbol table cannot be found");
        goto out;
    }
    if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
        !within(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr),
                size)) {
        fail(err, path, "truncated or corrupt (section headers out of the "
             "file)");
        goto out;
    }
    Elf64_Shdr sym, str;
    int found = 0;
    for (unsigned i = 0; i < eh.e_shnum && !found; i++) {
        memcpy(&sym, d + eh.e_shoff + (uint64_t)i * sizeof sym, sizeof sym);
        found = sym.sh_type == SHT_DYNSYM;
    }
    if (!found) {
        fail(err, path, "has no dynamic symbol table (.dynsym): it exports "
             "nothing");
        goto out;
    }
    if (sym.sh_link >= eh.e_shnum || sym.sh_entsize != sizeof(Elf64_Sym) ||
        !within(sym.sh_offset, sym.sh_size, size)) {
        fail(err, path, "truncated or corrupt (.dynsym out of the file)");
        goto out;
    }
    memcpy(&str, d + eh.e_shoff + (uint64_t)sym.sh_link * sizeof str,
           sizeof str);
    if (str.sh_type != SHT_STRTAB || !within(str.sh_offset, str.sh_size,
                                             size) || str.sh_size == 0 ||
        d[str.sh_offset + str.sh_size - 1] != '\0') {
        fail(err, path, "truncated or corrupt (.dynstr out of the file)");
        goto out;
    }
    const char *strtab = (const char *)d + str.sh_offset;
    size_t nsyms = sym.sh_size / sizeof(Elf64_Sym);
    list = lh_xcalloc(nsyms + 1, sizeof *list);
    for (size_t i = 1; i < nsyms; i++) {    /* entry 0 is the null symbol */
        Elf64_Sym s;
        memcpy(&s, d + sym.sh_offset + i * sizeof s, sizeof s);
        if (ELF64_ST_TYPE(s.st_info) != STT_FUNC ||
            ELF64_ST_BIND(s.st_info) != STB_GLOBAL ||
            s.st_shndx == SHN_UNDEF || s.st_name >= str.sh_size)
            continue;
        const char *name = strtab + s.st_name;
        if (*name)
            list[n++] = name;
    }
    qsort(list, n, sizeof *list, cmp_names);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(list[i], list[i - 1]) == 0)
            continue;       /* versioned twins */
        lh_buf_add(names, list[i], strlen(list[i]) + 1);
        kept++;
    }
    rc = (int)kept;
out:
    lh_buf_add(names, "", 1);
    lh_raw_free(list);
    lh_buf_free(&file);
    return rc;
}

/* n bytes at off, all of them, or -1. */
static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

int lh_elf_section(const char *path, const char *name, uint64_t *addr,
                   uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = -1;
    char *names = NULL;
    Elf64_Ehdr eh;
    Elf64_Shdr sh, strs;
    if (pread_all(fd, &eh, sizeof eh, 0) < 0 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx == SHN_UNDEF ||
        eh.e_shstrndx >= eh.e_shnum ||
        pread_all(fd, &strs, sizeof strs,
                  eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof strs) < 0 ||
        strs.sh_size == 0 || strs.sh_size > (1u << 24))
        goto out;
    names = lh_raw_malloc(strs.sh_size + 1);
    if (!names || pread_all(fd, names, strs.sh_size, strs.sh_offset) < 0)
        goto out;
    names[strs.sh_size] = '\0';
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        if (pread_all(fd, &sh, sizeof sh,
                      eh.e_shoff + (uint64_t)i * sizeof sh) < 0)
            break;
        if (sh.sh_name < strs.sh_size && sh.sh_type != SHT_NULL &&
            strcmp(names + sh.sh_name, name) == 0) {
            *addr = sh.sh_addr;
            *size = sh.sh_size;
            rc = 0;
            break;
        }
    }
out:
    lh_raw_free(names);
    close(fd);
    return rc;
}

int lh_lib_is_go(const char *path)
{
    lh_buf data = LH_BUF_INIT;
    static const char magic[] = "\xff Go buildinf:";
    int go = lh_read_file(path, &data) == 0 && data.len &&
             memmem(data.data, data.len, magic, sizeof magic - 1) != NULL;
    lh_buf_free(&data);
    return go;
}
