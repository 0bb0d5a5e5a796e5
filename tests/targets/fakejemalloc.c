/*
 * fakejemalloc.c - built as libjemalloc-fake.so: a library whose file name
 * says jemalloc, for tests/e2e_targets.sh (a target that needs it is
 * flagged by the name alone, as one linked with -ljemalloc is).
 */
#define EXPORT __attribute__((visibility("default")))

EXPORT int fakejemalloc_version(void)
{
    return 5;
}
