-- The HTTP client of issue 11, part 3, in Go: response bodies never
-- closed, +2 fds and +3 goroutines per call (targets/go/httpbodies).
-- tests/e2e_exhaust.sh runs them when the Go targets are built.
local http = leak.target "build/targets/go/libhttpbodies.so"

local inputs = { "a", "b", "c", "d" }

-- Under `ulimit -n 512`: stopped near RLIMIT_NOFILE and judged, with sites.
leak.workload "exhaust-go-fds-stop" {
  description = "OpGetNoClose nears RLIMIT_NOFILE",
  target = http,
  expect = { fail = { "proc.fds", "go.goroutines", "go.heap_live_bytes" } },
  timeout = "30s",
  warmup = 10, iterations = 400, samples = 40,
  inputs = inputs,
  step = function(input) http:call("OpGetNoClose", input) end,
  invariants = {
    leak.stable "proc.fds",
    leak.stable "go.goroutines" { slack = 2 },
    leak.stable "go.heap_live_bytes",
  },
}

-- The client's 600 connections are all held at call 600: the next request
-- waits for one forever, in the 13th of 20 phases.  Judged on the samples
-- taken before the timeout.
leak.workload "exhaust-go-timeout" {
  description = "OpGetNoClose waits for a connection once 600 are held",
  target = http,
  expect = { fail = { "proc.fds", "go.goroutines", "go.heap_live_bytes" } },
  timeout = "8s",
  warmup = 0, iterations = 1000, samples = 20,
  inputs = inputs,
  step = function(input) http:call("OpGetNoClose", input) end,
  invariants = {
    leak.stable "proc.fds",
    leak.stable "go.goroutines" { slack = 2 },
    leak.stable "go.heap_live_bytes",
  },
}

-- The clean twin: the same requests, every body read and closed.
leak.workload "exhaust-go-clean" {
  description = "OpGetClose closes every body",
  target = http,
  expect = "clean",
  timeout = "30s",
  warmup = 10, iterations = 1000, samples = 20,
  inputs = inputs,
  step = function(input) http:call("OpGetClose", input) end,
  invariants = {
    leak.stable "proc.fds",
    leak.stable "go.goroutines" { slack = 2 },
    leak.stable "go.heap_live_bytes",
  },
}
