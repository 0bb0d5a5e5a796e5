/*
 * test_godiag.c - unit tests for harness/diag/go*.c (Go diagnosis).
 *
 * The fixtures are real probe outputs, taken with a throwaway loader that
 * dlopened build/targets/go/libgoroutines.so (OpGoroutineLeakAlways: 2
 * calls, snapshot, 3 more) and libtimers.so (OpTickerLeak: 200 calls,
 * snapshot, 2,000 more; heap records with nothing in use and all but one
 * of the probe's own were cut, as was most of the MemStats trailer).  A
 * fake probe serves them, so godiag is driven through diag.h alone.  A few
 * small texts are edited by hand where a real run would not produce the
 * case (aged goroutines, -trimpath paths); they say so.
 *
 * With LIBGOROUTINES=<path to libgoroutines.so> (meson sets it when the Go
 * targets are built) the live library is tested too: one Go runtime per
 * process, so one library.
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 */
#include "diag.h"
#include "cgocaller.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "interpose.h"

#include "check.h"

/* ---- fixtures ----------------------------------------------------------- */

/* leakhound_go_goroutine_stacks: OpGoroutineLeakAlways, 2 then 5 leaked. */
static const char stacks_base[] =
    "goroutine 17 [running, locked to thread]:\n"
    "leakhound.dev/probe.allStacks()\n"
    "\t/work/main/targets/go/probe/probe.go:144 +0x66\n"
    "leakhound.dev/probe.leakhound_go_goroutine_stacks(0x56410219e360, 0x10"
    "282)\n"
    "\t/work/main/targets/go/probe/probe.go:122 +0x27\n"
    "\n"
    "goroutine 5 [chan send]:\n"
    "main.OpGoroutineLeakAlways.func1(0x0?)\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x2a\n"
    "created by main.OpGoroutineLeakAlways\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x145\n"
    "\n"
    "goroutine 6 [chan send]:\n"
    "main.OpGoroutineLeakAlways.func1(0x0?)\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x2a\n"
    "created by main.OpGoroutineLeakAlways\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x145\n";

static const char stacks_end[] =
    "goroutine 17 [running, locked to thread]:\n"
    "leakhound.dev/probe.allStacks()\n"
    "\t/work/main/targets/go/probe/probe.go:144 +0x66\n"
    "leakhound.dev/probe.leakhound_go_goroutine_stacks(0x5641021ae7d0, 0x10"
    "4ef)\n"
    "\t/work/main/targets/go/probe/probe.go:122 +0x27\n"
    "\n"
    "goroutine 5 [chan send]:\n"
    "main.OpGoroutineLeakAlways.func1(0x0?)\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x2a\n"
    "created by main.OpGoroutineLeakAlways\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x145\n"
    "\n"
    "goroutine 6 [chan send]:\n"
    "main.OpGoroutineLeakAlways.func1(0x0?)\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x2a\n"
    "created by main.OpGoroutineLeakAlways\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x145\n"
    "\n"
    "goroutine 19 [chan send]:\n"
    "main.OpGoroutineLeakAlways.func1(0x0?)\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x2a\n"
    "created by main.OpGoroutineLeakAlways\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x145\n"
    "\n"
    "goroutine 20 [chan send]:\n"
    "main.OpGoroutineLeakAlways.func1(0x0?)\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x2a\n"
    "created by main.OpGoroutineLeakAlways\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x145\n"
    "\n"
    "goroutine 21 [chan send]:\n"
    "main.OpGoroutineLeakAlways.func1(0x0?)\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x2a\n"
    "created by main.OpGoroutineLeakAlways\n"
    "\t/work/main/targets/go/goroutines/main.go:37 +0x145\n";

/* The debug=1 profile that goes with stacks_base/end when steps are
 * labeled (by hand, in the form Go 1.19 prints): at the end, of the five
 * goroutines on that stack, threads 1 and 2 started one each, three have
 * no labels; a goroutine elsewhere with labels must not count.  The
 * workload's name has Go %q escapes (\", \t, \x01, \u00ad). */
#define LAB_FRAME \
    "#\t0x7f30bb1d6b49\tmain.OpGoroutineLeakAlways.func1+0x29\t/work/main/" \
    "targets/go/goroutines/main.go:37\n"
#define LAB_WORKLOAD "\"leakhound.workload\":\"w \\\"q\\\"\\t\\x01\\u00ad\""
static const char lab_base[] =
    "goroutine profile: total 3\n"
    "2 @ 0x7f30bb1567b6 0x7f30bb12400c 0x7f30bb1d6b4a 0x7f30bb182301\n"
    LAB_FRAME
    "\n"
    "1 @ 0x7f30bb1d62c5\n"
    "#\t0x7f30bb1d62c4\tleakhound.dev/probe.leakhound_go_goroutine_profile+"
    "0x64\t\t/work/main/targets/go/probe/probe.go:110\n"
    "\n";

static const char lab_end[] =
    "goroutine profile: total 10\n"
    "3 @ 0x7f30bb1567b6 0x7f30bb12400c 0x7f30bb1d6b4a 0x7f30bb182301\n"
    LAB_FRAME
    "\n"
    "1 @ 0x7f30bb1567b6 0x7f30bb12400c 0x7f30bb1d6b4a 0x7f30bb182301\n"
    "# labels: {\"leakhound.thread\":\"2\", " LAB_WORKLOAD "}\n"
    LAB_FRAME
    "\n"
    "1 @ 0x7f30bb1567b6 0x7f30bb12400c 0x7f30bb1d6b4a 0x7f30bb182301\n"
    "# labels: {\"leakhound.thread\":\"1\", " LAB_WORKLOAD "}\n"
    LAB_FRAME
    "\n"
    "4 @ 0x7f30bb1567b6 0x7f30bb1d6b4b 0x7f30bb182301\n"
    "# labels: {\"leakhound.thread\":\"3\", " LAB_WORKLOAD "}\n"
    "#\t0x7f30bb1d6b4a\tmain.elsewhere.func1+0x29\t/work/main/targets/go/"
    "goroutines/main.go:90\n"
    "\n"
    "1 @ 0x7f30bb1d62c5\n"
    "#\t0x7f30bb1d62c4\tleakhound.dev/probe.leakhound_go_goroutine_profile+"
    "0x64\t\t/work/main/targets/go/probe/probe.go:110\n"
    "\n";

/* leakhound_go_goroutine_profile (debug=1, what an older probe has):
 * OpGoroutineLeak("SLOW-x"), 2 then 5 leaked. */
static const char profile_base[] =
    "goroutine profile: total 3\n"
    "2 @ 0x7f30bb1567b6 0x7f30bb12400c 0x7f30bb123bbd 0x7f30bb1d6b4a 0x7f30"
    "bb182301\n"
    "#\t0x7f30bb1d6b49\tmain.lookupLeaky.func1+0x29\t/work/main/targets/go/"
    "goroutines/lookup.go:30\n"
    "\n"
    "1 @ 0x7f30bb14c156 0x7f30bb17d645 0x7f30bb1cc2b5 0x7f30bb1cc0cd 0x7f30"
    "bb1c902b 0x7f30bb1d62c5 0x7f30bb1d6828 0x7f30bb122ce2 0x7f30bb122969 0"
    "x7f30bb1820b3 0x7f30bb182301\n"
    "#\t0x7f30bb17d644\truntime/pprof.runtime_goroutineProfileWithLabels+0x"
    "24\t\t/usr/lib/go-1.19/src/runtime/mprof.go:846\n"
    "#\t0x7f30bb1cc2b4\truntime/pprof.writeRuntimeProfile+0xb4\t\t\t\t/usr/"
    "lib/go-1.19/src/runtime/pprof/pprof.go:723\n"
    "#\t0x7f30bb1cc0cc\truntime/pprof.writeGoroutine+0x4c\t\t\t\t/usr/lib/g"
    "o-1.19/src/runtime/pprof/pprof.go:683\n"
    "#\t0x7f30bb1c902a\truntime/pprof.(*Profile).WriteTo+0x14a\t\t\t\t/usr/"
    "lib/go-1.19/src/runtime/pprof/pprof.go:330\n"
    "#\t0x7f30bb1d62c4\tleakhound.dev/probe.leakhound_go_goroutine_profile+"
    "0x64\t\t/work/main/targets/go/probe/probe.go:110\n"
    "#\t0x7f30bb1d6827\t_cgoexp_ecd5d689b0e3_leakhound_go_goroutine_profile"
    "+0x27\t_cgo_gotypes.go:81\n"
    "#\t0x7f30bb122ce1\truntime.cgocallbackg1+0x2c1\t\t\t\t\t/usr/lib/go-1."
    "19/src/runtime/cgocall.go:316\n"
    "#\t0x7f30bb122968\truntime.cgocallbackg+0x108\t\t\t\t\t/usr/lib/go-1.1"
    "9/src/runtime/cgocall.go:235\n"
    "#\t0x7f30bb1820b2\truntime.cgocallback+0xb2\t\t\t\t\t/usr/lib/go-1.19/"
    "src/runtime/asm_amd64.s:994\n"
    "\n";

