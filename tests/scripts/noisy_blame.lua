-- noisy_blame.lua: slow leaks beside a ring of large scratch buffers
-- (tests/e2e_noisy_blame.sh).  LH_NOISYLEAKS names the build of
-- tests/targets/noisyleaks.c.

local lib = leak.target(os.getenv("LH_NOISYLEAKS")
                        or "build/tests/libnoisyleaks.so")
local function requests(rng, i) return string.format("req-%d", i % 1000) end

for _, op in ipairs { "request_rare", "request_small" } do
  leak.workload("noisy-" .. op) {
    target = lib, inputs = requests, step = lib:fn(op),
    expect = { fail = { "heap.live_bytes" } },
    invariants = { leak.stable "heap.live_bytes" },
  }
end

leak.workload "noisy-request_clean" {
  target = lib, inputs = requests, step = lib:fn "request_clean",
  expect = "clean",
  invariants = { leak.stable "heap.live_bytes" },
}
