-- bench.lua: workloads for ci/bench (not part of the test suites).
local sizeleak = leak.target "build/bench/libsizeleak.so"

-- A 16-slot cache: clean on short payloads, leaks payloads >= 1 KiB.
-- `leakhound fuzz` must find the long payloads; growth feedback is what
-- rewards longer retained payloads on the way.
leak.workload "bench-size-leak" {
  target = sizeleak,
  expect = "clean",
  warmup = 100, iterations = 5000,
  inputs = leak.corpus "corpora/sizeleak",
  step = function(input) sizeleak:call("size_cache_put", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}
