-- Workloads for interrupting leakhound (tests/e2e_interrupts.sh): quick on
-- their own inputs; an input starting with HANG sleeps forever in the step,
-- so a regression case or a repro of it runs until it is interrupted.
local faults = leak.target "build/targets/c/libfaults.so"

leak.workload "intr-quick" {
  target = faults, warmup = 0, iterations = 100, samples = 10,
  inputs = { "hello" },
  step = function(input) faults:call("fault_hang", input) end,
}

leak.workload "intr-hang" {
  target = faults, warmup = 0, iterations = 100, samples = 10,
  timeout = "5m",
  inputs = { "HANG here" },
  step = function(input) faults:call("fault_hang", input) end,
}
