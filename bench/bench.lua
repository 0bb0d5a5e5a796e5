-- bench.lua: workloads for ci/bench (not part of the test suites).
local sizeleak = leak.target "build/bench/libsizeleak.so"

-- A 16-slot cache: clean on short payloads, leaks payloads >= 1 KiB.
-- `leakhound fuzz` must find the long payloads; growth feedback is what
-- rewards longer retained payloads on the way.
leak.workload "bench-size-leak" {
  target = sizeleak,
  expect = "clean",
  warmup = 100, iterations = 5000,
  inputs = leak.corpus "corpora/sizeleak",
  step = function(input) sizeleak:call("size_cache_put", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}

-- Throughput: the clean record parser, fuzzed.  `step` is the op itself
-- (lib:fn), so the fuzz driver calls it directly, without Lua in the loop.
local record = leak.target "build/targets/c/librecord.so"

leak.workload "bench-record-clean" {
  target = record,
  expect = "clean",
  inputs = leak.corpus "corpora/record",
  step = record:fn "record_parse_clean",
  invariants = { leak.stable "heap.live_bytes" },
}

-- The same with a Lua step function: what the oracle costs on top of the
-- usual way of writing a step.
leak.workload "bench-record-clean-lua" {
  target = record,
  expect = "clean",
  inputs = leak.corpus "corpora/record",
  step = function(input) record:call("record_parse_clean", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}

-- Interposer cost on an allocator-bound op (ci/bench-interposer): 1,000
-- malloc/free pairs per call, 100 + 20,000 calls, against the plain loop
-- (bench/churn_loop.c) making the same calls.  Counting only, sites at
-- the default rate, a Lua step, and 2 threads.  LEAKHOUND_BENCH_CALLS
-- overrides the 20,000 (ci/bench-interposer's CALLS).
local churn = leak.target "build/bench/libchurn.so"
local churn_calls = tonumber(os.getenv "LEAKHOUND_BENCH_CALLS") or 20000
local churn_op = churn:fn "churn_op"

local function churn_workload(name, t)
  local w = {
    target = churn,
    expect = "clean",
    warmup = 100, iterations = churn_calls,
    step = churn_op,
    invariants = { leak.stable "heap.live_bytes" },
  }
  for k, v in pairs(t) do w[k] = v end
  leak.workload(name)(w)
end

churn_workload("bench-churn-counting", { diagnose = false })
churn_workload("bench-churn-sites", {})
churn_workload("bench-churn-lua", {
  step = function(input) churn_op(input) end,
})
churn_workload("bench-churn-counting-2t", { diagnose = false, threads = 2 })
churn_workload("bench-churn-sites-2t", { threads = 2 })

-- Throughput on a tokenizer whose scratch arena grows to the largest
-- request seen and is kept (targets/c/tokenize.c): clean, but the heap
-- rises at every new longest input while the fuzzer lengthens them.
local tokenize = leak.target "build/targets/c/libtokenize.so"

leak.workload "bench-tokenize-clean" {
  target = tokenize,
  expect = "clean",
  inputs = leak.corpus "corpora/tokenize",
  step = tokenize:fn "tokenize_clean",
  invariants = { leak.stable "heap.live_bytes" },
}

leak.workload "bench-tokenize-clean-lua" {
  target = tokenize,
  expect = "clean",
  inputs = leak.corpus "corpora/tokenize",
  step = function(input) tokenize:call("tokenize_clean", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}

-- Start-up: a trivial workload, the whole `leakhound run` timed.
leak.workload "bench-trivial" {
  target = tokenize,
  expect = "clean",
  warmup = 0, iterations = 16, samples = 8,
  inputs = { "let x = 1;" },
  step = tokenize:fn "tokenize_clean",
  invariants = { leak.stable "heap.live_bytes" },
}
