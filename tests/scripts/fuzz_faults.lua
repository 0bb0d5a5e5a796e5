-- Targets that crash or hang on some inputs, for fuzzing: the fuzzer must
-- find those inputs and report them as a crash / a timeout, not a leak.
local faults = leak.target "build/targets/c/libfaults.so"

leak.workload "fuzz-crash" {
  target = faults, warmup = 0,
  inputs = { "hello", "CRAS" },
  step = function(input) faults:call("fault_crash", input) end,
}

leak.workload "fuzz-hang" {
  target = faults, warmup = 0,
  inputs = { "hello", "HAN" },
  step = function(input) faults:call("fault_hang", input) end,
}

-- fork() returning in both processes: the copy must not run the fuzz loop.
leak.workload "fuzz-fork" {
  target = faults, warmup = 0,
  inputs = { "hello", "FORK" },
  step = function(input) faults:call("fault_fork_return", input) end,
}
