-- faults.lua: workers that crash, hang or fail, for the harness's own tests.
-- Each workload runs in its own worker, so a dead or stuck one must be
-- recorded with its expected status and the run must go on: the last
-- workload is clean and must still run and pass.

local faults = leak.target "build/targets/c/libfaults.so"

-- SIGSEGV on the third input (a NULL write); the crash record should name
-- "CRASH now" as the input in flight.
leak.workload "fault-crash" {
  description = "fault_crash segfaults on an input starting with CRASH",
  target = faults,
  expect = "crashed",
  warmup = 0, iterations = 100,
  inputs = { "hello", "world", "CRASH now" },
  step = function(input) faults:call("fault_crash", input) end,
}

-- Sleeps forever on the second input; the supervisor must kill it at 3 s.
leak.workload "fault-hang" {
  description = "fault_hang never returns on an input starting with HANG",
  target = faults,
  expect = "timeout", timeout = "3s",
  warmup = 0, iterations = 100,
  inputs = { "fine", "HANG here" },
  step = function(input) faults:call("fault_hang", input) end,
}

-- The library has no such op: the call raises a Lua error.
leak.workload "fault-missing-symbol" {
  description = "calling an op the target does not export is an error",
  target = faults,
  expect = "error",
  warmup = 0, iterations = 10,
  inputs = { "anything" },
  step = function(input) faults:call("no_such_op", input) end,
}

-- Same library, harmless inputs ("CRAS", "HAN" are near misses): clean.
leak.workload "fault-clean-after" {
  description = "after a crash, a hang and an error, the run goes on",
  target = faults,
  expect = "clean",
  warmup = 100, iterations = 5000, samples = 20,
  inputs = { "hello", "CRAS", "HAN", "world" },
  step = function(input)
    faults:call("fault_crash", input)
    faults:call("fault_hang", input)
  end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.baseline "heap.live_bytes" { slack = 0 },
    leak.bounded "proc.fds" { max = 64 },
  },
}
