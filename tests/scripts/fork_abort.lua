-- A target that forks a helper (holding the worker's pipes) and aborts:
-- the worker's death, not the open pipe, decides the verdict.
local faults = leak.target "build/targets/c/libfaults.so"

leak.workload "fault-fork-abort" {
  description = "fault_fork_abort forks a sleeper, then aborts, on FORK",
  target = faults,
  expect = "crashed", timeout = "20s",
  warmup = 0, iterations = 100,
  inputs = { "hello", "FORK now" },
  step = function(input) faults:call("fault_fork_abort", input) end,
}
