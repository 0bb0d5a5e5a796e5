-- A target whose last output is not valid UTF-8 ("caf" and half of an
-- "é"), then dies: report.json holds that output tail, and must still be
-- JSON that strict parsers load, with U+FFFD for the broken byte.
local faults = leak.target "build/targets/c/libfaults.so"

leak.workload "fault-echo-bad-utf8" {
  target = faults, expect = "crashed", warmup = 0, iterations = 10,
  inputs = { "caf\xc3" },
  step = function(input) faults:call("fault_echo_abort", input) end,
}
