-- Bad field values: each bad workload is an error naming this file:line,
-- the workload and the field; the good one still runs.
local lib = leak.target "build/targets/c/libleak16.so"

leak.workload "values-good" {
  target = lib, expect = "clean", warmup = 10, iterations = 200,
  step = function(input) lib:call("leak16_clean", input) end,
}

leak.workload "iterations-huge" {
  target = lib, iterations = 1e30,
  step = function(input) lib:call("leak16_clean", input) end,
}

leak.workload "iterations-string" {
  target = lib, iterations = "100",
  step = function(input) lib:call("leak16_clean", input) end,
}

leak.workload "timeout-zero" {
  target = lib, timeout = "0s",
  step = function(input) lib:call("leak16_clean", input) end,
}

leak.workload "invariants-empty" {
  target = lib, invariants = {},
  step = function(input) lib:call("leak16_clean", input) end,
}

leak.workload "inputs-number" {
  target = lib, inputs = 42,
  step = function(input) lib:call("leak16_clean", input) end,
}

-- A real leak that `stable` could never flag with so few samples.
leak.workload "samples-too-few" {
  target = lib, samples = 4,
  step = function(input) lib:call("leak16", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}

-- samples are capped at iterations: the defaults could never fail.
leak.workload "iterations-too-few" {
  target = lib, iterations = 5,
  step = function(input) lib:call("leak16", input) end,
}

-- A smaller alpha needs more samples than the default schedule of 30.
leak.workload "alpha-too-small" {
  target = lib, samples = 10,
  step = function(input) lib:call("leak16", input) end,
  invariants = { leak.max_growth "heap.live_bytes"
                   { per_iter = 0, alpha = 1e-12 } },
}
