-- Workloads that fail for configuration or script reasons: each must end
-- as status "error" with a message naming the file:line, symbol, metric or
-- library at fault, and the others must still run.
local lib = leak.target "build/targets/c/libleak16.so"
local nope = leak.target "build/targets/c/libnope.so"

leak.workload "typo-global" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  step = function(input) lbi:call("leak16_clean", input) end,
}

leak.workload "assign-undeclared-global" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  step = function(input) counter = 1 end,
}

leak.workload "go-metric-on-c-target" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  step = function(input) lib:call("leak16_clean", input) end,
  invariants = { leak.stable "go.goroutines" },
}

leak.workload "missing-gauge" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  step = function(input) lib:call("leak16_clean", input) end,
  invariants = { leak.stable "target.no_such_gauge" },
}

leak.workload "missing-library" {
  target = nope, expect = "error", warmup = 0, iterations = 10,
  step = function(input) nope:call("anything", input) end,
}

leak.workload "error-in-setup" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  setup = function() error("setup refused") end,
  step = function(input) lib:call("leak16_clean", input) end,
}

leak.workload "error-in-generator" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  inputs = function(rng, i) if i == 5 then error("generator broke") end
                            return "x" end,
  step = function(input) lib:call("leak16_clean", input) end,
}

-- A method called on something else than a target (a dot for a colon):
-- the usual argument error, naming the type expected.
leak.workload "call-not-on-a-target" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  step = function(input) lib.call("leak16_clean", input) end,
}

leak.workload "still-runs" {
  target = lib, expect = "clean", warmup = 10, iterations = 2000,
  step = function(input) lib:call("leak16_clean", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}
