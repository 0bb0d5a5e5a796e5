/* sha1.h - SHA-1, for naming artifacts the way libFuzzer does. */
#ifndef LEAKHOUND_SHA1_H
#define LEAKHOUND_SHA1_H

#include <stddef.h>
#include <stdint.h>

/* Writes 40 hex digits and a NUL into hex. */
void lh_sha1_hex(const void *data, size_t len, char hex[41]);

#endif
