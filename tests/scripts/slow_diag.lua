-- A quick leaking workload whose diagnosis (symbolization) outlasts its
-- timeout (tests/e2e_faults.sh makes addr2line slow): the timeout is the
-- workload's, and the diagnosis has a bound of its own.
local lib = leak.target "build/targets/c/libleak16.so"

leak.workload "slow-diagnosis" {
  target = lib, expect = { fail = { "heap.live_bytes" } }, timeout = "6s",
  warmup = 100, iterations = 4000, samples = 12,
  step = function(input) lib:call("leak16", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}
