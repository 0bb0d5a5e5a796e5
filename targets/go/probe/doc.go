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
//
// The leakhound harness looks these up with dlsym. A library holds at most
// one Go runtime, so the probe reports on exactly the runtime of the library
// that imports it.
package probe
