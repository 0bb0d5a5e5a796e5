-- Goroutines that end later than the step returns (tests/e2e_inflight.sh):
-- each call's goroutine ends 300 ms later, longer than the planned run
-- lasts, so every one is running at every sample. They end once the steps
-- stop: the run goes on with a wait before each sample and passes. Every
-- 10th call parking a goroutine forever among them still fails.
local gr = leak.target "build/targets/go/libgoroutines.so"
leak.workload "inflight-clean" {
  target = gr, iterations = 2000, expect = "clean",
  step = gr:fn "OpGoroutineFlushLater",
}
leak.workload "inflight-with-leak" {
  target = gr, iterations = 2000,
  expect = { fail = { "go.goroutines" } },
  step = gr:fn "OpGoroutineFlushLaterLeak",
  invariants = { leak.stable "go.goroutines" },
}
