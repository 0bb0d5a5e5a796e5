-- A target that forks: only the worker returns into the harness, and what
-- the target started is gone when its workload ends (tests/e2e_faults.sh).
local faults = leak.target "build/targets/c/libfaults.so"

leak.workload "fault-fork-return" {
  description = "fault_fork_return forks once and returns in both processes",
  target = faults,
  expect = "clean", timeout = "60s",
  warmup = 0, iterations = 60,
  inputs = { "FORK", "x", "y" },
  step = function(input) faults:call("fault_fork_return", input) end,
  invariants = { leak.bounded "proc.fds" { max = 1000 } },
}

leak.workload "fault-daemon" {
  description = "fault_daemon starts a setsid() daemon, then runs clean",
  target = faults,
  expect = "clean", timeout = "60s",
  warmup = 0, iterations = 60,
  inputs = { "DAEMON", "x" },
  step = function(input) faults:call("fault_daemon", input) end,
  invariants = { leak.bounded "proc.fds" { max = 1000 } },
}

leak.workload "fault-daemon-hang" {
  description = "fault_daemon starts a setsid() daemon, then the step hangs",
  target = faults,
  expect = "timeout", timeout = "3s",
  warmup = 0, iterations = 60,
  inputs = { "DAEMON", "HANG" },
  step = function(input)
    faults:call("fault_daemon", input)
    faults:call("fault_hang", input)
  end,
}
