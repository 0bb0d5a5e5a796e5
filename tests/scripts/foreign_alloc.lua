-- foreign_alloc.lua: targets whose memory the malloc interposer cannot see
-- (tests/e2e_targets.sh).  LH_PREFIXALLOC embeds a prefixed allocator
-- (je_malloc) and leaks 64 B of it per call; LH_NEEDSJEMALLOC is linked
-- with a library named libjemalloc-fake.so.

local pa = leak.target(os.getenv("LH_PREFIXALLOC")
                       or "build/tests/libprefixalloc.so")
local nj = leak.target(os.getenv("LH_NEEDSJEMALLOC")
                       or "build/tests/libneedsjemalloc.so")

-- heap.* would read flat and pass: an error naming the allocator
leak.workload "prefixed-heap-invariant" {
  target = pa,
  warmup = 10, iterations = 200, samples = 10,
  step = function() pa:call("prefixalloc_leak", "x") end,
  invariants = { leak.stable "heap.live_bytes" },
}

-- what the README says to use instead: the allocator's own numbers
leak.workload "prefixed-gauge-invariant" {
  target = pa,
  warmup = 10, iterations = 200, samples = 10,
  step = function() pa:call("prefixalloc_leak", "x") end,
  invariants = { leak.stable "target.arena_bytes" },
}

-- no invariants: the defaults include heap.live_bytes
leak.workload "needs-jemalloc-defaults" {
  target = nj,
  warmup = 10, iterations = 200, samples = 10,
  step = function() nj:call("needsjemalloc_nop", "x") end,
}

-- the workload's own target is clean, but its steps open one that is not
local clean = leak.target(os.getenv("LH_INITCOUNT")
                          or "build/tests/libinitcount.so")
leak.workload "foreign-opened-in-step" {
  target = clean,
  warmup = 10, iterations = 200, samples = 10,
  step = function()
    clean:call("initcount_nop", "x")
    pa:call("prefixalloc_leak", "x")
  end,
  invariants = { leak.stable "heap.live_bytes",
                 leak.bounded "proc.threads" { max = 64 } },
}

-- the system's jemalloc (LH_JEMALLOC: built when libjemalloc-dev is there)
if os.getenv("LH_JEMALLOC") then
  local je = leak.target(os.getenv("LH_JEMALLOC"))
  leak.workload "linked-with-jemalloc" {
    target = je,
    warmup = 10, iterations = 200, samples = 10,
    step = function() je:call("jemalloc_leak", "x") end,
    invariants = { leak.stable "heap.live_bytes" },
  }
end