static const char profile_end[] =
    "goroutine profile: total 6\n"
    "5 @ 0x7f63f65277b6 0x7f63f64f500c 0x7f63f64f4bbd 0x7f63f65a7b4a 0x7f63"
    "f6553301\n"
    "#\t0x7f63f65a7b49\tmain.lookupLeaky.func1+0x29\t/work/main/targets/go/"
    "goroutines/lookup.go:30\n"
    "\n"
    "1 @ 0x7f63f651d156 0x7f63f654e645 0x7f63f659d2b5 0x7f63f659d0cd 0x7f63"
    "f659a02b 0x7f63f65a72c5 0x7f63f65a7828 0x7f63f64f3ce2 0x7f63f64f3969 0"
    "x7f63f65530b3 0x7f63f6553301\n"
    "#\t0x7f63f654e644\truntime/pprof.runtime_goroutineProfileWithLabels+0x"
    "24\t\t/usr/lib/go-1.19/src/runtime/mprof.go:846\n"
    "#\t0x7f63f659d2b4\truntime/pprof.writeRuntimeProfile+0xb4\t\t\t\t/usr/"
    "lib/go-1.19/src/runtime/pprof/pprof.go:723\n"
    "#\t0x7f63f659d0cc\truntime/pprof.writeGoroutine+0x4c\t\t\t\t/usr/lib/g"
    "o-1.19/src/runtime/pprof/pprof.go:683\n"
    "#\t0x7f63f659a02a\truntime/pprof.(*Profile).WriteTo+0x14a\t\t\t\t/usr/"
    "lib/go-1.19/src/runtime/pprof/pprof.go:330\n"
    "#\t0x7f63f65a72c4\tleakhound.dev/probe.leakhound_go_goroutine_profile+"
    "0x64\t\t/work/main/targets/go/probe/probe.go:110\n"
    "#\t0x7f63f65a7827\t_cgoexp_ecd5d689b0e3_leakhound_go_goroutine_profile"
    "+0x27\t_cgo_gotypes.go:81\n"
    "#\t0x7f63f64f3ce1\truntime.cgocallbackg1+0x2c1\t\t\t\t\t/usr/lib/go-1."
    "19/src/runtime/cgocall.go:316\n"
    "#\t0x7f63f64f3968\truntime.cgocallbackg+0x108\t\t\t\t\t/usr/lib/go-1.1"
    "9/src/runtime/cgocall.go:235\n"
    "#\t0x7f63f65530b2\truntime.cgocallback+0xb2\t\t\t\t\t/usr/lib/go-1.19/"
    "src/runtime/asm_amd64.s:994\n"
    "\n";

/* leakhound_go_heap_profile(debug=1): OpTickerLeak, 200 then 2,200
 * calls (MemProfileRate 4096: "heap/8192"). */
static const char heap_base[] =
    "heap profile: 9: 5280 [11: 6336] @ heap/8192\n"
    "1: 2048 [1: 2048] @ 0x7fc6eb783ecc 0x7fc6eb783d8e 0x7fc6eb7910b9 0x7fc"
    "6eb7a1a30 0x7fc6eb7e8a91 0x7fc6eb7e8fc8 0x7fc6eb734ce2 0x7fc6eb734969 "
    "0x7fc6eb7940b3 0x7fc6eb794301\n"
    "#\t0x7fc6eb7910b8\ttime.startTimer+0x18\t\t\t/usr/lib/go-1.19/src/runt"
    "ime/time.go:215\n"
    "#\t0x7fc6eb7a1a2f\ttime.NewTicker+0xcf\t\t\t/usr/lib/go-1.19/src/time/"
    "tick.go:39\n"
    "#\t0x7fc6eb7e8a90\tmain.OpTickerLeak+0x30\t\t\t/work/main/targets/go/t"
    "imers/main.go:35\n"
    "#\t0x7fc6eb7e8fc7\t_cgoexp_59fc05ffd854_OpTickerLeak+0x27\t_cgo_gotype"
    "s.go:54\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t/usr/lib/go-1.19/src"
    "/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t/usr/lib/go-1.19/src/"
    "runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:994\n"
    "\n"
    "1: 1024 [1: 1024] @ 0x7fc6eb76b8fe 0x7fc6eb76c13b 0x7fc6eb76c7af 0x7fc"
    "6eb76cc8e 0x7fc6eb7703cf 0x7fc6eb7920c6\n"
    "#\t0x7fc6eb76b8fd\truntime.allocm+0x9d\t\t\t/usr/lib/go-1.19/src/runti"
    "me/proc.go:1759\n"
    "#\t0x7fc6eb76c13a\truntime.newm+0x3a\t\t\t/usr/lib/go-1.19/src/runtime"
    "/proc.go:2109\n"
    "#\t0x7fc6eb76c7ae\truntime.startm+0xce\t\t\t/usr/lib/go-1.19/src/runti"
    "me/proc.go:2325\n"
    "#\t0x7fc6eb76cc8d\truntime.handoffp+0x2ed\t\t\t/usr/lib/go-1.19/src/ru"
    "ntime/proc.go:2360\n"
    "#\t0x7fc6eb7703ce\truntime.entersyscallblock_handoff+0x4e\t/usr/lib/go"
    "-1.19/src/runtime/proc.go:3758\n"
    "#\t0x7fc6eb7920c5\truntime.systemstack+0x45\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:492\n"
    "\n"
    "1: 1024 [1: 1024] @ 0x7fc6eb76b8fe 0x7fc6eb76bda8 0x7fc6eb76bd4e 0x7fc"
    "6eb7920c6\n"
    "#\t0x7fc6eb76b8fd\truntime.allocm+0x9d\t\t/usr/lib/go-1.19/src/runtime"
    "/proc.go:1759\n"
    "#\t0x7fc6eb76bda7\truntime.oneNewExtraM+0x27\t/usr/lib/go-1.19/src/run"
    "time/proc.go:1912\n"
    "#\t0x7fc6eb76bd4d\truntime.newextram+0x4d\t\t/usr/lib/go-1.19/src/runt"
    "ime/proc.go:1900\n"
    "#\t0x7fc6eb7920c5\truntime.systemstack+0x45\t/usr/lib/go-1.19/src/runt"
    "ime/asm_amd64.s:492\n"
    "\n"
    "2: 832 [2: 832] @ 0x7fc6eb770948 0x7fc6eb770bfe 0x7fc6eb770b25 0x7fc6e"
    "b7920c6\n"
    "#\t0x7fc6eb770947\truntime.malg+0x27\t\t/usr/lib/go-1.19/src/runtime/p"
    "roc.go:4076\n"
    "#\t0x7fc6eb770bfd\truntime.newproc1+0x7d\t\t/usr/lib/go-1.19/src/runti"
    "me/proc.go:4123\n"
    "#\t0x7fc6eb770b24\truntime.newproc.func1+0x24\t/usr/lib/go-1.19/src/ru"
    "ntime/proc.go:4098\n"
    "#\t0x7fc6eb7920c5\truntime.systemstack+0x45\t/usr/lib/go-1.19/src/runt"
    "ime/asm_amd64.s:492\n"
    "\n"
    "2: 192 [2: 192] @ 0x7fc6eb735a8a 0x7fc6eb7a199f 0x7fc6eb7e8a91 0x7fc6e"
    "b7e8fc8 0x7fc6eb734ce2 0x7fc6eb734969 0x7fc6eb7940b3 0x7fc6eb794301\n"
    "#\t0x7fc6eb7a199e\ttime.NewTicker+0x3e\t\t\t/usr/lib/go-1.19/src/time/"
    "tick.go:29\n"
    "#\t0x7fc6eb7e8a90\tmain.OpTickerLeak+0x30\t\t\t/work/main/targets/go/t"
    "imers/main.go:35\n"
    "#\t0x7fc6eb7e8fc7\t_cgoexp_59fc05ffd854_OpTickerLeak+0x27\t_cgo_gotype"
    "s.go:54\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t/usr/lib/go-1.19/src"
    "/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t/usr/lib/go-1.19/src/"
    "runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:994\n"
    "\n"
    "2: 160 [2: 160] @ 0x7fc6eb7a19bf 0x7fc6eb7e8a91 0x7fc6eb7e8fc8 0x7fc6e"
    "b734ce2 0x7fc6eb734969 0x7fc6eb7940b3 0x7fc6eb794301\n"
    "#\t0x7fc6eb7a19be\ttime.NewTicker+0x5e\t\t\t/usr/lib/go-1.19/src/time/"
    "tick.go:30\n"
    "#\t0x7fc6eb7e8a90\tmain.OpTickerLeak+0x30\t\t\t/work/main/targets/go/t"
    "imers/main.go:35\n"
    "#\t0x7fc6eb7e8fc7\t_cgoexp_59fc05ffd854_OpTickerLeak+0x27\t_cgo_gotype"
    "s.go:54\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t/usr/lib/go-1.19/src"
    "/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t/usr/lib/go-1.19/src/"
    "runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:994\n"
    "\n"
    "# runtime.MemStats\n"
    "# Alloc = 306528\n"
    "# TotalAlloc = 310928\n"
    "# Sys = 14791944\n";

