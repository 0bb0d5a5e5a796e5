-- Loads in the supervisor, never finishes loading in the worker: the
-- worker's load is bounded too.  A target opens only in a worker.
local faults = leak.target "build/targets/c/libfaults.so"

if pcall(function() faults:call("fault_crash", "x") end) then
  while true do end
end

leak.workload "load-hang-in-worker" {
  target = faults,
  expect = "error", timeout = "30s",
  warmup = 0, iterations = 10,
  step = function(input) faults:call("fault_crash", input) end,
}
