-- Leaks that run the process out of fds (issue 10, item 12).  Run under a
-- lowered limit (`ulimit -n 256`, tests/e2e_faults.sh): each must be a FAIL
-- on proc.fds with its site, and every other /proc metric still measured.
local fdio = leak.target "build/targets/c/libfdio.so"

-- +1 fd per call: the table would be full after ~230 of 1,000 calls, in
-- the 5th of 20 phases; the phases shrink and the measured phase stops
-- near RLIMIT_NOFILE (README, "A leak that runs out of what it leaks").
leak.workload "fd-exhaust-hoard" {
  description = "fd_hoard keeps one /dev/null per call until EMFILE",
  target = fdio,
  expect = { fail = { "proc.fds" } },
  warmup = 0, iterations = 1000, samples = 20,
  step = function(input) fdio:call("fd_hoard", input) end,
  invariants = {
    leak.stable "proc.fds",
    leak.stable "proc.threads",
    leak.stable "proc.rss_bytes",
    leak.bounded "proc.maps" { max = 100000 },
  },
}

-- Every fd at once, on the first measured call.
leak.workload "fd-exhaust-flood" {
  description = "fd_flood opens /dev/null until EMFILE",
  target = fdio,
  expect = { fail = { "proc.fds" } },
  warmup = 0, iterations = 200, samples = 20,
  step = function(input) fdio:call("fd_flood", input) end,
  invariants = {
    leak.stable "proc.fds",
    leak.stable "proc.threads",
  },
}
