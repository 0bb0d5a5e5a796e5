/* embedded.h - Lua sources compiled into the binary (see tools/embed.c). */
#ifndef LEAKHOUND_EMBEDDED_H
#define LEAKHOUND_EMBEDDED_H

#include <stddef.h>

typedef struct lh_embedded_file {
    const char *name;   /* base name without .lua */
    const char *data;
    size_t size;
} lh_embedded_file;

extern const lh_embedded_file lh_embedded[];   /* ends with name == NULL */

#endif
