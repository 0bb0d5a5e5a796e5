-- Fds leaked from Go (targets/go/gofiles): Go opens them with raw syscalls,
-- so no stack is recorded; an *os.File still held is blamed where the Go
-- heap says it was made (main.watchLeaky), a raw syscall.Open's fd stays
-- unrecorded, and files dropped unclosed (closed by their finalizers) and
-- the closing twin pass.
local files = leak.target "build/targets/go/libgofiles.so"
local mixed = { "#rejected", "ok", "fine", "good" }
leak.workload "go-file-held-leak" {
  target = files, iterations = 2000, inputs = mixed,
  expect = { fail = { "proc.fds" } },
  step = files:fn "OpFileHeldLeak",
  invariants = { leak.stable "proc.fds" },
}
leak.workload "go-file-held-clean" {
  target = files, iterations = 2000, inputs = mixed, expect = "clean",
  step = files:fn "OpFileHeldClean",
  invariants = { leak.stable "proc.fds", leak.stable "go.heap_live_bytes" },
}
leak.workload "go-file-dropped-clean" {
  target = files, iterations = 2000, inputs = mixed, expect = "clean",
  step = files:fn "OpFileDroppedClean",
  invariants = { leak.stable "proc.fds", leak.stable "go.heap_live_bytes" },
}
leak.workload "go-raw-fd-leak" {
  target = files, iterations = 2000, inputs = mixed,
  expect = { fail = { "proc.fds" } },
  step = files:fn "OpRawFdLeak",
  invariants = { leak.stable "proc.fds" },
}
-- the fuzz oracle names the same site (fuzz-go-file-held): from a
-- harmless seed, the '#' path is found and signed at main.watchLeaky
leak.workload "go-file-held-on-seeds" {
  target = files, iterations = 2000, inputs = leak.corpus "corpora/gofiles",
  expect = "clean",
  step = files:fn "OpFileHeldLeak",
  invariants = { leak.stable "proc.fds" },
}
