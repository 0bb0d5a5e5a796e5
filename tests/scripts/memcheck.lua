-- memcheck.lua: a short run for tests/e2e_memcheck.sh, where the harness
-- itself runs under valgrind memcheck.  One workload fails (its sites,
-- folded stacks and gauge series are built and freed), one passes; two
-- threads each (a Lua state, target and gauge names per thread).  The
-- target's own growth stays reachable, so any definite leak is ours.

local cache = leak.target "build/targets/c/libcache.so"

leak.workload "memcheck-cache-unbounded" {
  target = cache,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs",
                      "target.cache_unbounded_entries" } },
  warmup = 20, iterations = 400, samples = 10, threads = 2,
  -- ~16 KiB grow in all: sample every 256 B so the site is always seen
  -- (the default 64 KiB would miss it most of the time)
  sample_bytes = 256,
  inputs = function(rng, i) return "key-" .. i end,
  step = function(input) cache:call("cache_put_unbounded", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.stable "target.cache_unbounded_entries" { slack = 10 },
    leak.bounded "proc.fds" { max = 64 },
  },
}

leak.workload "memcheck-cache-lru" {
  target = cache,
  expect = "clean",
  warmup = 400, iterations = 400, samples = 10, threads = 2,
  inputs = function(rng, i) return "key-" .. (i % 64) end,
  step = function(input) cache:call("cache_put_lru", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.bounded "target.cache_lru_entries" { max = 256 },
  },
}
