/*
 * afl_feedback.c - lets an uninstrumented AFL++ driver add coverage.
 *
 * In the AFL++ drivers only the target's code carries AFL instrumentation;
 * the harness and Lua do not, so the driver cannot create edges by itself.
 * This file is compiled with afl-clang-fast (like the target) and linked
 * into every leakhound-afl-* driver: each level passed to
 * leakhound_afl_feedback() runs its own basic block, i.e. its own entry in
 * AFL's coverage map, so an input that makes memory grow more than any
 * input before looks like new coverage and is kept in the queue.
 *
 * A driver declares it weak, so the same driver source links without it
 * (libFuzzer builds):
 *
 *     __attribute__((weak)) void leakhound_afl_feedback(unsigned level);
 *     ...
 *     if (leakhound_afl_feedback) leakhound_afl_feedback(level);
 *
 * Levels are 0..63 (larger values count as 63): room for a log2 ladder per
 * metric, e.g. the same index as a libFuzzer extra counter (heap 0..15,
 * goroutines 16..31, handles 32..47).  Only whether a level was reached in
 * an input matters much: AFL buckets hit counts (1, 2, 3, 4-7, ...), so
 * calling the same level again in one input is a coarse signal at best.
 *
 * Every case holds a distinct empty asm, so the compiler can neither merge
 * the cases nor turn the switch into a table lookup: the blocks survive -O3.
 */
#define LH_MARK(n) case n: __asm__ volatile("# leakhound afl level " #n); break;

__attribute__((visibility("default"), noinline))
void leakhound_afl_feedback(unsigned level)
{
    switch (level > 63 ? 63 : level) {
    LH_MARK(0)  LH_MARK(1)  LH_MARK(2)  LH_MARK(3)
    LH_MARK(4)  LH_MARK(5)  LH_MARK(6)  LH_MARK(7)
    LH_MARK(8)  LH_MARK(9)  LH_MARK(10) LH_MARK(11)
    LH_MARK(12) LH_MARK(13) LH_MARK(14) LH_MARK(15)
    LH_MARK(16) LH_MARK(17) LH_MARK(18) LH_MARK(19)
    LH_MARK(20) LH_MARK(21) LH_MARK(22) LH_MARK(23)
    LH_MARK(24) LH_MARK(25) LH_MARK(26) LH_MARK(27)
    LH_MARK(28) LH_MARK(29) LH_MARK(30) LH_MARK(31)
    LH_MARK(32) LH_MARK(33) LH_MARK(34) LH_MARK(35)
    LH_MARK(36) LH_MARK(37) LH_MARK(38) LH_MARK(39)
    LH_MARK(40) LH_MARK(41) LH_MARK(42) LH_MARK(43)
    LH_MARK(44) LH_MARK(45) LH_MARK(46) LH_MARK(47)
    LH_MARK(48) LH_MARK(49) LH_MARK(50) LH_MARK(51)
    LH_MARK(52) LH_MARK(53) LH_MARK(54) LH_MARK(55)
    LH_MARK(56) LH_MARK(57) LH_MARK(58) LH_MARK(59)
    LH_MARK(60) LH_MARK(61) LH_MARK(62) LH_MARK(63)
    }
}
