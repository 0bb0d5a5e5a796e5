-- A settle that raises an error (tests/e2e_hostile.sh): the samples it
-- should have settled are no verdict, in run and in repro alike.
local goroutines = leak.target "build/targets/go/libgoroutines.so"

leak.workload "settle-error" {
  target = goroutines,
  warmup = 0, iterations = 100, samples = 10,
  inputs = { "a" },
  step = function(input) goroutines:call("OpGoroutineClean", input) end,
  settle = function() error("settle refused") end,
  invariants = { leak.stable "go.goroutines" { slack = 2 } },
}
