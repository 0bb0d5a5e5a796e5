-- Leaks that run out of what they leak (issue 11, part 3): an HTTP-style
-- client that never closes response bodies, +2 fds and +1 thread per call,
-- whose next call blocks when it cannot get a connection
-- (targets/c/conns.c).  tests/e2e_exhaust.sh runs them.
local conns = leak.target "build/targets/c/libconns.so"

local function get(op)
  return function(input) conns:call(op, input) end
end

-- The client's own pool (600 connections) runs out at call 601, in the
-- 13th of 20 phases: the call blocks and the worker times out.  Judged on
-- the 12 samples taken before: proc.fds, proc.threads and heap.live_bytes
-- (glibc's TLS vector of each thread) fail.
leak.workload "exhaust-pool-timeout" {
  description = "conn_get_leaky blocks once its 600 connections are used",
  target = conns,
  expect = { fail = { "heap.live_bytes", "proc.fds", "proc.threads" } },
  timeout = "4s",
  warmup = 0, iterations = 1000, samples = 20,
  inputs = { "GET /a", "GET /b" },
  step = get "conn_get_leaky",
}

-- Under `ulimit -n 512`: 20 fds a phase reach 95% of RLIMIT_NOFILE near
-- sample 22 of 40, long before the pool; the measured phase stops there
-- and is judged (with sites) before any call blocks.
leak.workload "exhaust-fds-stop" {
  description = "conn_get_leaky nears RLIMIT_NOFILE",
  target = conns,
  expect = { fail = { "heap.live_bytes", "proc.fds", "proc.threads" } },
  timeout = "20s",
  warmup = 0, iterations = 400, samples = 40,
  inputs = { "GET /a", "GET /b" },
  step = get "conn_get_leaky",
}

-- The clean twin, noisy the same way: the same pipes and reader threads
-- come and go on every call.
leak.workload "exhaust-clean" {
  description = "conn_get_clean closes every body",
  target = conns,
  expect = "clean",
  timeout = "20s",
  warmup = 20, iterations = 1000, samples = 20,
  inputs = { "GET /a", "GET /b" },
  step = get "conn_get_clean",
}

-- The same leak, and a crash at call 500 (the 11th of 20 phases): judged
-- on the 10 samples taken before the SIGSEGV.
local faults = leak.target "build/targets/c/libfaults.so"
leak.workload "exhaust-then-crash" {
  description = "conn_get_leaky, then fault_crash segfaults at call 500",
  target = conns,
  expect = { fail = { "heap.live_bytes", "proc.fds", "proc.threads" } },
  timeout = "20s",
  warmup = 0, iterations = 1000, samples = 20,
  inputs = function(rng, i) return i >= 500 and "CRASH" or "GET /a" end,
  step = function(input)
    conns:call("conn_get_leaky", input)
    faults:call("fault_crash", input)
  end,
}

-- No target: 1 MiB of Lua strings kept per iteration.  Under `ulimit -v
-- 400000` (RLIMIT_AS, ~390 MiB; the worker starts near 70 MiB) the
-- measured phase stops near the limit, long before an allocation fails.
local hoard = {}
leak.workload "exhaust-memory-stop" {
  description = "a Lua table keeps 1 MiB per iteration",
  expect = { fail = { "proc.rss_bytes" } },
  timeout = "20s",
  warmup = 0, iterations = 400, samples = 40,
  step = function(input, i)
    hoard[#hoard + 1] = string.rep("x", 1 << 20) .. i
  end,
  invariants = { leak.stable "proc.rss_bytes" },
}

-- +1 thread per call, under `ulimit -u 300` (RLIMIT_NPROC, which counts a
-- user's threads; run as a user other than root, whom it does not hold):
-- stopped near the limit, long before pthread_create fails.
leak.workload "exhaust-threads-stop" {
  description = "conn_get_leaky nears RLIMIT_NPROC",
  target = conns,
  expect = { fail = { "proc.threads" } },
  timeout = "20s",
  warmup = 0, iterations = 500, samples = 40,
  inputs = { "GET /a", "GET /b" },
  step = get "conn_get_leaky",
  invariants = { leak.stable "proc.threads" },
}

-- Used up within the first phase, before samples enough to judge (none
-- can be): never a pass.  The pool runs out at call 601 of a first phase
-- of 1,000: the call blocks and the worker times out with no sample.
leak.workload "exhaust-first-phase-timeout" {
  description = "conn_get_leaky blocks in the first phase",
  target = conns,
  timeout = "3s",
  warmup = 0, iterations = 20000, samples = 20,
  inputs = { "GET /a", "GET /b" },
  step = get "conn_get_leaky",
}

-- Under `ulimit -v 400000`: 32 MiB of Lua strings per iteration run out of
-- address space within ~10 iterations of a first phase of 50.
local hoard32 = {}
leak.workload "exhaust-first-phase-memory" {
  description = "a Lua table keeps 32 MiB per iteration",
  timeout = "20s",
  warmup = 0, iterations = 1000, samples = 20,
  step = function(input, i)
    hoard32[#hoard32 + 1] = string.rep("x", 32 << 20) .. i
  end,
  invariants = { leak.stable "proc.rss_bytes" },
}
