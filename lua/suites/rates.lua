-- rates.lua: allocation rates, not leaks (targets/c/scratch.c,
-- targets/go/escapes/).  Each pair does the same work; one allocates per
-- call and frees (or lets the GC collect), the other reuses memory.  Both
-- keep live memory flat and pass every leak invariant; the rate
-- invariants tell them apart.  The allocating op `expect`s its rate to
-- fail; the merge gate also compares every rate with ci/baseline.json.

local scratch = leak.target "build/targets/c/libscratch.so"
local escapes = leak.target "build/targets/go/libescapes.so"

local requests = { "GET /Users/1", "POST /Orders/42", "GET /Health" }

-- C: one 256-byte scratch block per call (264 B usable) vs none.
leak.workload "c-rates-scratch-alloc" {
  target = scratch, warmup = 200, iterations = 6000, samples = 20,
  inputs = requests,
  step = function(input) scratch:call("scratch_parse_alloc", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.rate "heap.allocs" { max = 0 },
    leak.rate "heap.alloc_bytes" { max = 0 },
  },
  expect = { fail = { "heap.allocs", "heap.alloc_bytes" } },
}

leak.workload "c-rates-scratch-reuse" {
  target = scratch, warmup = 200, iterations = 6000, samples = 20,
  inputs = requests,
  step = function(input) scratch:call("scratch_parse_reuse", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.rate "heap.allocs" { max = 0 },
    leak.rate "heap.alloc_bytes" { max = 0 },
  },
  expect = "clean",
}

-- Go: the parsed record escapes (one 64-byte object per call) vs stays on
-- the caller's stack.  The runtime's own work between calls is not the
-- op's: max leaves it a tenth of an object per call.
leak.workload "go-rates-escape" {
  target = escapes, warmup = 200, iterations = 6000, samples = 20,
  inputs = requests,
  step = function(input) escapes:call("OpParseEscape", input) end,
  invariants = {
    leak.rate "go.allocs" { max = 0.1 },
    leak.rate "go.alloc_bytes" { max = 8 },
  },
  expect = { fail = { "go.allocs", "go.alloc_bytes" } },
}

leak.workload "go-rates-into" {
  target = escapes, warmup = 200, iterations = 6000, samples = 20,
  inputs = requests,
  step = function(input) escapes:call("OpParseInto", input) end,
  invariants = {
    leak.rate "go.allocs" { max = 0.1 },
    leak.rate "go.alloc_bytes" { max = 8 },
    leak.rate "go.gc_auto_cycles" { max = 0.001 },
  },
  expect = "clean",
}
