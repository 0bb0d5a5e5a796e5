package probe

/*
#include <stdint.h>

// A step the harness runs under labels: called back, from Go, on the
// thread and goroutine that called leakhound_go_call_labeled.
typedef void (*leakhound_step_fn)(void *arg);

// cgo cannot call a C function pointer directly.
static inline void leakhound_run_step(leakhound_step_fn fn, void *arg)
{
	fn(arg);
}
*/
import "C"

import (
	"bytes"
	"context"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Why a call wrapper and not "set labels, then call the op": every call
// from a C thread into a c-shared library runs on a goroutine borrowed from
// a pool (one per extra M), so labels set in one call need not be there in
// the next. Inside leakhound_go_call_labeled the harness's step calls the
// target's ops as nested callbacks, which run on this very goroutine, so
// every goroutine the ops start inherits its labels (newproc copies the
// creator's), and the goroutine profile's "# labels:" lines say which step
// started what.

// labelSets are the contexts leakhound_go_call_labeled switches to, by
// handle. Made once per harness thread and read on every step, so a
// copy-on-write slice: reading it takes no lock.
var (
	labelSets  atomic.Pointer[[]context.Context]
	labelSetMu sync.Mutex
)

// leakhound_go_label_set makes a label set from n bytes of NUL-terminated
// key and value strings, alternating ("k1\0v1\0k2\0v2\0"), and returns its
// handle for leakhound_go_call_labeled, or -1 for an odd number of
// strings. Sets live as long as the library.
//
//export leakhound_go_label_set
func leakhound_go_label_set(kv *C.char, n C.int64_t) C.int64_t {
	if kv == nil || n < 0 {
		return -1
	}
	b := C.GoBytes(unsafe.Pointer(kv), C.int(n))
	b = bytes.TrimSuffix(b, []byte{0})
	var args []string
	if len(b) > 0 {
		for _, s := range bytes.Split(b, []byte{0}) {
			args = append(args, string(s))
		}
	}
	if len(args)%2 != 0 {
		return -1
	}
	ctx := pprof.WithLabels(context.Background(), pprof.Labels(args...))
	labelSetMu.Lock()
	defer labelSetMu.Unlock()
	var list []context.Context
	if old := labelSets.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, ctx)
	labelSets.Store(&list)
	return C.int64_t(len(list) - 1)
}

// leakhound_go_call_labeled calls fn(arg) with the label set's labels on
// the calling goroutine, and clears them afterwards (the goroutine goes
// back to the pool). An unknown handle runs fn without labels. fn must
// return normally: no longjmp across these Go frames.
//
//export leakhound_go_call_labeled
func leakhound_go_call_labeled(set C.int64_t, fn C.leakhound_step_fn,
	arg unsafe.Pointer) {
	if list := labelSets.Load(); list != nil && set >= 0 &&
		int(set) < len(*list) {
		pprof.SetGoroutineLabels((*list)[set])
		defer pprof.SetGoroutineLabels(context.Background())
	}
	C.leakhound_run_step(fn, arg)
}
