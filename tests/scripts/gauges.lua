-- gauges.lua: a target's gauges are read with the stepping threads parked
-- (tests/e2e_targets.sh).  LH_INITCOUNT names tests/targets/initcount.c.

local lib = leak.target(os.getenv("LH_INITCOUNT")
                        or "build/tests/libinitcount.so")

-- Four threads, half a second between samples: progress ticks come while
-- steps run; target.racing_reads counts the reads made during a step.
leak.workload "gauge-read-parked" {
  target = lib,
  warmup = 0, duration = "3s", threads = 4, samples = 6,
  inputs = function(rng, i) return "x" end,
  step = function(input) lib:call("initcount_busy", input) end,
  invariants = { leak.bounded "target.racing_reads" { max = 0 } },
}
