package probe

/*
#include <stdint.h>
*/
import "C"

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"unsafe"
)

// version is bumped when an exported signature or its meaning changes, so
// the harness can refuse a library built against a probe it does not know.
const version = 1

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
	if buf != nil && capacity > 0 {
		dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(capacity))
		n := copy(dst, w.Bytes())
		if n < len(dst) {
			dst[n] = 0
		}
	}
	return C.int64_t(w.Len())
}
