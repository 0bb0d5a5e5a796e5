-- gate.lua: workloads for the merge-gate tests (tests/e2e_gate.sh).
--
-- LH_GATE_TARGET picks the build of tests/gate/gatetarget.c (the leaky or
-- the fixed one); LH_GATE_KEYS the key space of the cache workload (0:
-- every key new, an unbounded cache).

local lib = leak.target(os.getenv("LH_GATE_TARGET")
                        or "build/tests/gate/libgate-fixed.so")
local keys = tonumber(os.getenv("LH_GATE_KEYS") or "100")

-- Clean on its seeds; an input starting with '!' leaks in the leaky build.
leak.workload "gate-record" {
  target = lib,
  warmup = 100, iterations = 3000, samples = 20,
  inputs = leak.corpus "tests/gate/corpus",
  step = lib:fn "gate_record",
  invariants = { leak.stable "heap.live_bytes" },
}

-- A cache over `keys` distinct keys: fills during warmup, then flat.
leak.workload "gate-cache" {
  target = lib,
  warmup = 4000, iterations = 20000, samples = 20,
  inputs = function(rng, i)
    return "key-" .. (keys > 0 and i % keys or i)
  end,
  step = lib:fn "gate_cache_put",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
  },
}
