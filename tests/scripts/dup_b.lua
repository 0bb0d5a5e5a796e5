-- One workload name in two scripts of a run: both are errors.
local lib = leak.target "build/targets/c/libleak16.so"

leak.workload "other-name" {
  target = lib, warmup = 0, iterations = 100,
  step = function(input) lib:call("leak16_clean", input) end,
}

leak.workload "same-name" {
  target = lib, warmup = 0, iterations = 100,
  step = function(input) lib:call("leak16_clean", input) end,
}
