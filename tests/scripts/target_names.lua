-- target_names.lua: a target named without a slash is the file of that
-- name (tests/e2e_targets.sh runs this from a directory holding copies of
-- tests/targets/initcount.c's build as libfoo.so and libm.so.6).

local foo = leak.target "libfoo.so"
local m = leak.target "libm.so.6"
local nope = leak.target "libnope-not-here.so"

local function opened_once(lib)
  return {
    target = lib,
    warmup = 10, iterations = 100, samples = 10,
    step = function() lib:call("initcount_nop", "x") end,
    invariants = { leak.bounded "target.init_calls" { max = 1 } },
  }
end

-- in the current directory, not on the library path
leak.workload "bare-name-in-cwd" (opened_once(foo))
-- a file named like a system library is that file, not the system's
leak.workload "system-name-in-cwd" (opened_once(m))
-- no such file: an error, never a library path search
leak.workload "bare-name-missing" (opened_once(nope))
