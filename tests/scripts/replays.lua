-- A workload whose regression cases crash or hang their replay
-- (tests/e2e_gate_replays.sh): an input starting with CRASH writes through
-- NULL, one starting with HANG sleeps forever; any other input is clean.
local faults = leak.target "build/targets/c/libfaults.so"

leak.workload "replay-faults" {
  target = faults, warmup = 0, iterations = 16, samples = 8,
  inputs = { "hello" },
  step = function(input)
    faults:call("fault_crash", input)
    faults:call("fault_hang", input)
  end,
}
