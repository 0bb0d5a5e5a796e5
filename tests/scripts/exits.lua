-- A target that ends the process under the harness (tests/e2e_hostile.sh):
-- exit(0) on "EXIT0", exit(1) on "EXIT1", every fd closed on "CLOSE".
-- Neither is a verdict: a status 0 is not "no leak", 1 is not "leaks".
local faults = leak.target "build/targets/c/libfaults.so"

leak.workload "exits" {
  description = "fault_exit: ends the process on EXIT0, EXIT1, CLOSE",
  target = faults, warmup = 0, iterations = 200, samples = 10,
  timeout = "30s",
  inputs = { "hello", "world" },
  step = function(input) faults:call("fault_exit", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}

-- the same op, reaching exit(0) in the measured phase of a run
leak.workload "exits-in-run" {
  target = faults, warmup = 0, iterations = 200, samples = 10,
  timeout = "30s", expect = "crashed",
  inputs = { "hello", "world", "EXIT0" },
  step = function(input) faults:call("fault_exit", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}

-- for fuzzing (tests/e2e_fuzz_saved.sh): a seed on which the target ends
-- the process with _exit(0) (no handler runs); a seed one byte short of
-- the input on which it calls exit(0)
leak.workload "fuzz-quit" {
  target = faults, warmup = 0,
  inputs = { "hello", "QUIT0" },
  step = function(input) faults:call("fault_exit", input) end,
}

leak.workload "fuzz-exit" {
  target = faults, warmup = 0,
  inputs = { "hello", "EXIT" },
  step = function(input) faults:call("fault_exit", input) end,
}

leak.workload "fuzz-exit-seed" {
  target = faults, warmup = 0,
  inputs = { "hello", "EXIT0" },
  step = function(input) faults:call("fault_exit", input) end,
}
