-- The Go runtime of a cgo build maps its heap through libc's mmap (from
-- x_cgo_mmap): those mappings are the Go heap's, not the target's, and
-- mmap.live_bytes must leave them out -- even while the Go heap grows by
-- megabytes.  Default invariants (mmap.live_bytes among them).
local gocache = leak.target "build/targets/go/libgocache.so"

leak.workload "go-heap-grows-mmap-flat" {
  target = gocache,
  expect = { fail = { "go.heap_live_bytes" } },
  warmup = 200, iterations = 20000, samples = 20,
  inputs = function(rng, i) return "key-" .. i .. string.rep("x", 200) end,
  step = function(input) gocache:call("OpCacheUnbounded", input) end,
}