static const char heap_end[] =
    "heap profile: 103: 41280 [189: 2909408] @ heap/8192\n"
    "1: 20480 [1: 20480] @ 0x7fc6eb783ecc 0x7fc6eb783d8e 0x7fc6eb7910b9 0x7"
    "fc6eb7a1a30 0x7fc6eb7e8a91 0x7fc6eb7e8fc8 0x7fc6eb734ce2 0x7fc6eb73496"
    "9 0x7fc6eb7940b3 0x7fc6eb794301\n"
    "#\t0x7fc6eb7910b8\ttime.startTimer+0x18\t\t\t/usr/lib/go-1.19/src/runt"
    "ime/time.go:215\n"
    "#\t0x7fc6eb7a1a2f\ttime.NewTicker+0xcf\t\t\t/usr/lib/go-1.19/src/time/"
    "tick.go:39\n"
    "#\t0x7fc6eb7e8a90\tmain.OpTickerLeak+0x30\t\t\t/work/main/targets/go/t"
    "imers/main.go:35\n"
    "#\t0x7fc6eb7e8fc7\t_cgoexp_59fc05ffd854_OpTickerLeak+0x27\t_cgo_gotype"
    "s.go:54\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t/usr/lib/go-1.19/src"
    "/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t/usr/lib/go-1.19/src/"
    "runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:994\n"
    "\n"
    "1: 8192 [1: 8192] @ 0x7fc6eb7d8ca8 0x7fc6eb7d891d 0x7fc6eb7d88f8 0x7fc"
    "6eb798982 0x7fc6eb7d8a75 0x7fc6eb7d8a43 0x7fc6eb7d99e5 0x7fc6eb7e1c85 "
    "0x7fc6eb7e71a5 0x7fc6eb7dce25 0x7fc6eb7dca87 0x7fc6eb7db08b 0x7fc6eb7e"
    "85a5 0x7fc6eb7e894c 0x7fc6eb734ce2 0x7fc6eb734969 0x7fc6eb7940b3 0x7fc"
    "6eb794301\n"
    "#\t0x7fc6eb7d8ca7\thash/crc32.slicingMakeTable+0x27\t\t\t/usr/lib/go-1"
    ".19/src/hash/crc32/crc32_generic.go:59\n"
    "#\t0x7fc6eb7d891c\thash/crc32.archInitIEEE+0x5c\t\t\t\t/usr/lib/go-1.1"
    "9/src/hash/crc32/crc32_amd64.go:207\n"
    "#\t0x7fc6eb7d88f7\thash/crc32.ieeeInit+0x37\t\t\t\t/usr/lib/go-1.19/sr"
    "c/hash/crc32/crc32.go:115\n"
    "#\t0x7fc6eb798981\tsync.(*Once).doSlow+0xc1\t\t\t\t/usr/lib/go-1.19/sr"
    "c/sync/once.go:74\n"
    "#\t0x7fc6eb7d8a74\tsync.(*Once).Do+0x94\t\t\t\t\t/usr/lib/go-1.19/src/"
    "sync/once.go:65\n"
    "#\t0x7fc6eb7d8a42\thash/crc32.Update+0x62\t\t\t\t\t/usr/lib/go-1.19/sr"
    "c/hash/crc32/crc32.go:221\n"
    "#\t0x7fc6eb7d99e4\tcompress/gzip.(*Writer).Write+0x344\t\t\t/usr/lib/g"
    "o-1.19/src/compress/gzip/gzip.go:195\n"
    "#\t0x7fc6eb7e1c84\truntime/pprof.(*profileBuilder).build+0x364\t\t/usr"
    "/lib/go-1.19/src/runtime/pprof/proto.go:390\n"
    "#\t0x7fc6eb7e71a4\truntime/pprof.writeHeapProto+0x304\t\t\t/usr/lib/go"
    "-1.19/src/runtime/pprof/protomem.go:65\n"
    "#\t0x7fc6eb7dce24\truntime/pprof.writeHeapInternal+0x304\t\t\t/usr/lib"
    "/go-1.19/src/runtime/pprof/pprof.go:575\n"
    "#\t0x7fc6eb7dca86\truntime/pprof.writeHeap+0x26\t\t\t\t/usr/lib/go-1.1"
    "9/src/runtime/pprof/pprof.go:535\n"
    "#\t0x7fc6eb7db08a\truntime/pprof.(*Profile).WriteTo+0x14a\t\t\t/usr/li"
    "b/go-1.19/src/runtime/pprof/pprof.go:330\n"
    "#\t0x7fc6eb7e85a4\tleakhound.dev/probe.leakhound_go_heap_profile+0x64"
    "\t/work/main/targets/go/probe/probe.go:134\n"
    "#\t0x7fc6eb7e894b\t_cgoexp_ecd5d689b0e3_leakhound_go_heap_profile+0x2b"
    "\t_cgo_gotypes.go:102\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t\t\t/usr/lib/go-1.19"
    "/src/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t\t\t/usr/lib/go-1.19/"
    "src/runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t\t\t/usr/lib/go-1.19/sr"
    "c/runtime/asm_amd64.s:994\n"
    "\n"
    "42: 4032 [42: 4032] @ 0x7fc6eb735a8a 0x7fc6eb7a199f 0x7fc6eb7e8a91 0x7"
    "fc6eb7e8fc8 0x7fc6eb734ce2 0x7fc6eb734969 0x7fc6eb7940b3 0x7fc6eb79430"
    "1\n"
    "#\t0x7fc6eb7a199e\ttime.NewTicker+0x3e\t\t\t/usr/lib/go-1.19/src/time/"
    "tick.go:29\n"
    "#\t0x7fc6eb7e8a90\tmain.OpTickerLeak+0x30\t\t\t/work/main/targets/go/t"
    "imers/main.go:35\n"
    "#\t0x7fc6eb7e8fc7\t_cgoexp_59fc05ffd854_OpTickerLeak+0x27\t_cgo_gotype"
    "s.go:54\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t/usr/lib/go-1.19/src"
    "/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t/usr/lib/go-1.19/src/"
    "runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:994\n"
    "\n"
    "42: 3360 [42: 3360] @ 0x7fc6eb7a19bf 0x7fc6eb7e8a91 0x7fc6eb7e8fc8 0x7"
    "fc6eb734ce2 0x7fc6eb734969 0x7fc6eb7940b3 0x7fc6eb794301\n"
    "#\t0x7fc6eb7a19be\ttime.NewTicker+0x5e\t\t\t/usr/lib/go-1.19/src/time/"
    "tick.go:30\n"
    "#\t0x7fc6eb7e8a90\tmain.OpTickerLeak+0x30\t\t\t/work/main/targets/go/t"
    "imers/main.go:35\n"
    "#\t0x7fc6eb7e8fc7\t_cgoexp_59fc05ffd854_OpTickerLeak+0x27\t_cgo_gotype"
    "s.go:54\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t/usr/lib/go-1.19/src"
    "/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t/usr/lib/go-1.19/src/"
    "runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:994\n"
    "\n"
    "1: 2048 [1: 2048] @ 0x7fc6eb783ecc 0x7fc6eb783d8e 0x7fc6eb7910b9 0x7fc"
    "6eb7a1a30 0x7fc6eb7e8a91 0x7fc6eb7e8fc8 0x7fc6eb734ce2 0x7fc6eb734969 "
    "0x7fc6eb7940b3 0x7fc6eb794301\n"
    "#\t0x7fc6eb7910b8\ttime.startTimer+0x18\t\t\t/usr/lib/go-1.19/src/runt"
    "ime/time.go:215\n"
    "#\t0x7fc6eb7a1a2f\ttime.NewTicker+0xcf\t\t\t/usr/lib/go-1.19/src/time/"
    "tick.go:39\n"
    "#\t0x7fc6eb7e8a90\tmain.OpTickerLeak+0x30\t\t\t/work/main/targets/go/t"
    "imers/main.go:35\n"
    "#\t0x7fc6eb7e8fc7\t_cgoexp_59fc05ffd854_OpTickerLeak+0x27\t_cgo_gotype"
    "s.go:54\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t/usr/lib/go-1.19/src"
    "/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t/usr/lib/go-1.19/src/"
    "runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:994\n"
    "\n"
    "1: 1024 [1: 1024] @ 0x7fc6eb76b8fe 0x7fc6eb76bda8 0x7fc6eb76bd4e 0x7fc"
    "6eb7920c6\n"
    "#\t0x7fc6eb76b8fd\truntime.allocm+0x9d\t\t/usr/lib/go-1.19/src/runtime"
    "/proc.go:1759\n"
    "#\t0x7fc6eb76bda7\truntime.oneNewExtraM+0x27\t/usr/lib/go-1.19/src/run"
    "time/proc.go:1912\n"
    "#\t0x7fc6eb76bd4d\truntime.newextram+0x4d\t\t/usr/lib/go-1.19/src/runt"
    "ime/proc.go:1900\n"
    "#\t0x7fc6eb7920c5\truntime.systemstack+0x45\t/usr/lib/go-1.19/src/runt"
    "ime/asm_amd64.s:492\n"
    "\n"
    "1: 1024 [1: 1024] @ 0x7fc6eb76b8fe 0x7fc6eb76c13b 0x7fc6eb76c7af 0x7fc"
    "6eb76cc8e 0x7fc6eb7703cf 0x7fc6eb7920c6\n"
    "#\t0x7fc6eb76b8fd\truntime.allocm+0x9d\t\t\t/usr/lib/go-1.19/src/runti"
    "me/proc.go:1759\n"
    "#\t0x7fc6eb76c13a\truntime.newm+0x3a\t\t\t/usr/lib/go-1.19/src/runtime"
    "/proc.go:2109\n"
    "#\t0x7fc6eb76c7ae\truntime.startm+0xce\t\t\t/usr/lib/go-1.19/src/runti"
    "me/proc.go:2325\n"
    "#\t0x7fc6eb76cc8d\truntime.handoffp+0x2ed\t\t\t/usr/lib/go-1.19/src/ru"
    "ntime/proc.go:2360\n"
    "#\t0x7fc6eb7703ce\truntime.entersyscallblock_handoff+0x4e\t/usr/lib/go"
    "-1.19/src/runtime/proc.go:3758\n"
    "#\t0x7fc6eb7920c5\truntime.systemstack+0x45\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:492\n"
    "\n"
    "2: 832 [2: 832] @ 0x7fc6eb770948 0x7fc6eb770bfe 0x7fc6eb770b25 0x7fc6e"
    "b7920c6\n"
    "#\t0x7fc6eb770947\truntime.malg+0x27\t\t/usr/lib/go-1.19/src/runtime/p"
    "roc.go:4076\n"
    "#\t0x7fc6eb770bfd\truntime.newproc1+0x7d\t\t/usr/lib/go-1.19/src/runti"
    "me/proc.go:4123\n"
    "#\t0x7fc6eb770b24\truntime.newproc.func1+0x24\t/usr/lib/go-1.19/src/ru"
    "ntime/proc.go:4098\n"
    "#\t0x7fc6eb7920c5\truntime.systemstack+0x45\t/usr/lib/go-1.19/src/runt"
    "ime/asm_amd64.s:492\n"
    "\n"
    "12: 288 [12: 288] @ 0x7fc6eb7a199f 0x7fc6eb7e8a91 0x7fc6eb7e8fc8 0x7fc"
    "6eb734ce2 0x7fc6eb734969 0x7fc6eb7940b3 0x7fc6eb794301\n"
    "#\t0x7fc6eb7a199e\ttime.NewTicker+0x3e\t\t\t/usr/lib/go-1.19/src/time/"
    "tick.go:29\n"
    "#\t0x7fc6eb7e8a90\tmain.OpTickerLeak+0x30\t\t\t/work/main/targets/go/t"
    "imers/main.go:35\n"
    "#\t0x7fc6eb7e8fc7\t_cgoexp_59fc05ffd854_OpTickerLeak+0x27\t_cgo_gotype"
    "s.go:54\n"
    "#\t0x7fc6eb734ce1\truntime.cgocallbackg1+0x2c1\t\t/usr/lib/go-1.19/src"
    "/runtime/cgocall.go:316\n"
    "#\t0x7fc6eb734968\truntime.cgocallbackg+0x108\t\t/usr/lib/go-1.19/src/"
    "runtime/cgocall.go:235\n"
    "#\t0x7fc6eb7940b2\truntime.cgocallback+0xb2\t\t/usr/lib/go-1.19/src/ru"
    "ntime/asm_amd64.s:994\n"
    "\n"
    "# runtime.MemStats\n"
    "# Alloc = 1055160\n"
    "# TotalAlloc = 4187608\n"
    "# Sys = 18986248\n";

