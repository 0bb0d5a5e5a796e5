-- Workload names holding a tab and a newline: each must reach the console
-- and every report file whole (the worker protocol and report.json's
-- `files` list once split on them).
local lib = leak.target "build/targets/c/libleak16.so"

leak.workload "multi\tline" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  step = function(input) error("tab step broke") end,
}

leak.workload "multi\nline" {
  target = lib, expect = "error", warmup = 0, iterations = 10,
  step = function(input) error("newline step broke") end,
}

-- Fails with sites, so its folded stacks are written under a directory
-- named after it and listed in the invariant's `files`.
leak.workload "leaky\nname" {
  target = lib, expect = { fail = { "heap.live_bytes" } },
  warmup = 100, iterations = 4000, samples = 12,
  step = function(input) lib:call("leak16", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}
