package probe

/*
#include <stdint.h>
*/
import "C"

import (
	"bytes"
	"hash/crc32"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// version is bumped when an exported signature or its meaning changes or
// an export is added (2: leakhound_go_label_set, _call_labeled; 3:
// leakhound_go_cgo_callers, _frames, _build_info; 4:
// leakhound_go_heap_sample_rate), so the harness can refuse a library built
// against a probe it does not know.
const version = 4

// defaultMemProfileRate samples the heap profile once per 4 KiB allocated
// on average instead of Go's 512 KiB: the leaks worth naming are a few
// hundred bytes per call over a few thousand calls (~1 MB), which the
// default rate would see as a handful of samples.
const defaultMemProfileRate = 4096

// memProfileEnv overrides the rate (bytes; 1 records every allocation, 0
// turns heap profiling off).
const memProfileEnv = "LEAKHOUND_GO_MEMPROFILE_RATE"

// sampleSink keeps setMemProfileRate's allocation from being optimised away.
var sampleSink []*int

// The rate must be set before the target allocates what it will leak, so
// in init: the probe is imported by the target's main package, whose own
// init and everything after run later.
func init() {
	rate := defaultMemProfileRate
	if s := os.Getenv(memProfileEnv); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			rate = n
		}
	}
	setMemProfileRate(rate)
	warmProfiles()
}

// warmProfiles makes, now, what the first profile call would allocate
// once and keep: pprof's table of profiles and the 8 KiB CRC table that
// gzip needs for the protobuf heap profile. Made during a measurement they
// would be a step in the target's Go heap; the harness's first snapshot
// is taken between samples.
func warmProfiles() {
	_ = pprof.Lookup("heap")
	_ = crc32.ChecksumIEEE(nil)
}

// setMemProfileRate changes the heap profile's sampling rate so that it
// applies at once. Assigning runtime.MemProfileRate alone does not: every P
// keeps a countdown to its next sample drawn at the old rate (mean 512 KiB),
// so a P would go ~512 KiB of allocation unsampled -- thousands of calls of
// a small op -- before the new rate took effect. A countdown is redrawn
// when a sample is taken, and a P's cache is recreated when GOMAXPROCS
// shrinks and grows back, drawing at the current rate. So: sample every
// allocation for a moment, shrink to P 0 (the only P whose cache survives),
// allocate once there (its countdown is redrawn, at 0), set the rate, and
// grow back (the other Ps get fresh caches). Costs two stop-the-worlds,
// once.
func setMemProfileRate(rate int) {
	if rate == runtime.MemProfileRate {
		return
	}
	if rate == 0 {
		runtime.MemProfileRate = 0
		return
	}
	runtime.MemProfileRate = 1
	procs := runtime.GOMAXPROCS(1)
	sampleSink = make([]*int, 4) // has pointers: not a tiny allocation
	runtime.MemProfileRate = rate
	runtime.GOMAXPROCS(procs)
	sampleSink = nil
}

// leakhound_go_heap_sample_rate sets the heap profile's sampling rate
// (bytes; 1 records every allocation) when rate > 0 and returns the one it
// had. A fuzzer's confirmation replays an input a few dozen times, a few
// KiB in all: the harness records every allocation while it does, as it
// does for the C heap, and puts the rate back.
//
//export leakhound_go_heap_sample_rate
func leakhound_go_heap_sample_rate(rate C.int64_t) C.int64_t {
	old := runtime.MemProfileRate
	if rate > 0 {
		setMemProfileRate(int(rate))
	}
	return C.int64_t(old)
}

//export leakhound_go_probe_version
func leakhound_go_probe_version() C.int64_t { return version }

//export leakhound_go_goroutines
func leakhound_go_goroutines() C.int64_t {
	return C.int64_t(runtime.NumGoroutine())
}

//export leakhound_go_settle
func leakhound_go_settle() { settle() }

// leakhound_go_memstats deliberately does not collect: the harness settles
// first and may read several probes against the same settled heap.
//
//export leakhound_go_memstats
func leakhound_go_memstats(out *C.int64_t) {
	if out == nil {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	o := unsafe.Slice((*int64)(unsafe.Pointer(out)), 3)
	o[0] = int64(ms.HeapAlloc)
	o[1] = int64(ms.HeapObjects)
	o[2] = int64(ms.NumGC)
}

// leakhound_go_goroutine_profile writes the goroutine profile grouped by
// stack (debug=1), so 5,000 goroutines blocked at one line read as one
// entry with a count rather than 5,000 stacks. It returns the full length
// so a caller whose buffer was too small knows how much to ask for.
//
//export leakhound_go_goroutine_profile
func leakhound_go_goroutine_profile(buf *C.char, capacity C.int64_t) C.int64_t {
	var w bytes.Buffer
	if p := pprof.Lookup("goroutine"); p != nil {
		_ = p.WriteTo(&w, 1) // a bytes.Buffer cannot fail
	}
	return copyOut(buf, capacity, w.Bytes())
}

// leakhound_go_goroutine_stacks writes every goroutine's stack as
// runtime.Stack(buf, true) does (the debug=2 goroutine profile): one block
// per goroutine, with its state ("[chan send]") and the "created by" line
// that debug=1 leaves out. Same buffer contract as the profile above.
//
//export leakhound_go_goroutine_stacks
func leakhound_go_goroutine_stacks(buf *C.char, capacity C.int64_t) C.int64_t {
	return copyOut(buf, capacity, allStacks())
}

// leakhound_go_heap_profile writes pprof's heap profile: debug=0 is the
// gzipped protobuf that `go tool pprof -base` reads, debug=1 the text form
// ("N: M [A: B] @ pcs" then "#\tpc\tfunc+off\tfile:line" frames). Its
// in-use figures are those of the last completed GC: settle first.
//
//export leakhound_go_heap_profile
func leakhound_go_heap_profile(buf *C.char, capacity C.int64_t, debug C.int64_t) C.int64_t {
	var w bytes.Buffer
	if p := pprof.Lookup("heap"); p != nil {
		_ = p.WriteTo(&w, int(debug))
	}
	return copyOut(buf, capacity, w.Bytes())
}

// stackHint is the buffer size allStacks starts from: the last text's
// size with some room, so that the text is rendered once. Each
// runtime.Stack(all) stops the world for as long as it takes to print
// every goroutine (~10 ms per 1,000), and a buffer that turns out too
// small means doing it all again.
var stackHint atomic.Int64

// allStacks returns runtime.Stack(buf, true), grown until it fits
// (runtime.Stack truncates silently, so a full buffer means "maybe more").
func allStacks() []byte {
	n := int(stackHint.Load())
	if g := runtime.NumGoroutine() * 512; g > n {
		n = g
	}
	if n < 64<<10 {
		n = 64 << 10
	}
	for {
		b := make([]byte, n)
		if k := runtime.Stack(b, true); k < len(b) {
			stackHint.Store(int64(k + k/4))
			return b[:k]
		}
		n *= 2
	}
}

// copyOut copies up to capacity bytes of b into the caller's buffer,
// NUL-terminates when there is room, and returns len(b): the caller
// retries with a bigger buffer when the result is >= capacity. Each call
// renders the profile afresh, so the length can change between a sizing
// call and the real one; callers loop.
func copyOut(buf *C.char, capacity C.int64_t, b []byte) C.int64_t {
	if buf != nil && capacity > 0 {
		dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(capacity))
		n := copy(dst, b)
		if n < len(dst) {
			dst[n] = 0
		}
	}
	return C.int64_t(len(b))
}
