// Package probe exports the leakhound Go probe from a c-shared library.
//
// A Go package built with -buildmode=c-shared imports it for its side effect:
//
//	import _ "leakhound.dev/probe"
//
// and the resulting library then exports, with C linkage:
//
//	int64_t leakhound_go_probe_version(void);
//	int64_t leakhound_go_goroutines(void);
//	void    leakhound_go_settle(void);
//	void    leakhound_go_memstats(int64_t *out);
//	int64_t leakhound_go_goroutine_profile(char *buf, int64_t cap);
//	int64_t leakhound_go_goroutine_stacks(char *buf, int64_t cap);
//	int64_t leakhound_go_heap_profile(char *buf, int64_t cap, int64_t debug);
//	int64_t leakhound_go_label_set(const char *kv, int64_t n);
//	void    leakhound_go_call_labeled(int64_t set, void (*fn)(void *), void *arg);
//	void    leakhound_go_alloc_counters(int64_t *out); // rates.go
//	int64_t leakhound_go_cgo_callers(uintptr_t *out, int64_t max);
//	int64_t leakhound_go_frames(const uintptr_t *pcs, int64_t n, char *buf, int64_t cap);
//	int64_t leakhound_go_build_info(char *buf, int64_t cap);
//	int64_t leakhound_go_heap_sample_rate(int64_t rate);
//
// The profile functions copy up to cap bytes, NUL-terminate when there is
// room and return the full length (call with NULL, 0 to size; the length
// can change between calls, so retry while it is >= cap).
//
// leakhound_go_call_labeled runs fn(arg) with a label set's pprof labels on
// the calling goroutine; the target's exported functions that fn calls run
// on that goroutine too, so the goroutines they start inherit the labels.
//
// leakhound_go_cgo_callers, called from C code running inside a cgo call,
// returns the stack of the goroutine that made the call (below the cgo
// glue), so a C allocation made through C.CString names its Go caller;
// leakhound_go_frames names such PCs, and leakhound_go_build_info lists the
// main module and the dependencies, to tell the target's own frames from
// its libraries'.
//
// Importing the probe also sets runtime.MemProfileRate, in its init, to
// LEAKHOUND_GO_MEMPROFILE_RATE (bytes) or 4096 by default, so that the heap
// profile sees leaks of a few hundred bytes per call;
// leakhound_go_heap_sample_rate changes it for a while (rate > 0) and
// returns the one it had.
//
// The leakhound harness looks these up with dlsym. A library holds at most
// one Go runtime, so the probe reports on exactly the runtime of the library
// that imports it.
package probe
