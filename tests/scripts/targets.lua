-- targets.lua: how targets are opened (tests/e2e_targets.sh).
--
-- LH_INITCOUNT names the build of tests/targets/initcount.c.

local lib = leak.target(os.getenv("LH_INITCOUNT")
                        or "build/tests/libinitcount.so")

-- Four threads, one process: the target is opened, and its
-- LLVMFuzzerInitialize run, once.
leak.workload "init-once-with-threads" {
  target = lib,
  warmup = 40, iterations = 400, threads = 4, samples = 10,
  inputs = function(rng, i) return "x" end,
  step = function(input) lib:call("initcount_nop", input) end,
  invariants = { leak.bounded "target.init_calls" { max = 1 } },
}
