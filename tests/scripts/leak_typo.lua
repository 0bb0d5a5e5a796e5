-- The leak module is strict: an unknown field is an error naming it.
local lib = leak.target "build/targets/c/libleak16.so"

leak.workload "leak-typo" {
  target = lib,
  step = function(input) lib:call("leak16", input) end,
  invariants = { leak.flat "heap.live_bytes" },
}
