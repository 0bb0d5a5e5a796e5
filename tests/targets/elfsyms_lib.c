/* elfsyms_lib.c - a library with one of each kind of dynamic symbol, for
 * test_elfsyms.c: exported functions (two), a hidden one, an exported
 * variable, a weak function and an undefined reference (strlen). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

__attribute__((visibility("default"))) int elfsyms_counter;

__attribute__((visibility("hidden"))) int elfsyms_hidden(size_t n)
{
    return (int)n + elfsyms_counter;
}

__attribute__((visibility("default")))
int elfsyms_op_b(const uint8_t *data, size_t size)
{
    return elfsyms_hidden(size) + (size ? data[0] : 0);
}

__attribute__((visibility("default")))
int elfsyms_op_a(const uint8_t *data, size_t size)
{
    return (int)strlen((const char *)data) + (int)size;
}

__attribute__((visibility("default"), weak))
int elfsyms_weak(void)
{
    return 1;
}
