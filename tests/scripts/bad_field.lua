-- A misspelt workload field is an error at the line that declares it.
local lib = leak.target "build/targets/c/libleak16.so"

leak.workload "bad-field" {
  target = lib,
  iteration = 100,
  step = function(input) lib:call("leak16", input) end,
}
