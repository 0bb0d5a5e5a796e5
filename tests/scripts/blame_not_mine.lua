-- not_mine: code of one's own that is not to be blamed either.  libusers'
-- update_user leaks a sqlite3 statement per call (lua/suites/c.lua); named
-- not mine by function prefix, the blame passes to its caller, the op.
local users = leak.target "build/targets/c/libusers.so"
local function updates(rng, i)
  return "U" .. string.char(rng:int(0, 255)) .. rng:bytes(8)
end
leak.workload "not-mine-function" {
  target = users, warmup = 50, iterations = 2000, samples = 12,
  expect = { fail = { "heap.live_bytes" } },
  not_mine = { "update_" },
  inputs = updates, step = users:fn "users_update_leaky",
  invariants = { leak.stable "heap.live_bytes" },
}
-- The whole wrapper, by library name: no frame of the user's is left, and
-- the site is the innermost frame outside the runtime, in libsqlite3.
leak.workload "not-mine-library" {
  target = users, warmup = 50, iterations = 2000, samples = 12,
  expect = { fail = { "heap.live_bytes" } },
  not_mine = { "libusers" },
  inputs = updates, step = users:fn "users_update_leaky",
  invariants = { leak.stable "heap.live_bytes" },
}
