/*
 * plain_fuzzer.c - the baseline for ci/bench: a bare libFuzzer target that
 * calls one op of a bundled C target directly, no leakhound in the loop.
 * Built once plain (-fsanitize=fuzzer) and once with LeakSanitizer
 * (-fsanitize=fuzzer,leak).  BENCH_OP names the op.
 */
#include <stddef.h>
#include <stdint.h>

int BENCH_OP(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    BENCH_OP(data, size);
    return 0;
}
