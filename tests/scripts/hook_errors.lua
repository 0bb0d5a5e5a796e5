-- Errors without a position of their own (tests/e2e_hostile.sh): each is
-- an error naming the script line that raised it.
local faults = leak.target "build/targets/c/libfaults.so"

local function workload(name, hooks)
  local spec = {
    target = faults, warmup = 0, iterations = 50, samples = 10,
    inputs = { "a" },
    step = function(input) faults:call("fault_crash", input) end,
    invariants = { leak.stable "heap.live_bytes" },
  }
  for k, v in pairs(hooks) do spec[k] = v end
  leak.workload(name)(spec)
end

workload("yield-in-step", { step = function() coroutine.yield() end })
workload("yield-in-setup", { setup = function() coroutine.yield() end })
workload("error-table", { step = function() error({ code = 1 }) end })
workload("error-nil", { teardown = function() error() end })
