-- What a step function receives when the fuzz session calls it (repro,
-- the fuzz drivers): the input, the iteration index and the thread
-- number, each as declared -- a step declaring fewer parameters is
-- passed fewer (harness/fuzz/session.c), one taking `...` all three.
local lib = leak.target "build/targets/c/libleak16.so"
local last

local function check_i(i)
  assert(math.type(i) == "integer", "i is not an integer: " .. tostring(i))
  assert(last == nil or i == last + 1, "i did not count up: " ..
         tostring(last) .. " then " .. tostring(i))
  last = i
end

leak.workload "step-args-three" {
  target = lib, expect = "clean", warmup = 4, inputs = { "warm" },
  step = function(input, i, thread)
    assert(type(input) == "string", "input is not a string")
    check_i(i)
    assert(thread == 0, "thread is not 0: " .. tostring(thread))
    lib:call("leak16_clean", input)
  end,
}

leak.workload "step-args-vararg" {
  target = lib, expect = "clean", warmup = 4, inputs = { "warm" },
  step = function(...)
    assert(select("#", ...) == 3, "not 3 arguments: " .. select("#", ...))
    local input, i, thread = ...
    check_i(i)
    assert(thread == 0, "thread is not 0")
    lib:call("leak16_clean", input)
  end,
}

leak.workload "step-args-one" {
  target = lib, expect = "clean", warmup = 4, inputs = { "warm" },
  step = function(input)
    assert(type(input) == "string", "input is not a string")
    lib:call("leak16_clean", input)
  end,
}
