package probe

/*
#include <stdint.h>
*/
import "C"

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"unsafe"
)

// What the harness needs to blame the target's own code (version 3).
//
// A C allocation made through cgo (C.CString, C.malloc, a C library the Go
// code calls) is seen by the harness's malloc interposer on the C stack of
// the cgo call, which its unwinder cannot follow back into Go. While that
// C code runs, the thread is inside a cgo call made by a goroutine, and a
// call back into Go runs on that very goroutine: leakhound_go_cgo_callers
// returns the goroutine's stack below the cgo call. The harness calls it
// only on its sampled slow path, only when the C stack holds a cgo call
// stub, and never while holding its own locks.

// maxCallerDepth bounds the stack taken: the callback's own frames and the
// cgo glue come first, then the caller's.
const maxCallerDepth = 64

// cgocallRet is the return address inside runtime.cgocall of its one call
// into C (asmcgocall), found by name on the first callback: afterwards a
// compare per frame, and nothing allocated (FuncForPC may allocate).
var cgocallRet atomic.Uintptr

// leakhound_go_cgo_callers writes to out up to max return PCs of the
// goroutine that made the cgo call now in progress on this thread, from
// the Go frame that called into cgo (the cgo-generated _Cfunc_ wrapper)
// outwards, and returns how many; 0 when the calling thread is not inside
// a cgo call (no runtime.cgocall frame below this callback).
//
//export leakhound_go_cgo_callers
func leakhound_go_cgo_callers(out *C.uintptr_t, max C.int64_t) C.int64_t {
	if out == nil || max <= 0 {
		return 0
	}
	var pcs [maxCallerDepth]uintptr
	n := runtime.Callers(1, pcs[:])
	ret := cgocallRet.Load()
	start := -1
	for i := 0; i < n && start < 0; i++ {
		if ret != 0 {
			if pcs[i] == ret {
				start = i + 1
			}
		} else if f := runtime.FuncForPC(pcs[i] - 1); f != nil &&
			f.Name() == "runtime.cgocall" {
			cgocallRet.Store(pcs[i])
			start = i + 1
		}
	}
	if start < 0 {
		return 0
	}
	dst := unsafe.Slice((*uintptr)(unsafe.Pointer(out)), int(max))
	return C.int64_t(copy(dst, pcs[start:n]))
}

// leakhound_go_frames names n return PCs (as runtime.Callers gives them) as
// runtime.CallersFrames does, inlined calls expanded, innermost first: one
// line per frame, "func\tfile:line\n". Same buffer contract as the
// profiles (copyOut).
//
//export leakhound_go_frames
func leakhound_go_frames(pcs *C.uintptr_t, n C.int64_t, buf *C.char,
	capacity C.int64_t) C.int64_t {
	var w bytes.Buffer
	if pcs != nil && n > 0 {
		in := unsafe.Slice((*uintptr)(unsafe.Pointer(pcs)), int(n))
		frames := runtime.CallersFrames(append([]uintptr(nil), in...))
		for {
			f, more := frames.Next()
			if f.Function != "" || f.File != "" {
				fmt.Fprintf(&w, "%s\t%s:%d\n", f.Function, f.File, f.Line)
			}
			if !more {
				break
			}
		}
	}
	return copyOut(buf, capacity, w.Bytes())
}

// leakhound_go_build_info writes what the binary's build info says of its
// packages' provenance, one line each: "path\t<main package>",
// "mod\t<main module>" and "dep\t<module path>" per dependency; "" when
// the binary carries none (built without module support). The harness
// blames the first frame that is neither the runtime's, the standard
// library's nor a dependency's: the target's own code. Same buffer
// contract as the profiles.
//
//export leakhound_go_build_info
func leakhound_go_build_info(buf *C.char, capacity C.int64_t) C.int64_t {
	var w bytes.Buffer
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(&w, "path\t%s\nmod\t%s\n", bi.Path, bi.Main.Path)
		for _, d := range bi.Deps {
			fmt.Fprintf(&w, "dep\t%s\n", d.Path)
		}
	}
	return copyOut(buf, capacity, w.Bytes())
}
