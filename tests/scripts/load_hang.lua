-- A top level that never returns: loading the script must be bounded
-- (LEAKHOUND_LOAD_TIMEOUT), in `run`, `test`, `list` and `nightly` alike.
local faults = leak.target "build/targets/c/libfaults.so"

local n = 0
while true do
  n = n + 1
end

leak.workload "never-declared" {
  target = faults,
  step = function(input) faults:call("fault_crash", input) end,
}
