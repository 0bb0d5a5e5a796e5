-- go_map_steps.lua: a Go map never pruned, one small key per call, and
-- its twin pruned at 8,000 keys (targets/go/mapdelete/seen.go;
-- tests/e2e_go_map_steps.sh).  The heap grows only at the map's
-- doublings, each under the Go heap slack in the default 10,000
-- iterations, and the two runs look alike up to there.

local lib = leak.target "build/targets/go/libmapdelete.so"

leak.workload "go-seen-leak" {
  target = lib, step = lib:fn "OpSeenLeak",
  expect = { fail = { "go.heap_live_bytes" } },
}

leak.workload "go-seen-bounded" {
  target = lib, step = lib:fn "OpSeenBounded",
  expect = "clean",
}

-- No room to go on: the pass stands on the slack (the run saw less growth
-- than it tolerates), and the reason says what was seen.
leak.workload "go-seen-leak-no-room" {
  target = lib, step = lib:fn "OpSeenLeak", horizon = 1,
  expect = "clean",
}