/* Hand-edited from the debug=2 format: goroutines that aged ("2 minutes")
 * or are locked to a thread stay in their group; the same frames in
 * another state are another group; a goroutine stuck in the standard
 * library is blamed on its caller; the probe's own goroutine is left out. */
static const char states_base[] =
    "goroutine 1 [running]:\n"
    "leakhound.dev/probe.allStacks()\n"
    "\t/src/probe/probe.go:144 +0x66\n"
    "\n"
    "goroutine 5 [chan send]:\n"
    "main.lookupLeaky.func1(0x0?)\n"
    "\t/src/svc/goroutines/lookup.go:30 +0x29\n"
    "created by main.lookupLeaky\n"
    "\t/src/svc/goroutines/lookup.go:30 +0x45\n"
    "\n"
    "goroutine 6 [chan send]:\n"
    "main.lookupLeaky.func1(0x0?)\n"
    "\t/src/svc/goroutines/lookup.go:30 +0x29\n"
    "created by main.lookupLeaky\n"
    "\t/src/svc/goroutines/lookup.go:30 +0x45\n";

#define LEAKY_BLOCK(hdr)                                                   \
    "goroutine " hdr ":\n"                                                 \
    "main.lookupLeaky.func1(0x0?)\n"                                       \
    "\t/src/svc/goroutines/lookup.go:30 +0x29\n"                           \
    "created by main.lookupLeaky\n"                                        \
    "\t/src/svc/goroutines/lookup.go:30 +0x45\n"                           \
    "\n"

static const char states_end[] =
    "goroutine 1 [running]:\n"
    "leakhound.dev/probe.allStacks()\n"
    "\t/src/probe/probe.go:144 +0x66\n"
    "\n"
    LEAKY_BLOCK("5 [chan send, 2 minutes]")
    LEAKY_BLOCK("6 [chan send, 2 minutes]")
    LEAKY_BLOCK("7 [chan send]")
    LEAKY_BLOCK("8 [chan send, locked to thread]")
    "goroutine 9 [semacquire]:\n"
    "sync.runtime_Semacquire(0x0?)\n"
    "\t/usr/lib/go-1.19/src/runtime/sema.go:62 +0x25\n"
    "sync.(*WaitGroup).Wait(0x0?)\n"
    "\t/usr/lib/go-1.19/src/sync/waitgroup.go:139 +0x52\n"
    "main.waiter(0x0?)\n"
    "\t/tmp/gprof/main.go:15 +0x19\n"
    "created by main.main\n"
    "\t/tmp/gprof/main.go:24 +0xfc\n"
    "\n"
    LEAKY_BLOCK("10 [chan receive]")
    "goroutine 11 [select]:\n"
    "leakhound.dev/probe.waitFinalizers({0xc0000a4000?, 0x0?, 0x0?})\n"
    "\t/src/probe/settle.go:58 +0x85\n"
    "created by leakhound.dev/probe.settle\n"
    "\t/src/probe/settle.go:30 +0x45\n";

/* Hand-made in the debug=1 heap format with -trimpath paths (so no GOROOT
 * to tell the standard library by): the package-path rule decides. */
static const char trimmed_base[] =
    "heap profile: 0: 0 [0: 0] @ heap/8192\n";
static const char trimmed_end[] =
    "heap profile: 10: 10240 [10: 10240] @ heap/8192\n"
    "8: 8192 [8: 8192] @ 0x4 0x5\n"
    "#\t0x4\truntime.malg+0x27\t\truntime/proc.go:4076\n"
    "#\t0x5\truntime.newproc1+0x7d\truntime/proc.go:4123\n"
    "\n"
    "2: 2048 [2: 2048] @ 0x1 0x2 0x3\n"
    "#\t0x1\ttime.NewTicker+0x3e\t\t\ttime/tick.go:29\n"
    "#\t0x2\texample.com/svc.(*S).Tick+0x30\texample.com/svc/tick.go:10\n"
    "#\t0x3\tmain.main+0x10\t\t\t\texample.com/svc/cmd/main.go:5\n"
    "\n"
    "# runtime.MemStats\n"
    "# Alloc = 306528\n";

