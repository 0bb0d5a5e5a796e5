-- self.lua: leakhound on itself.  Its detector, JSON reader and report
-- renderers, built as a target (tests/self/selftarget.c), must be clean;
-- a twin that never frees the parsed tree shows their blocks are counted.
-- Run by tests/e2e_self.sh.

local self = leak.target "build/tests/self/liblhself.so"
local reports = leak.corpus "tests/reports"

local function heap()
  return {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.baseline "heap.live_bytes" { slack = 0 },
  }
end

leak.workload "self-json" {
  description = "lh_json_parse on reports, whole and cut short",
  target = self, expect = "clean",
  warmup = 30, iterations = 1500, samples = 20,
  inputs = reports,
  step = self:fn "self_json",
  invariants = heap(),
}

leak.workload "self-detect" {
  description = "lh_detect, every invariant kind, on random series",
  target = self, expect = "clean",
  warmup = 30, iterations = 3000, samples = 20,
  inputs = function(rng, i) return rng:bytes(rng:int(0, 64)) end,
  step = self:fn "self_detect",
  invariants = heap(),
}

leak.workload "self-render" {
  description = "JUnit, Markdown and HTML rendered from reports",
  target = self, expect = "clean",
  warmup = 30, iterations = 600, samples = 20,
  inputs = reports,
  step = self:fn "self_render",
  invariants = heap(),
}

leak.workload "self-json-leaky" {
  description = "the JSON reader's trees never freed: must be seen",
  target = self,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs" } },
  warmup = 30, iterations = 300, samples = 20,
  inputs = reports,
  step = self:fn "self_json_leaky",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
  },
}
