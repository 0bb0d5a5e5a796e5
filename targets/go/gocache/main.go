// Command gocache builds libgocache.so: response caches that are pruned, are
// never pruned, or are pruned except for "pinned" entries.
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

// lruCapacity bounds the clean cache: it fills up, then plateaus.
const lruCapacity = 256

// bigCapacity bounds OpCacheLRUBig's: full, ~1.4 MiB, past the fuzz
// oracle's 256 KiB Go heap trigger, so fuzzing it runs the culprit search
// and the Go distinct-input replay on a cache that is clean.
const bigCapacity = 4096

var (
	lru       = newLRU(lruCapacity)
	unbounded = newMemo()
	pinned    = newMemo()
	sessions  = newMemo()
	keyed     = newMemo()
	big       = newLRU(bigCapacity)
)

// OpCacheLRU memoizes responses in a bounded LRU: the clean twin. With many
// distinct inputs it grows for the first 256 and then stays flat.
//
//export OpCacheLRU
func OpCacheLRU(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	lru.getOrAdd(string(in), func() []byte { return render(in) })
	return 0
}

// OpCacheLRUBig is OpCacheLRU with a capacity of 4096: clean, and big
// enough to look like a leak until it is full.
//
//export OpCacheLRUBig
func OpCacheLRUBig(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	big.getOrAdd(string(in), func() []byte { return render(in) })
	return 0
}

// OpCacheUnbounded memoizes responses in a package-level map that is never
// pruned: it grows with every distinct input and not at all with repeats.
//
//export OpCacheUnbounded
func OpCacheUnbounded(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	unbounded.getOrAdd(string(in), func() []byte { return render(in) })
	return 0
}

// OpCacheLeak is the LRU, except that requests starting with "KEEP" are
// pinned: kept outside the LRU, never evicted. Pins are keyed by request
// (content plus arrival number), so the same request pinned twice is two
// entries: every "KEEP" call leaks one, repeats included. Other inputs are
// clean.
//
//export OpCacheLeak
func OpCacheLeak(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	if isPinned(in) {
		pinned.add(requestKey(in), render(in))
		return 0
	}
	lru.getOrAdd(string(in), func() []byte { return render(in) })
	return 0
}

// OpCacheInternGated is the LRU, except that requests starting with "SESS"
// are interned in a package-level map keyed by the whole request and never
// deleted: a session table nobody expires.  A repeated request finds its
// entry, so replaying one input grows nothing; every distinct "SESS"
// request leaks one entry (~350 bytes).  Other inputs are clean.
//
//export OpCacheInternGated
func OpCacheInternGated(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	if isSession(in) {
		sessions.getOrAdd(string(in), func() []byte { return render(in) })
		return 0
	}
	lru.getOrAdd(string(in), func() []byte { return render(in) })
	return 0
}

// OpSessionKeyed is the LRU, except that session requests
// ("SESS<key:8 bytes><payload>", a payload of 4 bytes at least) keep a
// 96-byte session state in a package-level map keyed by the 8-byte key
// field alone, never deleted: ~150 B per distinct key.  Repeats and
// requests that differ in the payload only find their entry: the key is a
// field in the middle of the input, not its tail.  Other inputs are clean.
//
//export OpSessionKeyed
func OpSessionKeyed(data *C.uint8_t, size C.size_t) C.int {
	in := cin.View(unsafe.Pointer(data), uintptr(size))
	if key, ok := sessionKey(in); ok {
		keyed.getOrAdd(key, func() []byte { return sessionState(in) })
		return 0
	}
	lru.getOrAdd(string(in), func() []byte { return render(in) })
	return 0
}

// The gauges publish each cache's entry count as target.lru_entries,
// target.memo_entries, target.pinned_entries, target.session_entries and
// target.keyed_sessions.

//export leakhound_gauge_lru_entries
func leakhound_gauge_lru_entries() C.int64_t { return C.int64_t(lru.len()) }

//export leakhound_gauge_memo_entries
func leakhound_gauge_memo_entries() C.int64_t { return C.int64_t(unbounded.len()) }

//export leakhound_gauge_pinned_entries
func leakhound_gauge_pinned_entries() C.int64_t { return C.int64_t(pinned.len()) }

//export leakhound_gauge_session_entries
func leakhound_gauge_session_entries() C.int64_t { return C.int64_t(sessions.len()) }

//export leakhound_gauge_keyed_sessions
func leakhound_gauge_keyed_sessions() C.int64_t { return C.int64_t(keyed.len()) }
