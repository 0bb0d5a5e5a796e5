-- A step the run may not go far enough to judge: the x4 ring of
-- lua/suites/c.lua (last step at 4,097 calls, a plateau told only at
-- ~21,800 iterations) under horizon = 2, which allows 20,100.  The
-- verdict is unresolved, never pass.  e2e_unresolved.sh.
local steps = leak.target "build/targets/c/libsteps.so"

local function ring4(name, expect)
  leak.workload(name) {
    target = steps, horizon = 2, timeout = "60s", expect = expect,
    inputs = { "0123456789abcdef" },
    step = steps:fn "steps_ring4_append",
    invariants = { leak.stable "heap.live_bytes" },
  }
end

ring4("ring4-capped")
ring4("ring4-capped-expected", "unresolved")
