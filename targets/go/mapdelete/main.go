// Command mapdelete builds libmapdelete.so: a session store whose delete
// leaves the session reachable through a second index.
package main

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"unsafe"

	_ "leakhound.dev/probe"
	"leakhound.dev/targets/internal/cin"
)

// main is required by -buildmode=c-shared and never runs.
func main() {}

var store = newSessions()

// OpSessionLeak opens a session for the request and closes it again. The
// close deletes the session from the by-ID index only; the by-token index
// still holds it, so every call leaks one session although the code
// "deletes" it.
//
//export OpSessionLeak
func OpSessionLeak(data *C.uint8_t, size C.size_t) C.int {
	s := store.open(cin.View(unsafe.Pointer(data), uintptr(size)))
	store.closeByIDOnly(s.id)
	return 0
}

// OpSessionClean closes the session in both indexes. The maps keep their
// bucket arrays at their high-water mark (Go maps do not shrink), which is a
// plateau, not a leak.
//
//export OpSessionClean
func OpSessionClean(data *C.uint8_t, size C.size_t) C.int {
	s := store.open(cin.View(unsafe.Pointer(data), uintptr(size)))
	store.close(s.id)
	return 0
}

// leakhound_gauge_sessions_open publishes the number of open sessions as
// the application sees them (the by-ID index) as target.sessions_open: it
// stays at zero while the leaky op's heap grows.
//
//export leakhound_gauge_sessions_open
func leakhound_gauge_sessions_open() C.int64_t { return C.int64_t(store.openCount()) }

// OpSeenLeak marks the request as seen in a set that is never pruned: one
// small key per call. The heap grows only when the map doubles its bucket
// array (Go maps grow in doublings), each step below Go's heap slack at
// 10,000 calls, so the run must go on until the steps are judged.
//
//export OpSeenLeak
func OpSeenLeak(data *C.uint8_t, size C.size_t) C.int {
	seenAll.mark()
	return 0
}

// OpSeenBounded is its clean twin: the set forgets the oldest key past
// seenBound entries. It grows in the same doublings, then stops.
//
//export OpSeenBounded
func OpSeenBounded(data *C.uint8_t, size C.size_t) C.int {
	seenRecent.mark()
	return 0
}
