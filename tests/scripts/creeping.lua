-- A slow leak under the slack (tests/e2e_creeping.sh): the planned run
-- grows ~125 KB against a slack of 200 KB, a robust trend that would pass;
-- the run goes on to where its pace puts twice the slack on the window
-- and fails there. The LRU twin, still filling in the judged half, goes
-- on too and passes once full; with horizon = 1 the run may not go on and
-- the pass stands, saying so.
local cache = leak.target "build/targets/c/libcache.so"
local function key(rng, i) return "key-" .. i end
leak.workload "creep-leak" {
  target = cache, warmup = 100, iterations = 2000, samples = 30,
  expect = { fail = { "heap.live_bytes" } },
  inputs = key,
  step = function(input) cache:call("cache_put_unbounded", input) end,
  invariants = { leak.stable "heap.live_bytes" { slack = 200000 } },
}
leak.workload "creep-lru-clean" {
  target = cache, warmup = 100, iterations = 2000, samples = 30,
  expect = "clean",
  inputs = key,
  step = function(input) cache:call("cache_put_lru", input) end,
  invariants = { leak.stable "heap.live_bytes" { slack = 200000 } },
}
leak.workload "creep-leak-horizon-1" {
  target = cache, warmup = 100, iterations = 2000, samples = 30, horizon = 1,
  expect = "clean",
  inputs = key,
  step = function(input) cache:call("cache_put_unbounded", input) end,
  invariants = { leak.stable "heap.live_bytes" { slack = 200000 } },
}
