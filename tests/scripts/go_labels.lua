-- Goroutine sites say which thread's step started them: with threads > 1
-- and diagnosis on, each step runs under pprof labels (leakhound.thread,
-- leakhound.workload) that the goroutines it starts inherit.
local gr = leak.target "build/targets/go/libgoroutines.so"

-- Only thread 2 leaks; the others run the clean twin.
leak.workload "labels-thread-2" {
  target = gr, threads = 4, warmup = 100, iterations = 2000, samples = 10,
  expect = { fail = { "go.goroutines" } },
  step = function(input, i, thread)
    if thread == 2 then
      gr:call("OpGoroutineLeakAlways", input)
    else
      gr:call("OpGoroutineClean", input)
    end
  end,
  invariants = { leak.stable "go.goroutines" },
}

-- Every thread leaks at the same line: one site, the threads joined.
leak.workload "labels-all-threads" {
  target = gr, threads = 3, warmup = 100, iterations = 1500, samples = 10,
  expect = { fail = { "go.goroutines" } },
  step = function(input) gr:call("OpGoroutineLeakAlways", input) end,
  invariants = { leak.stable "go.goroutines" },
}

-- Goroutines started outside any step (here by the settle, which is not
-- labeled) cannot be attributed to one.
leak.workload "labels-outside-steps" {
  target = gr, threads = 2, warmup = 100, iterations = 2000, samples = 10,
  expect = { fail = { "go.goroutines" } },
  step = function(input) gr:call("OpGoroutineClean", input) end,
  settle = function()
    for _ = 1, 20 do gr:call("OpGoroutineLeakAlways", "x") end
    leak.settle()
  end,
  invariants = { leak.stable "go.goroutines" },
}
