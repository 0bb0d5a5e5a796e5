-- Goroutines that end later than the step, fuzzed
-- (tests/e2e_fuzz_inflight.sh): each call's goroutine ends 300 ms later,
-- while a confirmation replays an input in milliseconds. The oracle lets
-- them end before it judges: clean. Every 10th call parking a goroutine
-- forever among them is still found, at its site.
local gr = leak.target "build/targets/go/libgoroutines.so"
leak.workload "inflight-fuzz-clean" {
  target = gr, iterations = 2000, inputs = leak.corpus "corpora/goroutines",
  step = gr:fn "OpGoroutineFlushLater",
}
leak.workload "inflight-fuzz-leak" {
  target = gr, iterations = 2000, inputs = leak.corpus "corpora/goroutines",
  step = gr:fn "OpGoroutineFlushLaterLeak",
}
