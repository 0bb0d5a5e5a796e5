-- An unknown metric name is an error at the line that names it.
local lib = leak.target "build/targets/c/libleak16.so"

leak.workload "bad-metric" {
  target = lib,
  step = function(input) lib:call("leak16", input) end,
  invariants = {
    leak.stable "heap.live_byte",
  },
}
