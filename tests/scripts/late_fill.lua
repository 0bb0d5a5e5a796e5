-- late_fill.lua: a cache that fills at 80% of the run, and the map never
-- pruned (tests/e2e_late_fill.sh).  LH_LATEFILL names the build of
-- tests/targets/latefill.c.

local lib = leak.target(os.getenv("LH_LATEFILL")
                        or "build/tests/liblatefill.so")
local function keys(rng, i) return string.format("user-%08d", i) end

leak.workload "late-fill-lru" {
  target = lib, inputs = keys, step = lib:fn "lru_insert",
  expect = "clean",
  invariants = { leak.stable "heap.live_bytes" },
}

leak.workload "late-fill-map-leak" {
  target = lib, inputs = keys, step = lib:fn "map_insert",
  expect = { fail = { "heap.live_bytes" } },
  invariants = { leak.stable "heap.live_bytes" },
}

leak.workload "late-fill-lru-no-room" {
  target = lib, inputs = keys, step = lib:fn "lru_insert",
  horizon = 1, expect = "unresolved",
  invariants = { leak.stable "heap.live_bytes" },
}
