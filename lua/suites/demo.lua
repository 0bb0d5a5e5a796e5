-- demo.lua: a readable tour of what leakhound finds and what it lets pass.
--
--     build/leakhound run lua/suites/demo.lua
--
-- Each workload says what it must show in `expect`; `--expect` turns that
-- into the exit status.  The full sets are c.lua and go.lua.

local cache = leak.target "build/targets/c/libcache.so"
local fdio = leak.target "build/targets/c/libfdio.so"
local gr = leak.target "build/targets/go/libgoroutines.so"
local timers = leak.target "build/targets/go/libtimers.so"
local cstr = leak.target "build/targets/go/libcstrings.so"
local pool = leak.target "build/targets/go/libsyncmap.so"

-- A C cache that keeps every distinct key: the heap grows with the work.
leak.workload "demo-c-cache-unbounded" {
  target = cache,
  expect = { fail = { "heap.live_bytes", "target.cache_unbounded_entries" } },
  iterations = 20000,
  inputs = function(rng, i) return string.format("user-%d", i) end,
  step = function(key) cache:call("cache_put_unbounded", key) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "target.cache_unbounded_entries",
  },
}

-- The same keys into a 256-entry LRU: it fills, then plateaus. Clean.
leak.workload "demo-c-cache-lru" {
  target = cache,
  expect = "clean",
  iterations = 20000,
  inputs = function(rng, i) return string.format("user-%d", i) end,
  step = function(key) cache:call("cache_put_lru", key) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.bounded "target.cache_lru_entries" { max = 256 },
  },
}

-- The same LRU under load: 4 threads for 2 seconds, latency percentiles
-- in the report.
leak.workload "demo-c-cache-lru-load" {
  target = cache,
  expect = "clean",
  threads = 4, duration = "2s", samples = 20,
  inputs = function(rng, i) return "user-" .. rng:int(1, 5000) end,
  step = function(key) cache:call("cache_put_lru", key) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.bounded "target.cache_lru_entries" { max = 256 },
  },
}

-- An fd opened and not closed on one path (odd first byte).
leak.workload "demo-c-fd-leak" {
  target = fdio,
  expect = { fail = { "proc.fds" } },
  iterations = 2000,
  inputs = { "\1odd", "\2even" },
  step = function(input) fdio:call("fd_sink_leaky", input) end,
  invariants = { leak.stable "proc.fds", leak.bounded "proc.fds" { max = 4096 } },
}

-- A Go goroutine blocked forever, only for requests that start with SLOW.
leak.workload "demo-go-goroutine-leak" {
  target = gr,
  expect = { fail = { "go.goroutines" } },
  iterations = 4000,
  inputs = { "GET /a", "GET /b", "SLOW /c", "GET /d" },
  step = function(req) gr:call("OpGoroutineLeak", req) end,
  invariants = { leak.stable "go.goroutines" { slack = 2 } },
}

-- The fixed version: same requests, no goroutine left behind.
leak.workload "demo-go-goroutine-clean" {
  target = gr,
  expect = "clean",
  iterations = 4000,
  inputs = { "GET /a", "GET /b", "SLOW /c", "GET /d" },
  step = function(req) gr:call("OpGoroutineClean", req) end,
  invariants = { leak.stable "go.goroutines" { slack = 2 } },
}

-- time.Ticker never stopped: Go heap grows after every forced GC.
leak.workload "demo-go-ticker-leak" {
  target = timers,
  expect = { fail = { "go.heap_live_bytes" } },
  iterations = 5000,
  step = function(input) timers:call("OpTickerLeak", input) end,
  invariants = { leak.stable "go.heap_live_bytes" },
}

-- C.CString never freed: invisible to Go's metrics, plain in the C heap.
leak.workload "demo-go-cstring-leak" {
  target = cstr,
  expect = { fail = { "heap.live_bytes" } },
  iterations = 5000,
  inputs = { "alpha", "beta", "gamma" },
  step = function(input) cstr:call("OpCStringLeak", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "go.heap_live_bytes",
  },
}

-- sync.Pool used correctly: GC sawtooth and pool refills, no leak.
leak.workload "demo-go-pool-clean" {
  target = pool,
  expect = "clean",
  iterations = 5000,
  inputs = function(rng, i) return rng:bytes(rng:int(16, 4096)) end,
  step = function(input) pool:call("OpPoolClean", input) end,
  invariants = {
    leak.stable "go.heap_live_bytes",
    leak.stable "go.goroutines",
    leak.stable "heap.live_bytes",
  },
}
