package probe

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime/metrics"
	"unsafe"
)

// The runtime's cumulative counts of work done, for allocation-rate
// invariants: a rate is the slope of one of these between samples. They
// are read at samples only (runtime/metrics.Read stops no world), never
// per call. GC cycles are the automatic ones: the harness's settle forces
// two collections per sample, which are not the workload's doing.
var rateNames = [...]string{
	"/gc/heap/allocs:objects",
	"/gc/heap/allocs:bytes",
	"/gc/cycles/automatic:gc-cycles",
}

// rateSamples is made once (not per read: a read must not allocate what
// it counts). The harness reads from one thread at a time.
var rateSamples = func() []metrics.Sample {
	s := make([]metrics.Sample, len(rateNames))
	for i, n := range rateNames {
		s[i].Name = n
	}
	return s
}()

// leakhound_go_alloc_counters writes heap objects allocated, heap bytes
// allocated and automatic GC cycles since the program started into
// out[0..3); -1 for one the runtime does not provide. Its absence (an
// older probe) makes the go.allocs, go.alloc_bytes and go.gc_auto_cycles
// metrics unavailable.
//
//export leakhound_go_alloc_counters
func leakhound_go_alloc_counters(out *C.int64_t) {
	if out == nil {
		return
	}
	metrics.Read(rateSamples)
	o := unsafe.Slice((*int64)(unsafe.Pointer(out)), len(rateNames))
	for i, s := range rateSamples {
		if s.Value.Kind() == metrics.KindUint64 {
			o[i] = int64(s.Value.Uint64())
		} else {
			o[i] = -1
		}
	}
}