/* Not a real profile: write_heap_profile copies bytes, it does not look. */
static const char fake_pb[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
                              "pretend protobuf";

/* ---- a fake probe ------------------------------------------------------- */

static const char *serve_stacks, *serve_profile, *serve_heap;

static int64_t serve(const char *text, size_t len, char *buf, int64_t cap)
{
    if (buf && cap > 0) {
        size_t n = len < (size_t)cap ? len : (size_t)cap;
        memcpy(buf, text, n);
        if (n < (size_t)cap)
            buf[n] = '\0';
    }
    return (int64_t)len;
}

static int64_t fake_stacks(char *buf, int64_t cap)
{
    return serve(serve_stacks, strlen(serve_stacks), buf, cap);
}

static int64_t fake_profile(char *buf, int64_t cap)
{
    return serve(serve_profile, strlen(serve_profile), buf, cap);
}

static int64_t fake_heap(char *buf, int64_t cap, int64_t debug)
{
    if (debug == 0)
        return serve(fake_pb, sizeof fake_pb - 1, buf, cap);
    return serve(serve_heap, strlen(serve_heap), buf, cap);
}

/* Label sets the fake probe was asked for, and the last set it ran a
 * step under. */
static char fake_sets[8][600];
static int64_t fake_set_len[8];
static int fake_nsets;
static int64_t fake_ran_under = -1;

static int64_t fake_label_set(const char *kv, int64_t n)
{
    if (fake_nsets == 8 || n > (int64_t)sizeof fake_sets[0])
        return -1;
    memcpy(fake_sets[fake_nsets], kv, (size_t)n);
    fake_set_len[fake_nsets] = n;
    return 100 + fake_nsets++;
}

static void fake_call_labeled(int64_t set, void (*fn)(void *), void *arg)
{
    fake_ran_under = set;
    fn(arg);
}

/* A text that grows on each call so that it never fits the buffer the
 * caller brings, for as many calls as grow_calls says. */
static char grow_text[8 << 20];
static size_t grow_len;
static int grow_blocks, grow_calls, grow_seen;

static void grow_reset(void)
{
    grow_len = (size_t)snprintf(grow_text, sizeof grow_text,
                                "goroutine 1 [running]:\nmain.main()\n"
                                "\t/src/main.go:3 +0x1\n\n");
    grow_blocks = grow_calls = grow_seen = 0;
}

static int64_t fake_growing(char *buf, int64_t cap)
{
    grow_seen++;
    if (grow_calls > 0) {
        grow_calls--;
        while (grow_len <= (size_t)cap && grow_len + 256 < sizeof grow_text)
            grow_len += (size_t)snprintf(
                grow_text + grow_len, sizeof grow_text - grow_len,
                "goroutine %d [chan send]:\nmain.leak.func1()\n"
                "\t/src/leak.go:9 +0x1b\ncreated by main.leak\n"
                "\t/src/leak.go:8 +0x45\n\n", 100 + grow_blocks++);
    }
    return serve(grow_text, grow_len, buf, cap);
}

static lh_target fake_target(int stacks, int profile, int heap)
{
    lh_target t;
    memset(&t, 0, sizeof t);
    t.has_go = 1;
    if (stacks)
        t.go.goroutine_stacks = fake_stacks;
    if (profile)
        t.go.goroutine_profile = fake_profile;
    if (heap)
        t.go.heap_profile = fake_heap;
    return t;
}

/* Snapshots of two fixture states through the fake probe. */
static void snap2(lh_target *t, const char *stacks0, const char *heap0,
                  const char *stacks1, const char *heap1, lh_gosnap **a,
                  lh_gosnap **b)
{
    serve_stacks = serve_profile = stacks0;
    serve_heap = heap0;
    *a = lh_godiag_snapshot(t);
    serve_stacks = serve_profile = stacks1;
    serve_heap = heap1;
    *b = lh_godiag_snapshot(t);
}

/* pprof's estimate of what a record of sampled objects stands for. */
static double est(double objects, double bytes, double *objects_out)
{
    double scale = 1 / (1 - exp(-(bytes / objects) / 4096.0));
    if (objects_out)
        *objects_out += objects * scale;
    return bytes * scale;
}

static int near(double got, double want)
{
    return fabs(got - want) <= 1e-6 * fabs(want) + 1e-9;
}


/* A Go heap leak held inside a dependency module (example.com/metrics,
 * a histogram per label value), from a hand-written profile in the form
 * of the real ones: the target's own frame is main.observe. */
static const char deps_base[] =
    "heap profile: 1: 64 [1: 64] @ heap/8192\n"
    "1: 64 [1: 64] @ 0x1 0x2\n"
    "#\t0x1\tmain.init+0x1\t\t/src/svc/main.go:3\n"
    "#\t0x2\truntime.main+0x1\t\t/usr/lib/go-1.19/src/runtime/proc.go:2\n"
    "\n";
static const char deps_end[] =
    "heap profile: 1: 64 [1: 64] @ heap/8192\n"
    "1: 64 [1: 64] @ 0x1 0x2\n"
    "#\t0x1\tmain.init+0x1\t\t/src/svc/main.go:3\n"
    "#\t0x2\truntime.main+0x1\t\t/usr/lib/go-1.19/src/runtime/proc.go:2\n"
    "\n"
    "40: 32768 [40: 32768] @ 0x3 0x4 0x5 0x6 0x7 0x8\n"
    "#\t0x3\texample.com/metrics.newHistogram+0x1\t/mod/metrics/metrics.go:58"
    "\n"
    "#\t0x4\texample.com/metrics.(*HistogramVec).With+0x1\t/mod/metrics/"
    "metrics.go:44\n"
    "#\t0x5\tmain.observe+0x1\t\t/src/svc/client.go:87\n"
    "#\t0x6\tleakhound.dev/targets/internal/cin.Each+0x1\t/src/internal/"
    "cin/cin.go:9\n"
    "#\t0x7\tmain.OpGet+0x1\t\t/src/svc/main.go:20\n"
    "#\t0x8\truntime.cgocallback+0x1\t/usr/lib/go-1.19/src/runtime/asm_"
    "amd64.s:994\n"
    "\n";

static const char *serve_build_info = "";

static int64_t fake_build_info(char *buf, int64_t cap)
{
    return serve(serve_build_info, strlen(serve_build_info), buf, cap);
}

/* ---- tests -------------------------------------------------------------- */

static void test_goroutines_fixture(void)
{
    lh_target t = fake_target(1, 1, 1);
    lh_gosnap *a, *b;
    snap2(&t, stacks_base, heap_base, stacks_end, heap_end, &a, &b);
    if (!check(a && b, "fixture snapshots"))
        goto out;
    lh_site s[8];
    int n = lh_godiag_goroutines(a, b, s, 8);
    if (!check(n == 1, "one goroutine group grew (got %d)", n))
        goto out;
    check(strcmp(s[0].func, "main.OpGoroutineLeakAlways.func1") == 0,
          "func is the goroutine's own: %s", s[0].func);
    check(strcmp(s[0].location, "goroutines/main.go:37") == 0,
          "location keeps two path components: %s", s[0].location);
    check(strcmp(s[0].detail, "chan send; created by "
                 "main.OpGoroutineLeakAlways main.go:37") == 0,
          "detail: state and creator: '%s'", s[0].detail);
    check(s[0].count == 3 && s[0].bytes == 0,
          "count = 3 goroutines (5 - 2), bytes 0: %g, %g", s[0].count,
          s[0].bytes);
    check(strcmp(s[0].folded, "main.OpGoroutineLeakAlways.func1") == 0,
          "folded: %s", s[0].folded);
    check(lh_godiag_goroutines(b, a, s, 8) == 0,
          "end -> base: nothing grew");
    check(lh_godiag_goroutines(b, b, s, 8) == 0, "same snapshot: nothing");
    check(lh_godiag_goroutines(a, b, s, 0) == 0, "max 0: nothing written");
    check(lh_godiag_goroutines(NULL, b, s, 8) == 0 &&
          lh_godiag_goroutines(a, NULL, s, 8) == 0, "NULL snapshot: 0");
out:
    lh_godiag_free(a);
    lh_godiag_free(b);
}

static void test_states(void)
{
    lh_target t = fake_target(1, 0, 0);
    lh_gosnap *a, *b;
    snap2(&t, states_base, NULL, states_end, NULL, &a, &b);
    if (!check(a && b, "state fixtures: snapshots without a heap profile"))
        goto out;
    lh_site s[8];
    int n = lh_godiag_goroutines(a, b, s, 8);
    if (!check(n == 3, "3 groups grew, the probe's own left out (got %d)",
               n))
        goto out;
    check(strcmp(s[0].func, "main.lookupLeaky.func1") == 0 &&
          s[0].count == 2 && strncmp(s[0].detail, "chan send;", 10) == 0,
          "aged and thread-locked 'chan send' stay one group: %s +%g '%s'",
          s[0].func, s[0].count, s[0].detail);
    check(strcmp(s[1].func, "main.waiter") == 0 &&
          strcmp(s[1].location, "gprof/main.go:15") == 0 &&
          strcmp(s[1].detail, "semacquire in sync.(*WaitGroup).Wait "
                 "waitgroup.go:139; created by main.main main.go:24") == 0,
          "blocked in the standard library: blame the caller: %s %s '%s'",
          s[1].func, s[1].location, s[1].detail);
    check(strcmp(s[1].folded, "main.waiter;sync.(*WaitGroup).Wait;"
                 "sync.runtime_Semacquire") == 0,
          "folded root first: %s", s[1].folded);
    check(strcmp(s[2].func, "main.lookupLeaky.func1") == 0 &&
          s[2].count == 1 && strncmp(s[2].detail, "chan receive;", 13) == 0,
          "same frames, other state: its own group: +%g '%s'", s[2].count,
          s[2].detail);
    check(lh_godiag_heap(a, b, s, 8) == 0, "no heap profile: no heap sites");
out:
    lh_godiag_free(a);
    lh_godiag_free(b);
}

static void test_heap_fixture(void)
{
    lh_target t = fake_target(1, 1, 1);
    lh_gosnap *a, *b;
    snap2(&t, stacks_base, heap_base, stacks_end, heap_end, &a, &b);
    if (!check(a && b, "heap fixture snapshots"))
        goto out;
    lh_site s[8];
    int n = lh_godiag_heap(a, b, s, 8);
    /* Three stacks grew under main.OpTickerLeak (the Ticker, its channel,
     * the timer heap), none of them half of it: one site, the function's,
     * whose detail lists them heaviest first.  Runtime ones did not grow,
     * the probe's is left out. */
    if (!check(n == 1, "3 stacks grew under one function of the target's "
               "own: one site; runtime ones did not, the probe's is left "
               "out (got %d)", n))
        goto out;
    check(strcmp(s[0].func, "main.OpTickerLeak") == 0 &&
          strcmp(s[0].location, "timers/main.go:35") == 0,
          "the site blames NewTicker's caller: %s %s", s[0].func,
          s[0].location);
    /* tick.go:29 is listed twice in the end profile (96- and 24-byte
     * objects): one stack, summed. */
    double o0 = 0, ob = 0;
    double b0 = est(42, 4032, &o0) + est(12, 288, &o0) - est(2, 192, &ob);
    o0 -= ob;
    double o1 = 0, o1b = 0;
    double b1 = est(42, 3360, &o1) - est(2, 160, &o1b);
    o1 -= o1b;
    double o2 = 0;
    double b2 = est(1, 20480, &o2);
    double sum = b0 + b1 + b2;
    check(near(s[0].bytes, sum) && near(s[0].count, o0 + o1 + o2),
          "sampled records scaled as pprof does, one stack summed over "
          "sizes, the three stacks summed: %.1f B %.2f objects (want %.1f, "
          "%.2f)", s[0].bytes, s[0].count, sum, o0 + o1 + o2);
    char want[256];
    snprintf(want, sizeof want, "allocated in time.NewTicker tick.go:29 "
             "(%.0f%%); time.NewTicker tick.go:30 (%.0f%%); time.startTimer "
             "time.go:215 (%.0f%%)", 100 * b0 / sum, 100 * b1 / sum,
             100 * b2 / sum);
    check(b0 > b1 && b1 > b2 && strcmp(s[0].detail, want) == 0,
          "detail: each stack's library frame and share, largest first: "
          "'%s' (want '%s')", s[0].detail, want);
    check(strcmp(s[0].folded, "runtime.cgocallback;runtime.cgocallbackg;"
                 "runtime.cgocallbackg1;_cgoexp_59fc05ffd854_OpTickerLeak;"
                 "main.OpTickerLeak;time.NewTicker") == 0,
          "folded: the largest stack's, root first: %s", s[0].folded);
    int probe = 0;
    for (int i = 0; i < n; i++)
        probe |= strstr(s[i].folded, "leakhound.dev/probe") != NULL;
    check(!probe, "the probe's own allocations are not blamed");
    check(lh_godiag_heap(a, b, s, 1) == 1, "max 1: one site");
    check(lh_godiag_heap(b, a, s, 8) == 0, "end -> base: nothing grew");
out:
    lh_godiag_free(a);
    lh_godiag_free(b);
}

static void test_trimmed_paths(void)
{
    lh_target t = fake_target(1, 0, 1);
    lh_gosnap *a, *b;
    snap2(&t, stacks_base, trimmed_base, stacks_base, trimmed_end, &a, &b);
    if (!check(a && b, "-trimpath heap fixtures"))
        goto out;
    lh_site s[8];
    int n = lh_godiag_heap(a, b, s, 8);
    if (!check(n == 2, "2 sites (got %d)", n))
        goto out;
    check(strcmp(s[0].func, "example.com/svc.(*S).Tick") == 0 &&
          strcmp(s[0].location, "svc/tick.go:10") == 0 &&
          strcmp(s[0].detail, "allocated in time.NewTicker tick.go:29") == 0,
          "no GOROOT in the paths: 'time' is the library by its package "
          "path, example.com/svc is not: %s %s '%s'", s[0].func,
          s[0].location, s[0].detail);
    check(strcmp(s[1].func, "runtime.malg") == 0 && s[1].bytes > s[0].bytes &&
          strstr(s[1].detail, "goroutine") != NULL,
          "runtime-only stack last though larger, detail says why: %.0f B "
          "'%s'", s[1].bytes, s[1].detail);
out:
    lh_godiag_free(a);
    lh_godiag_free(b);
}


/* The target's own code is what the build info does not list as a
 * dependency: a leak held in a metrics module's newHistogram names the
 * caller that passed the label, with the library path as detail; without
 * build info (an older probe), the first frame outside the standard
 * library, as before. */
static void test_own_packages(void)
{
    for (int old = 0; old < 2; old++) {
        lh_target t = fake_target(1, 0, 1);
        serve_build_info = "path\tleakhound.dev/targets/svc\n"
                           "mod\tleakhound.dev/targets\n"
                           "dep\texample.com/metrics\n"
                           "dep\tleakhound.dev/probe\n";
        if (!old)
            t.go.build_info = fake_build_info;
        lh_gosnap *a, *b;
        snap2(&t, stacks_base, deps_base, stacks_base, deps_end, &a, &b);
        lh_site s[4];
        int n = a && b ? lh_godiag_heap(a, b, s, 4) : 0;
        if (!old) {
            check(n == 1 && strcmp(s[0].func, "main.observe") == 0 &&
                  strcmp(s[0].location, "svc/client.go:87") == 0,
                  "own packages: a dependency's frames are not blamed: "
                  "%s %s", n ? s[0].func : "-", n ? s[0].location : "-");
            check(n == 1 && strcmp(s[0].detail, "allocated in "
                  "example.com/metrics.(*HistogramVec).With → "
                  "example.com/metrics.newHistogram metrics.go:58") == 0,
                  "own packages: the library path is the detail: '%s'",
                  n ? s[0].detail : "-");
        } else {
            check(n == 1 &&
                  strcmp(s[0].func, "example.com/metrics.newHistogram") == 0,
                  "no build info: the first frame outside the standard "
                  "library, as before: %s", n ? s[0].func : "-");
        }
        lh_godiag_free(a);
        lh_godiag_free(b);
    }
}

static void test_old_probe(void)
{
    lh_target t = fake_target(0, 1, 0);
    lh_gosnap *a, *b;
    snap2(&t, profile_base, NULL, profile_end, NULL, &a, &b);
    if (!check(a && b, "probe without the new exports: debug=1 profile"))
        goto out;
    lh_site s[8];
    int n = lh_godiag_goroutines(a, b, s, 8);
    check(n == 1 && strcmp(s[0].func, "main.lookupLeaky.func1") == 0 &&
          strcmp(s[0].location, "goroutines/lookup.go:30") == 0 &&
          s[0].count == 3 && s[0].detail[0] == '\0',
          "grouped by stack, no state or creator to tell: %s %s +%g '%s'",
          n > 0 ? s[0].func : "", n > 0 ? s[0].location : "",
          n > 0 ? s[0].count : 0, n > 0 ? s[0].detail : "");
    check(lh_godiag_heap(a, b, s, 8) == 0, "no heap profile: no sites");
    errno = 0;
    check(lh_godiag_write_heap_profile(b, "/tmp/never-written") == -1 &&
          errno == ENODATA && access("/tmp/never-written", F_OK) < 0,
          "nothing to write: -1, ENODATA");
out:
    lh_godiag_free(a);
    lh_godiag_free(b);

    lh_target none;
    memset(&none, 0, sizeof none);
    check(lh_godiag_snapshot(&none) == NULL && lh_godiag_snapshot(NULL) ==
          NULL, "no Go probe: no snapshot");
    lh_godiag_free(NULL);
}

static void test_growing_text(void)
{
    lh_target t;
    memset(&t, 0, sizeof t);
    t.has_go = 1;
    t.go.goroutine_stacks = fake_growing;

    grow_reset();
    lh_gosnap *a = lh_godiag_snapshot(&t);
    grow_calls = 2;
    lh_gosnap *b = lh_godiag_snapshot(&t);
    lh_site s[4];
    int n = lh_godiag_goroutines(a, b, s, 4);
    check(n == 1 && s[0].count == grow_blocks && grow_len > (256 << 10),
          "text outgrew the buffer twice (%zu B): retried, all %d "
          "goroutines counted (got %g)", grow_len, grow_blocks,
          n == 1 ? s[0].count : -1.0);
    lh_godiag_free(b);

    grow_calls = 1000;
    grow_seen = 0;
    b = lh_godiag_snapshot(&t);
    check(b == NULL && grow_seen == 8,
          "text that never fits: gives up after %d calls", grow_seen);
    lh_godiag_free(b);
    lh_godiag_free(a);
}

static void test_write(void)
{
    lh_target t = fake_target(1, 1, 1);
    serve_stacks = stacks_end;
    serve_heap = heap_end;
    lh_gosnap *s = lh_godiag_snapshot(&t);
    char path[256];
    snprintf(path, sizeof path, "/tmp/test-godiag-%ld.pb.gz", (long)getpid());
    int rc = lh_godiag_write_heap_profile(s, path);
    char back[64] = "";
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(back, 1, sizeof back, f) : 0;
    if (f)
        fclose(f);
    check(rc == 0 && got == sizeof fake_pb - 1 &&
          memcmp(back, fake_pb, got) == 0,
          "write_heap_profile writes the probe's protobuf as is");
    unlink(path);
    errno = 0;
    check(lh_godiag_write_heap_profile(s, "/nonexistent-dir/x.pb.gz") == -1
          && errno == ENOENT, "unwritable path: -1 with errno");
    lh_godiag_free(s);
}

static void test_heap_untouched(void)
{
    lh_target t = fake_target(1, 1, 1);
    lh_heap_stats h0, h1;
    lh_heap_read(&h0);
    for (int i = 0; i < 10; i++) {
        lh_gosnap *a, *b;
        lh_site s[8];
        snap2(&t, stacks_base, heap_base, stacks_end, heap_end, &a, &b);
        lh_godiag_goroutines(a, b, s, 8);
        lh_godiag_heap(a, b, s, 8);
        lh_godiag_free(a);
        lh_godiag_free(b);
    }
    lh_heap_read(&h1);
    check(h0.total_allocs == h1.total_allocs && h0.live_bytes == h1.live_bytes,
          "snapshot/diff/free never touch the counted heap (%llu allocs)",
          (unsigned long long)(h1.total_allocs - h0.total_allocs));
}

/* ---- the live library --------------------------------------------------- */

static void count_call(void *arg)
{
    ++*(int *)arg;
}

static void test_labels(void)
{
    lh_target t = fake_target(1, 1, 0);
    t.go.label_set = fake_label_set;
    t.go.call_labeled = fake_call_labeled;
    lh_target old = fake_target(1, 1, 0);
    check(lh_godiag_label_steps(&old, "w", 2) == -1,
          "labels: a probe without label_set cannot label steps");
    const char *name = "w \"q\"\t\x01\xc2\xad";
    if (!check(lh_godiag_label_steps(&t, name, 3) == 0 && fake_nsets == 3,
               "labels: one label set per thread (%d)", fake_nsets))
        return;
    static const char want1[] = "leakhound.workload\0w \"q\"\t\x01\xc2\xad"
                                "\0leakhound.thread\0" "1";
    check(fake_set_len[1] == sizeof want1 &&
          memcmp(fake_sets[1], want1, sizeof want1) == 0,
          "labels: thread 1's set is workload and thread, NUL-separated");
    int calls = 0;
    lh_godiag_call_labeled(1, count_call, &calls);
    check(calls == 1 && fake_ran_under == 101,
          "labels: a step runs under its thread's set");
    fake_ran_under = -1;
    lh_godiag_call_labeled(7, count_call, &calls);
    check(calls == 2 && fake_ran_under == -1,
          "labels: a thread without a set runs its step unlabeled");

    serve_stacks = stacks_base;
    serve_profile = lab_base;
    lh_gosnap *a = lh_godiag_snapshot(&t);
    serve_stacks = stacks_end;
    serve_profile = lab_end;
    lh_gosnap *b = lh_godiag_snapshot(&t);
    lh_site s[8];
    int n = a && b ? lh_godiag_goroutines(a, b, s, 8) : 0;
    if (check(n == 1 && s[0].count == 3, "labels: one site, +3 (%d)", n)) {
        check(strcmp(s[0].labels, "{\"leakhound.thread\":\"1,2\","
                     "\"leakhound.workload\":\"w \\\"q\\\"\\t\\u0001"
                     "\xc2\xad\"}") == 0,
              "labels: JSON object, threads joined, Go escapes undone: %s",
              s[0].labels);
        check(strcmp(s[0].detail, "chan send; created by "
                     "main.OpGoroutineLeakAlways main.go:37 (steps of "
                     "threads 1,2; 1 not attributable to a step)") == 0,
              "labels: detail names the threads: '%s'", s[0].detail);
    }
    lh_godiag_free(a);
    lh_godiag_free(b);

    serve_stacks = stacks_base;
    serve_profile = lab_base;
    a = lh_godiag_snapshot(&t);
    serve_stacks = stacks_end;      /* the profile did not see it grow */
    b = lh_godiag_snapshot(&t);
    n = a && b ? lh_godiag_goroutines(a, b, s, 8) : 0;
    check(n == 1 && strcmp(s[0].labels, "") == 0,
          "labels: stack not in the profile's growth: labels unknown ('%s')",
          n ? s[0].labels : "");
    lh_godiag_free(a);
    lh_godiag_free(b);
    serve_stacks = stacks_base;
    serve_profile = lab_base;
    a = lh_godiag_snapshot(&t);
    static char unlabeled_end[sizeof lab_base + 16];
    snprintf(unlabeled_end, sizeof unlabeled_end, "%s", lab_base);
    unlabeled_end[strlen("goroutine profile: total 3\n")] = '5';
    serve_stacks = stacks_end;
    serve_profile = unlabeled_end;
    b = lh_godiag_snapshot(&t);
    n = a && b ? lh_godiag_goroutines(a, b, s, 8) : 0;
    check(n == 1 && strcmp(s[0].labels, "{}") == 0 &&
          strstr(s[0].detail, "main.go:37 (not attributable to a step)"),
          "labels: unlabeled growth: {} and '%s'", n ? s[0].detail : "");
    lh_godiag_free(a);
    lh_godiag_free(b);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_live(void)
{
    const char *path = getenv("LIBGOROUTINES");
    if (!path || !*path) {
        printf("skip live: LIBGOROUTINES not set (Go targets not built)\n");
        return;
    }
    char err[512];
    lh_target *t = lh_target_get(path, err, sizeof err);
    if (!check(t && t->has_go,
               "live: %s loads with the probe", path))
        return;
    check(t->go.goroutine_stacks && t->go.heap_profile,
          "live: the probe exports goroutine_stacks and heap_profile");
    lh_op_fn op = lh_target_op(t, "OpGoroutineLeak", err, sizeof err);
    if (!check(op != NULL, "live: OpGoroutineLeak found") ||
        !t->go.goroutine_stacks || !t->go.heap_profile)
        return;

    /* The order the worker should use: settle, snapshot, settle again
     * (the snapshot's own garbage), then the baseline reading. */
    enum { CALLS = 300 };
    t->go.settle();
    double t0 = now();
    lh_gosnap *a = lh_godiag_snapshot(t);
    double t1 = now();
    t->go.settle();
    int64_t m0[3], m1[3];
    t->go.memstats(m0);
    for (int i = 0; i < CALLS; i++)
        op((const uint8_t *)"SLOW-live", 9);
    t->go.settle();
    t->go.memstats(m1);
    lh_gosnap *b = lh_godiag_snapshot(t);
    if (!check(a && b, "live: snapshots (%.1f ms)", (t1 - t0) * 1e3))
        goto out;

    lh_site s[64];
    int n = lh_godiag_goroutines(a, b, s, 64);
    check(n >= 1 && strcmp(s[0].func, "main.lookupLeaky.func1") == 0 &&
          s[0].count == CALLS,
          "live: top goroutine site %s +%g (want main.lookupLeaky.func1 "
          "+%d)", n ? s[0].func : "(none)", n ? s[0].count : 0.0, CALLS);
    check(n >= 1 && strncmp(s[0].detail, "chan send; created by "
                            "main.lookupLeaky lookup.go:", 38) == 0 &&
          strncmp(s[0].location, "goroutines/lookup.go:", 21) == 0,
          "live: '%s' at %s", n ? s[0].detail : "", n ? s[0].location : "");

    n = lh_godiag_heap(a, b, s, 64);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += s[i].bytes;
    double grew = (double)(m1[0] - m0[0]);
    check(n >= 1 && strncmp(s[0].func, "main.lookupLeaky", 16) == 0,
          "live: top heap site %s %s", n ? s[0].func : "(none)",
          n ? s[0].location : "");
    /* ~45 samples at MemProfileRate 4096: within a factor of 2 unless the
     * rate did not take effect at once (then next to nothing). */
    check(grew > 0 && sum > 0.5 * grew && sum < 2 * grew,
          "live: heap sites add up to the Go heap's growth: %.0f B vs "
          "%.0f B", sum, grew);

    char out[256];
    snprintf(out, sizeof out, "/tmp/test-godiag-live-%ld.pb.gz",
             (long)getpid());
    unsigned char magic[2] = { 0, 0 };
    int rc = lh_godiag_write_heap_profile(b, out);
    FILE *f = fopen(out, "rb");
    if (f) {
        if (fread(magic, 1, 2, f) != 2)
            magic[0] = 0;
        fclose(f);
    }
    unlink(out);
    check(rc == 0 && magic[0] == 0x1f && magic[1] == 0x8b,
          "live: heap profile written, gzip");
out:
    lh_godiag_free(a);
    lh_godiag_free(b);
}

/* The live library through real threads: which thread's step started a
 * goroutine, and what a labeled call costs. */
typedef struct live_thread {
    lh_op_fn op;
    int index, leaks;
    pthread_t tid;
} live_thread;

static void live_step(void *arg)
{
    live_thread *lt = arg;
    lt->op((const uint8_t *)"SLOW-labeled", 12);
}

static void *live_main(void *arg)
{
    live_thread *lt = arg;
    for (int i = 0; i < lt->leaks; i++)
        lh_godiag_call_labeled(lt->index, live_step, lt);
    return NULL;
}

static lh_target *live_target;
static int64_t live_sink;

static void one_go_call(void *arg)
{
    (void)arg;
    live_sink += live_target->go.goroutines();
}

static void no_call(void *arg)
{
    (void)arg;
}

static void test_live_labels(void)
{
    const char *path = getenv("LIBGOROUTINES");
    if (!path || !*path)
        return;
    char err[512];
    lh_target *t = lh_target_get(path, err, sizeof err);
    if (!t || !t->has_go)
        return;
    lh_op_fn op = lh_target_op(t, "OpGoroutineLeak", err, sizeof err);
    if (!check(op && t->go.label_set && t->go.call_labeled,
               "live labels: the probe exports label_set and call_labeled"))
        return;
    if (!check(lh_godiag_label_steps(t, "live", 3) == 0,
               "live labels: label sets made"))
        return;
    t->go.settle();
    lh_gosnap *a = lh_godiag_snapshot(t);
    live_thread lt[3] = { { op, 0, 20, 0 }, { op, 1, 0, 0 },
                          { op, 2, 40, 0 } };
    for (int i = 0; i < 3; i++)
        pthread_create(&lt[i].tid, NULL, live_main, &lt[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(lt[i].tid, NULL);
    for (int i = 0; i < 10; i++)        /* outside any step */
        op((const uint8_t *)"SLOW-unlabeled", 14);
    t->go.settle();
    lh_gosnap *b = lh_godiag_snapshot(t);
    lh_site s[8];
    int n = a && b ? lh_godiag_goroutines(a, b, s, 8) : 0;
    check(n >= 1 && strcmp(s[0].func, "main.lookupLeaky.func1") == 0 &&
          s[0].count == 70, "live labels: +70 goroutines on one site (%s "
          "+%g)", n ? s[0].func : "", n ? s[0].count : 0.0);
    check(n >= 1 && strcmp(s[0].labels, "{\"leakhound.thread\":\"0,2\","
                           "\"leakhound.workload\":\"live\"}") == 0,
          "live labels: threads 0 and 2 started them: %s",
          n ? s[0].labels : "");
    check(n >= 1 && strstr(s[0].detail, "(steps of threads 0,2; 10 not "
                           "attributable to a step)"),
          "live labels: '%s'", n ? s[0].detail : "");
    lh_godiag_free(a);
    lh_godiag_free(b);

    /* Cost: a step that calls Go once, labeled or not, and a labeled step
     * that does not call Go at all.  Informational: timing is no test. */
    enum { N = 20000 };
    live_target = t;
    double t0 = now();
    for (int i = 0; i < N; i++)
        one_go_call(NULL);
    double t1 = now();
    for (int i = 0; i < N; i++)
        lh_godiag_call_labeled(0, one_go_call, NULL);
    double t2 = now();
    for (int i = 0; i < N; i++)
        lh_godiag_call_labeled(0, no_call, NULL);
    double t3 = now();
    printf("info: one Go call %.2f us; labeled step with one Go call "
           "%.2f us; labeled step without %.2f us\n", (t1 - t0) / N * 1e6,
           (t2 - t1) / N * 1e6, (t3 - t2) / N * 1e6);
}

/* The cgo caller (cgocaller.c): a stack is extended with the Go stack
 * only when the innermost frame in the Go target's code or stubs is a cgo
 * stub -- C called from Go through cgo -- never when the runtime itself
 * called C (a Go text frame first: x_cgo_thread_start under asmcgocall) or
 * for other stacks; and the site names the target's own Go caller. */
static int fake_callers_calls;

static int64_t fake_cgo_callers(uintptr_t *out, int64_t max)
{
    fake_callers_calls++;
    static const uintptr_t go[] = { 0x9001, 0x9002, 0x9003, 0x9004 };
    int64_t n = max < 4 ? max : 4;
    memcpy(out, go, (size_t)n * sizeof *out);
    return n;
}

static int64_t fake_frames(const uintptr_t *pcs, int64_t n, char *buf,
                           int64_t cap)
{
    static const char text[] =
        "main._Cfunc_CString\t_cgo_gotypes.go:12\n"
        "example.com/logkit.(*Log).Line\t/mod/logkit/log.go:40\n"
        "main.auditLeaky\t/src/svc/audit.go:35\n"
        "main.OpAudit\t/src/svc/main.go:20\n";
    if (n != 4 || pcs[0] != 0x9001)
        return serve("", 0, buf, cap);
    return serve(text, sizeof text - 1, buf, cap);
}

static void test_cgo_caller(void)
{
    static lh_target t;
    static const lh_cgo_range stubs[] = { { 0x3000, 0x3100 },
                                          { 0x3200, 0x3280 } };
    t.has_go = 1;
    t.go.cgo_callers = fake_cgo_callers;
    t.go.frames = fake_frames;
    t.go.build_info = fake_build_info;
    serve_build_info = "mod\tleakhound.dev/svc\ndep\texample.com/logkit\n";
    lh_gocgo_publish(&t, (lh_cgo_range){ 0x1000, 0x2000 }, stubs, 2);

    uintptr_t out[LH_SITE_MAX_FRAMES];
    /* return addresses: each names the instruction before it */
    const uintptr_t in_cgo[] = { 0x5001, 0x3211, 0x1801 };
    const uintptr_t runtime_calls_c[] = { 0x5001, 0x1501, 0x3011 };
    const uintptr_t plain_c[] = { 0x5001, 0x6001, 0x7001 };
    fake_callers_calls = 0;
    int n = lh_cgo_extend(in_cgo, 3, out, LH_SITE_MAX_FRAMES);
    check(n == 7 && out[0] == 0x5001 && out[1] == 0x3211 &&
          out[2] == LH_CGO_MARK && out[3] == 0x9001 && out[6] == 0x9004 &&
          fake_callers_calls == 1,
          "cgo: a C stack up to a stub, the mark, the Go stack (depth %d)",
          n);
    check(lh_cgo_extend(runtime_calls_c, 3, out, LH_SITE_MAX_FRAMES) == 0 &&
          lh_cgo_extend(plain_c, 3, out, LH_SITE_MAX_FRAMES) == 0 &&
          fake_callers_calls == 1,
          "cgo: no call into Go when the runtime called C, nor for a "
          "stack without a stub (%d calls)", fake_callers_calls);
    check(lh_cgo_extend(in_cgo, 3, out, 3) == 0,
          "cgo: no room for a Go frame: not extended");

    lh_site s;
    memset(&s, 0, sizeof s);
    n = lh_cgo_extend(in_cgo, 3, out, LH_SITE_MAX_FRAMES);
    check(n == 7 && lh_cgo_site(&s, out, n) == 1 &&
          strcmp(s.func, "main.auditLeaky") == 0 &&
          strcmp(s.location, "svc/audit.go:35") == 0,
          "cgo: blamed on the target's own Go caller, not on the "
          "dependency that called C: %s %s", s.func, s.location);
    check(strcmp(s.detail, "via example.com/logkit.(*Log).Line log.go:40 "
                 "→ C.CString (C: 0x5000)") == 0,
          "cgo: the detail has the library path and the C call: '%s'",
          s.detail);
    check(strstr(s.folded, "main.OpAudit;main.auditLeaky;"
                 "example.com/logkit.(*Log).Line;main._Cfunc_CString") ==
              s.folded,
          "cgo: folded, Go root first, then C: '%s'", s.folded);
    memset(&s, 0, sizeof s);
    check(lh_cgo_site(&s, plain_c, 3) == 0 && !s.func[0],
          "cgo: any other stack is left to C blame");
}

/* The heap sampler through a cgo stub: one C stack, two Go callers.  The
 * sampler reuses the last stack's id when a capture repeats; a stack
 * extended with Go frames must not be reused that way, or the second
 * caller's allocations would be blamed on the first. */
static int cgo_go_caller;               /* 0: keeper, 1: freer */

static int64_t caller_cgo_callers(uintptr_t *out, int64_t max)
{
    if (max < 2)
        return 0;
    out[0] = cgo_go_caller ? 0xb101 : 0xb001;
    out[1] = 0xb201;
    return 2;
}

static int64_t caller_frames(const uintptr_t *pcs, int64_t n, char *buf,
                             int64_t cap)
{
    static const char keeper[] =
        "main._Cfunc_CString\t_cgo_gotypes.go:12\n"
        "main.keeper\t/src/svc/keep.go:10\n"
        "main.OpAudit\t/src/svc/main.go:20\n";
    static const char freer[] =
        "main._Cfunc_CString\t_cgo_gotypes.go:12\n"
        "main.freer\t/src/svc/free.go:30\n"
        "main.OpAudit\t/src/svc/main.go:20\n";
    if (n < 1)
        return serve("", 0, buf, cap);
    if (pcs[0] == 0xb001)
        return serve(keeper, sizeof keeper - 1, buf, cap);
    if (pcs[0] == 0xb101)
        return serve(freer, sizeof freer - 1, buf, cap);
    return serve("", 0, buf, cap);
}

static void *(*volatile cgo_malloc)(size_t) = malloc;

/* Stands for a cgo stub (_cgo_<hash>_Cfunc__Cmalloc): published as one. */
__attribute__((noinline))
static void *fake_cgo_stub(size_t n)
{
    void *p = cgo_malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

static const lh_site *site_named(const lh_site *s, int n, const char *f)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].func, f) == 0)
            return &s[i];
    return NULL;
}

static void test_cgo_sampled(void)
{
    static lh_target t;
    static lh_cgo_range stub[1];
    t.has_go = 1;
    t.go.cgo_callers = caller_cgo_callers;
    t.go.frames = caller_frames;
    t.go.build_info = fake_build_info;
    serve_build_info = "mod\tleakhound.dev/svc\n";
    stub[0].lo = (uintptr_t)fake_cgo_stub;
    stub[0].hi = stub[0].lo + 64;
    lh_gocgo_publish(&t, (lh_cgo_range){ 0x1000, 0x2000 }, stub, 1);

    enum { N = 400 };
    static void *kept[N];
    lh_heapsites_start(0);                  /* every allocation */
    lh_heapsnap *a = lh_heapsites_snapshot();
    for (int i = 0; i < 2 * N; i++) {
        /* one call site: the C stacks are the same, as under cgo */
        cgo_go_caller = i % 2;
        void *p = fake_cgo_stub(256);
        if (cgo_go_caller)
            free(p);
        else
            kept[i / 2] = p;
    }
    lh_heapsnap *b = lh_heapsites_snapshot();
    lh_site sites[16];
    int n = lh_heapsites_alloc_diff(a, b, sites, 16);
    const lh_site *k = site_named(sites, n, "main.keeper");
    const lh_site *f = site_named(sites, n, "main.freer");
    check(k && f && k->count == N && f->count == N,
          "cgo, sampled: one C stack, two Go callers, each its own "
          "allocations (keeper %.0f, freer %.0f of %d)",
          k ? k->count : -1.0, f ? f->count : -1.0, N);
    n = lh_heapsites_diff(a, b, sites, 16);
    check(n == 1 && strcmp(sites[0].func, "main.keeper") == 0,
          "cgo, sampled: the live blocks blamed on the keeper only (%d "
          "sites, first %s)", n, n ? sites[0].func : "-");
    lh_heapsites_stop();
    lh_heapsites_free(a);
    lh_heapsites_free(b);
    for (int i = 0; i < N; i++)
        free(kept[i]);
}

int main(void)
{
    test_goroutines_fixture();
    test_states();
    test_heap_fixture();
    test_trimmed_paths();
    test_own_packages();
    test_cgo_caller();
    test_cgo_sampled();
    test_old_probe();
    test_growing_text();
    test_write();
    test_heap_untouched();
    test_live();
    test_labels();
    test_live_labels();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
