/*
 * record.c - a tiny record parser that leaks on one error path.
 *
 * Wire format: tag[4] len[1] payload[len].  The parser decodes the payload
 * into a scratch buffer, then dispatches on the tag.  "GROW" records (a
 * request to enlarge the buffer) are not supported and take an error path:
 * record_parse_leaky returns early there and forgets the scratch buffer,
 * record_parse_clean frees it.  Every other input is clean in both ops.
 *
 * The gate is a 4-byte compare on input content, so a fuzzer starting from
 * the harmless seeds in corpora/record/ has to discover "GROW" to find the
 * leak (libFuzzer does in well under a second).  The leak is the classic
 * unreachable kind: the pointer is lost when the op returns.
 */
#include <stdlib.h>
#include <string.h>

#include "lh_target.h"

enum {
    HEADER_SIZE = 5,        /* tag[4] + len[1] */
    SCRATCH_SIZE = 256,     /* room for the largest payload len[1] allows */
};

static int parse(const uint8_t *data, size_t size, int leaky)
{
    /* Too short to carry a header: rejected before anything is allocated. */
    if (data == NULL || size < HEADER_SIZE)
        return 0;

    uint8_t *buf = malloc(SCRATCH_SIZE);
    if (buf == NULL)
        return 0;

    /* A truncated record decodes what is there rather than failing. */
    size_t len = data[4];
    if (len > size - HEADER_SIZE)
        len = size - HEADER_SIZE;
    memcpy(buf, data + HEADER_SIZE, len);
    memset(buf + len, 0, SCRATCH_SIZE - len);
    lh_escape(buf);

    if (memcmp(data, "GROW", 4) == 0) {
        /* Unsupported record kind: error path. */
        if (leaky)
            return 0;       /* deliberate bug: buf is never freed */
        free(buf);
        return 0;
    }

    free(buf);
    return 0;
}

/* Leaks 256 bytes (one block) per input that starts with "GROW". */
LH_EXPORT int record_parse_leaky(const uint8_t *data, size_t size)
{
    return parse(data, size, 1);
}

/* The same parser, freeing on the error path too. */
LH_EXPORT int record_parse_clean(const uint8_t *data, size_t size)
{
    return parse(data, size, 0);
}
