-- c.lua: the bundled C targets (targets/c/, see its README.md).
--
-- One workload per leaky op and one per clean twin.  A leaky workload names
-- in `expect` the metrics that must fail; every other invariant it lists must
-- pass.  Growth figures in the comments are per iteration, measured outside
-- the harness (heap sizes are malloc_usable_size, as the interposer counts).

local record  = leak.target "build/targets/c/librecord.so"
local cache   = leak.target "build/targets/c/libcache.so"
local fdio    = leak.target "build/targets/c/libfdio.so"
local threads = leak.target "build/targets/c/libthreads.so"
local lazy    = leak.target "build/targets/c/liblazy.so"
local leak16  = leak.target "build/targets/c/libleak16.so"
local render  = leak.target "build/targets/c/librender.so"
local steps   = leak.target "build/targets/c/libsteps.so"

-- A record: tag[4] len[1] payload[len].  One input in four is a GROW record,
-- the tag that takes librecord's error path.
local function records(rng, i)
  local tag = (i % 4 == 0) and "GROW" or "DATA"
  local payload = rng:bytes(rng:int(0, 32))
  return tag .. string.char(#payload) .. payload
end

-- An input for libfdio whose first byte is odd: the "probe only" path.
local function odd_first_byte(rng, i)
  return string.char(rng:int(0, 127) * 2 + 1) .. rng:bytes(15)
end

-- Anything: the lazy and leak16 ops do not look at their input's content.
local function any_bytes(rng, i)
  return rng:bytes(rng:int(0, 64))
end

---------------------------------------------------------------------------
-- 1. A leak on an error path gated on input content (librecord)
---------------------------------------------------------------------------

-- +264 B and +1 block per GROW record: +66 B/iter, +0.25 blocks/iter.
leak.workload "c-record-error-path-leak" {
  description = "record_parse_leaky forgets its scratch buffer on GROW records",
  target = record,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs" } },
  warmup = 200, iterations = 20000, samples = 30,
  inputs = records,
  step = function(input) record:call("record_parse_leaky", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.bounded "proc.fds" { max = 64 },
  },
}

leak.workload "c-record-error-path-clean" {
  description = "record_parse_clean frees on the error path too",
  target = record,
  expect = "clean",
  warmup = 200, iterations = 20000, samples = 30,
  inputs = records,
  step = function(input) record:call("record_parse_clean", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.baseline "heap.live_bytes" { slack = 0 },
  },
}

-- The leaky parser on its harmless seeds: clean, because no seed starts with
-- GROW.  This is the workload a fuzzer must turn into a failing case.
leak.workload "c-record-leaky-on-seeds" {
  description = "record_parse_leaky is clean until an input starts with GROW",
  target = record,
  expect = "clean",
  warmup = 100, iterations = 5000, samples = 20,
  inputs = leak.corpus "corpora/record",
  step = function(input) record:call("record_parse_leaky", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.baseline "heap.live_bytes" { slack = 0 },
  },
}

---------------------------------------------------------------------------
-- 2. Unbounded cache / bounded LRU (libcache)
---------------------------------------------------------------------------

-- Every iteration is a new key: +1 block, +1 entry, ~+61 B per iteration.
leak.workload "c-cache-unbounded" {
  description = "cache_put_unbounded keeps every distinct key forever",
  target = cache,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs",
                      "target.cache_unbounded_entries" } },
  warmup = 200, iterations = 20000, samples = 30,
  inputs = function(rng, i) return "key-" .. i end,
  step = function(input) cache:call("cache_put_unbounded", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.stable "target.cache_unbounded_entries" { slack = 10 },
  },
}

-- Keys cycle over 10,000 distinct values, far more than the capacity (256).
-- The short warmup leaves the fill visible: the cache reaches 256 entries
-- (18,432 B in 256 blocks) in the first ~160 measured iterations and then
-- recycles nodes without allocating, so everything is flat from there on.
-- No baseline invariant: the cache rightly holds more after the run than
-- before it.
leak.workload "c-cache-lru" {
  description = "cache_put_lru fills up to its capacity and plateaus",
  target = cache,
  expect = "clean",
  warmup = 100, iterations = 20000, samples = 30,
  inputs = function(rng, i) return string.format("key-%05d", i % 10000) end,
  step = function(input) cache:call("cache_put_lru", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.stable "target.cache_lru_entries",
    leak.bounded "target.cache_lru_entries" { max = 256 },
  },
}

-- Load test: four threads on the mutex-guarded LRU, random keys.  The warmup
-- fills the cache, so the measured run allocates nothing at all.
leak.workload "c-cache-lru-load" {
  description = "four threads hammer cache_put_lru; memory and fds stay flat",
  target = cache,
  expect = "clean",
  threads = 4, warmup = 4000, iterations = 80000, samples = 40,
  inputs = function(rng, i)
    return string.format("key-%05d", rng:int(0, 9999))
  end,
  step = function(input) cache:call("cache_put_lru", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.baseline "heap.live_bytes" { slack = "5%" },
    leak.stable "target.cache_lru_entries",
    leak.bounded "target.cache_lru_entries" { max = 256 },
    leak.bounded "proc.fds" { max = 64 },
  },
}

-- The gated cache on its seeds: clean, because no seed starts with KEEP, so
-- every key goes to the LRU (5 keys, stored during warmup).  Fuzzing it finds
-- the prefix, and then a KEEP key grows nothing when it is replayed: only
-- distinct KEEP keys do, which the fuzz oracle's distinct-input replay
-- confirms (tests: fuzz-c-cache-gated-libfuzzer).
leak.workload "c-cache-gated-on-seeds" {
  description = "cache_put_gated is clean until keys start with KEEP",
  target = cache,
  expect = "clean",
  warmup = 100, iterations = 5000, samples = 20,
  inputs = leak.corpus "corpora/cache",
  step = cache:fn "cache_put_gated",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.baseline "heap.live_bytes" { slack = 0 },
  },
}

-- The LRU on the same seeds: the fuzzing false-positive guard
-- (fuzz-c-cache-lru-clean): any key the fuzzer makes fills the LRU, which
-- then plateaus, so distinct-input replay must not confirm anything.
leak.workload "c-cache-lru-on-seeds" {
  description = "cache_put_lru on the cache seeds: clean, and fuzzes clean",
  target = cache,
  expect = "clean",
  warmup = 100, iterations = 5000, samples = 20,
  inputs = leak.corpus "corpora/cache",
  step = cache:fn "cache_put_lru",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.baseline "heap.live_bytes" { slack = 0 },
  },
}

---------------------------------------------------------------------------
-- 3. An fd left open on one path (libfdio)
---------------------------------------------------------------------------

-- Every input takes the leaking path: +1 fd per iteration, no heap.  Kept to
-- 2,000 iterations (+100 warmup): the open-file limit is 20,000.
leak.workload "c-fd-leak" {
  description = "fd_sink_leaky never closes /dev/null on the probe-only path",
  target = fdio,
  expect = { fail = { "proc.fds" } },
  warmup = 100, iterations = 2000, samples = 20,
  inputs = odd_first_byte,
  step = function(input) fdio:call("fd_sink_leaky", input) end,
  invariants = {
    leak.stable "proc.fds",
    leak.stable "heap.live_bytes",
  },
}

leak.workload "c-fd-clean" {
  description = "fd_sink_clean closes on every path",
  target = fdio,
  expect = "clean",
  warmup = 100, iterations = 20000, samples = 30,
  inputs = odd_first_byte,
  step = function(input) fdio:call("fd_sink_clean", input) end,
  invariants = {
    leak.stable "proc.fds",
    leak.baseline "proc.fds" { slack = 0 },
    leak.bounded "proc.fds" { max = 64 },
  },
}

-- The leaky sink on its seeds (all even first bytes): clean.  Fuzzing it
-- finds an odd first byte at once; mind the fd limit when it does.
leak.workload "c-fd-leaky-on-seeds" {
  description = "fd_sink_leaky is clean until an input's first byte is odd",
  target = fdio,
  expect = "clean",
  warmup = 100, iterations = 2000, samples = 20,
  inputs = leak.corpus "corpora/fdio",
  step = function(input) fdio:call("fd_sink_leaky", input) end,
  invariants = {
    leak.stable "proc.fds",
    leak.bounded "proc.fds" { max = 64 },
  },
}

---------------------------------------------------------------------------
-- 4. A thread never joined (libthreads)
---------------------------------------------------------------------------

-- +1 blocked thread per 10 calls: +0.1 threads/iter, 500 threads in the run.
-- (Each also costs 2 maps and ~280 B of heap; not asserted here.)
leak.workload "c-thread-leak" {
  description = "thread_spawn_leaky parks a helper forever every 10th call",
  target = threads,
  expect = { fail = { "proc.threads", "target.threads_parked" } },
  warmup = 100, iterations = 5000, samples = 25,
  inputs = { "alpha", "beta", "gamma" },
  step = function(input) threads:call("thread_spawn_leaky", input) end,
  invariants = {
    leak.stable "proc.threads",
    leak.stable "target.threads_parked",
    leak.bounded "proc.fds" { max = 64 },
  },
}

leak.workload "c-thread-clean" {
  description = "thread_spawn_clean joins every helper it starts",
  target = threads,
  expect = "clean",
  warmup = 100, iterations = 5000, samples = 25,
  inputs = { "alpha", "beta", "gamma" },
  step = function(input) threads:call("thread_spawn_clean", input) end,
  invariants = {
    leak.stable "proc.threads",
    leak.baseline "proc.threads" { slack = 0 },
    leak.stable "heap.live_bytes",
    leak.bounded "target.threads_parked" { max = 0 },
  },
}

---------------------------------------------------------------------------
-- 5. Clean lazy initialisation (liblazy)
---------------------------------------------------------------------------

-- The one-time 16 KiB table is built during warmup; the run is flat.
leak.workload "c-lazy-init" {
  description = "lazy_crc32 builds its table once, then allocates nothing",
  target = lazy,
  expect = "clean",
  warmup = 100, iterations = 20000, samples = 30,
  inputs = any_bytes,
  step = function(input) lazy:call("lazy_crc32", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.baseline "heap.live_bytes" { slack = 0 },
    leak.bounded "target.lazy_tables" { max = 1 },
  },
}

-- Without warmup the one-time step lands in the first measured iteration.
-- A step is not a trend: stable must still pass.  (No baseline invariant:
-- the table is rightly there after the run and not before it.)
leak.workload "c-lazy-init-measured" {
  description = "the one-time allocation inside the measured run is no leak",
  target = lazy,
  expect = "clean",
  warmup = 0, iterations = 20000, samples = 30,
  inputs = any_bytes,
  step = function(input) lazy:call("lazy_crc32", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.bounded "target.lazy_tables" { max = 1 },
  },
}

---------------------------------------------------------------------------
-- 6. Detector sanity: exactly one malloc(16) per call (libleak16)
---------------------------------------------------------------------------

-- +1 block and +24 B (usable size of malloc(16)) per iteration, exactly:
-- the slope the detector reports should be 24 B/iter and 1 block/iter.
leak.workload "c-leak16" {
  description = "leak16 keeps one 16-byte block per call",
  target = leak16,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs",
                      "target.leak16_blocks" } },
  warmup = 100, iterations = 20000, samples = 30,
  inputs = any_bytes,
  step = function(input) leak16:call("leak16", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.max_growth "heap.live_allocs" { per_iter = 0.5 },
    leak.stable "target.leak16_blocks",
    leak.bounded "proc.fds" { max = 64 },
  },
}

leak.workload "c-leak16-clean" {
  description = "leak16_clean frees its 16-byte block",
  target = leak16,
  expect = "clean",
  warmup = 100, iterations = 20000, samples = 30,
  inputs = any_bytes,
  step = function(input) leak16:call("leak16_clean", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.baseline "heap.live_bytes" { slack = 0 },
    leak.max_growth "heap.live_bytes" { per_iter = 1 },
    leak.bounded "target.leak16_blocks" { max = 0 },
  },
}

-- A slow leak: one 16-byte block (24 B usable) on every 10th call,
-- +2.4 B/iter, with the default invariants.  Heap sampling at 16 KiB sees
-- about two of its blocks in a run; the site is named by the confirmation
-- window that records every allocation (README, "Sites").
leak.workload "c-leak16-slow" {
  description = "leak16_slow keeps a 16-byte block on every 10th call",
  target = leak16,
  expect = { fail = { "heap.live_bytes" } },
  inputs = any_bytes,
  step = function(input) leak16:call("leak16_slow", input) end,
}

leak.workload "c-leak16-slow-clean" {
  description = "leak16_slow_clean frees its block of every 10th call",
  target = leak16,
  expect = "clean",
  inputs = any_bytes,
  step = function(input) leak16:call("leak16_slow_clean", input) end,
}

---------------------------------------------------------------------------
-- 7. Mapped memory, not malloc'd (librender)
---------------------------------------------------------------------------

-- A request: one in four is DRAW (render_draw_* maps a 4 KiB page for it),
-- the others TEXT (checksummed, nothing mapped).  The payload picks one of
-- 64 cache slots.
local function draws(rng, i)
  local tag = (i % 4 == 0) and "DRAW" or "TEXT"
  return tag .. rng:bytes(rng:int(1, 24))
end

-- No invariants declared: the defaults judge it.  +4,096 B and +1 mapping
-- per DRAW request (+1,024 B/iter); the heap, proc.maps (the kernel merges
-- the pages) and fds stay flat.
leak.workload "c-render-mmap-leak" {
  description = "render_draw_leaky overwrites a cache slot without munmap",
  target = render,
  expect = { fail = { "mmap.live_bytes" } },
  warmup = 200, iterations = 10000, samples = 30,
  inputs = draws,
  step = function(input) render:call("render_draw_leaky", input) end,
}

-- The same maps and unmaps; the cache fills its 64 slots (256 KiB) during
-- warmup and stays there.
leak.workload "c-render-mmap-ring" {
  description = "render_draw_ring unmaps a slot's old page: 64 pages at most",
  target = render,
  expect = "clean",
  warmup = 2000, iterations = 10000, samples = 30,
  inputs = draws,
  step = function(input) render:call("render_draw_ring", input) end,
}

-- The leaky cache on its seeds (no DRAW request): clean.  Fuzzing it finds
-- DRAW, and replaying that input maps a page each time (tests:
-- fuzz-c-render-libfuzzer).
leak.workload "c-render-leaky-on-seeds" {
  description = "render_draw_leaky is clean until a request is a DRAW",
  target = render,
  expect = "clean",
  warmup = 100, iterations = 5000, samples = 20,
  inputs = leak.corpus "corpora/render",
  step = render:fn "render_draw_leaky",
  invariants = {
    leak.stable "mmap.live_bytes",
    leak.stable "heap.live_bytes",
  },
}

---------------------------------------------------------------------------
-- 8. Growth in steps (libsteps): a doubling log and three plateaus
---------------------------------------------------------------------------

-- The defaults (warmup 100, 10,000 iterations, 30 samples, the default
-- invariants).  16 B per call, but heap.live_bytes only moves when the log
-- doubles: at 8,193 calls (+128 KiB) in the judged half, so the run is
-- extended until 2x that, where it doubles again (16,385 calls).
leak.workload "c-steps-log" {
  description = "steps_log_append keeps every request in a buffer that doubles",
  target = steps,
  expect = { fail = { "heap.live_bytes" } },
  inputs = any_bytes,
  step = steps:fn "steps_log_append",
}

-- A new key every call into an LRU of 6,000: it fills (and its index
-- doubles) up to call 6,000, inside the judged half, then recycles nodes.
-- The run is extended to 2x the last step and nothing steps again.
leak.workload "c-steps-lru" {
  description = "steps_lru_put fills an LRU of 6000 late in the run, then plateaus",
  target = steps,
  expect = "clean",
  inputs = function(rng, i) return "key-" .. i end,
  step = steps:fn "steps_lru_put",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
    leak.bounded "target.steps_lru_entries" { max = 6000 },
  },
}

-- Requests of up to 2 KB, and one of 100,000 B at call 6,500: the arena
-- doubles to 128 KiB there and is reused from then on.
leak.workload "c-steps-arena" {
  description = "steps_arena_run grows to its largest request, then reuses it",
  target = steps,
  expect = "clean",
  inputs = function(rng, i)
    return string.pack("<I4", i == 6500 and 100000 or rng:int(1, 2000))
  end,
  step = steps:fn "steps_arena_run",
}

-- 2,048 keys at random, 64 per 4 KiB page: a page is taken at every 64th
-- distinct key, ever more rarely; the last (32nd) at ~7,100 calls.
leak.workload "c-steps-pages" {
  description = "steps_page_put takes a page a few times late in the run, then stops",
  target = steps,
  expect = "clean",
  inputs = function(rng, i) return string.pack("<I2", rng:int(0, 2047)) end,
  step = steps:fn "steps_page_put",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.bounded "target.steps_pages" { max = 32 },
  },
}

-- The log grown by 4: it steps at 1,025 and 4,097 calls, both in the first
-- half, and next at 16,385.  Its last two steps grow by the same factor in
-- place and in size, so the run is extended to where a x4 grower must step
-- again (~21,800 iterations), and it does.
leak.workload "c-steps-log4" {
  description = "steps_log4_append keeps every request in a buffer grown x4",
  target = steps,
  expect = { fail = { "heap.live_bytes" } },
  inputs = any_bytes,
  step = steps:fn "steps_log4_append",
}

-- The same steps up to 16,384 records, then a ring: extended as far, no
-- step at 16,385: a plateau.
leak.workload "c-steps-ring4" {
  description = "steps_ring4_append grows x4 like the log, then wraps at 16384",
  target = steps,
  expect = "clean",
  inputs = any_bytes,
  step = steps:fn "steps_ring4_append",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.bounded "target.steps_ring4_records" { max = 16384 },
  },
}

-- The log grown by 8: it steps at 1,025 and 8,193 calls, and next at
-- 65,537.  Known only to within a phase, its next step lies at most at
-- ~92,700 iterations (9.3x): the run is extended as far (horizon = 10,
-- the default), and it steps.
leak.workload "c-steps-log8" {
  description = "steps_log8_append keeps every request in a buffer grown x8",
  target = steps,
  expect = { fail = { "heap.live_bytes" } },
  inputs = any_bytes,
  step = steps:fn "steps_log8_append",
}

-- The same steps up to 65,536 records, then a ring: extended as far, no
-- step at 65,537.
leak.workload "c-steps-ring8" {
  description = "steps_ring8_append grows x8 like the log, then wraps at 65536",
  target = steps,
  expect = "clean",
  inputs = any_bytes,
  step = steps:fn "steps_ring8_append",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.bounded "target.steps_ring8_records" { max = 65536 },
  },
}

---------------------------------------------------------------------------
-- 9. A leak that runs out of what it leaks (libconns)
---------------------------------------------------------------------------

local conns = leak.target "build/targets/c/libconns.so"

-- Response bodies never closed: +2 fds and +1 thread per call, under a
-- soft RLIMIT_NOFILE of 512 set in setup.  The table would be full near
-- call 240, in the 10th of 40 phases, and the next call would block; the
-- measured phase stops at 95% of the limit and is judged there.
leak.workload "c-conns-body-leak" {
  description = "conn_get_leaky never closes a body, under RLIMIT_NOFILE 512",
  target = conns,
  expect = { fail = { "heap.live_bytes", "proc.fds", "proc.threads" } },
  timeout = "30s",
  setup = function() assert(conns:call("conn_limit_fds", "512") == 0) end,
  warmup = 0, iterations = 1000, samples = 40,
  inputs = { "GET /a", "GET /b" },
  step = function(input) conns:call("conn_get_leaky", input) end,
}

leak.workload "c-conns-body-clean" {
  description = "conn_get_clean closes every body, under RLIMIT_NOFILE 512",
  target = conns,
  expect = "clean",
  timeout = "30s",
  setup = function() assert(conns:call("conn_limit_fds", "512") == 0) end,
  warmup = 20, iterations = 1000, samples = 40,
  inputs = { "GET /a", "GET /b" },
  step = function(input) conns:call("conn_get_clean", input) end,
}

---------------------------------------------------------------------------
-- 10. Your code on a system library (libusers on Debian's libsqlite3)
---------------------------------------------------------------------------

-- Every allocation happens inside the stripped libsqlite3; each leak is
-- the wrapper's, and its site must name the wrapper's function, with the
-- way through libsqlite3 as detail (tests/e2e_diag.sh, tests/e2e_blame.sh):
--   update_user (targets/c/users.c:N)  → sqlite3_prepare_v2 → ... sqlite3Malloc (libsqlite3.so.0)
local users = leak.target "build/targets/c/libusers.so"

-- A request: op[1] id[1] name[0..20]; op "U" update, "L" label, "S" lookup.
local function user_requests(ops)
  return function(rng, i)
    local k = i % #ops + 1
    return ops:sub(k, k) .. string.char(rng:int(0, 255))
           .. rng:bytes(rng:int(0, 20))
  end
end

-- One statement never finalized per call: ~+1,500 B/iter.
leak.workload "c-users-stmt-leak" {
  description = "update_user never finalizes its sqlite3 statement",
  target = users,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs" } },
  warmup = 100, iterations = 5000, samples = 20,
  inputs = user_requests("U"),
  step = users:fn "users_update_leaky",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
  },
}

-- One sqlite3_mprintf string never freed per call: ~+37 B/iter.
leak.workload "c-users-label-leak" {
  description = "label_user never sqlite3_free()s its sqlite3_mprintf label",
  target = users,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs" } },
  warmup = 100, iterations = 5000, samples = 20,
  inputs = user_requests("L"),
  step = users:fn "users_label_leaky",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
  },
}

-- Both leaks behind one op, by the request's first byte: two sites, and
-- two regression cases when their inputs are filed (tests/e2e_blame.sh).
-- The label leak is 2% of the growth: finer heap sampling keeps it seen.
leak.workload "c-users-requests-leaky" {
  description = "users_request_leaky: update_user and label_user both leak",
  target = users,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs" } },
  warmup = 100, iterations = 6000, samples = 20, sample_bytes = 1024,
  inputs = user_requests("ULS"),
  step = users:fn "users_request_leaky",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
  },
}

-- The same requests done right, noisy the same way: 48 statements (3 kinds
-- x 16 variants) prepared on first use inside the measured phase and kept
-- in a cache, one statement prepared and finalized and one string
-- formatted and freed per label: the heap fills up and plateaus.
leak.workload "c-users-requests-clean" {
  description = "users_request_clean caches statements and frees labels",
  target = users,
  expect = "clean",
  warmup = 5, iterations = 20000, samples = 30,
  inputs = user_requests("ULS"),
  step = users:fn "users_request_clean",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
  },
}

-- One function, three leaks of ~1.5 KB through three sqlite3 functions
-- (a statement, sqlite3_malloc, sqlite3_mprintf): three sites in `run`;
-- for the fuzzer's signature the function holds all of the growth.
leak.workload "c-users-session-leak" {
  description = "open_session leaks a statement, a buffer and a string",
  target = users,
  expect = { fail = { "heap.live_bytes", "heap.live_allocs" } },
  warmup = 100, iterations = 3000, samples = 20,
  inputs = user_requests("S"),
  step = users:fn "users_session_leaky",
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
  },
}

---------------------------------------------------------------------------
-- 11. A leak in bursts (liblockfree): lost nodes under contention
---------------------------------------------------------------------------

local lockfree = leak.target "build/targets/c/liblockfree.so"

-- Busy periods: 200-iteration blocks picked by a hash of the block number
-- (about 1 in 6, at irregular times), whose events are big (2 KiB) and
-- sleep in the push's window; the rest are small.  Both threads reach a
-- block together (thread t runs iterations t, t+2, ...).
local function lockfree_events(rng, i)
  local h = (i // 200) * 0x9E3779B1 & 0xffffffff
  h = (h ~ (h >> 15)) * 0x85EBCA77 & 0xffffffff
  return (h ~ (h >> 13)) % 6 == 0 and rng:bytes(2048) or rng:bytes(16)
end

-- The defaults, on 2 threads.  About half the pushes of a busy block lose
-- a node (72 B): +6 KiB or so per block, nothing between blocks, and a
-- sawtooth of up to 32 nodes from the drains.  The judged half steps at a
-- busy block and the run is extended; the next block steps again.
leak.workload "c-lockfree-push-leak" {
  description = "lockfree_push_leaky loses its node when the CAS fails",
  target = lockfree,
  expect = { fail = { "heap.live_bytes" } },
  threads = 2,
  inputs = lockfree_events,
  step = lockfree:fn "lockfree_push_leaky",
}

-- The same events, contention and retries (target.lockfree_retries), the
-- node kept for the retry: the sawtooth of the drains only.
leak.workload "c-lockfree-push-clean" {
  description = "lockfree_push_clean retries with the same node",
  target = lockfree,
  expect = "clean",
  threads = 2,
  inputs = lockfree_events,
  step = lockfree:fn "lockfree_push_clean",
}

---------------------------------------------------------------------------
-- 12. SysV shared memory attached and never detached (libsysvshm)
---------------------------------------------------------------------------

local sysvshm = leak.target "build/targets/c/libsysvshm.so"

-- One request in 16 is a SHARE (a 4 KiB segment): 625 segments over the
-- default run, far below the system's 4,096 (kernel.shmmni).
local function shares(rng, i)
  return (i % 16 == 0) and "SHARE" .. rng:bytes(11) or "PING" .. rng:bytes(12)
end

-- +4,096 B and +1 mapping per SHARE: +256 B/iter of mmap.live_bytes; no
-- heap, no mmap call.
leak.workload "c-sysvshm-leak" {
  description = "sysv_region_leaky overwrites its slot without shmdt",
  target = sysvshm,
  expect = { fail = { "mmap.live_bytes" } },
  inputs = shares,
  step = sysvshm:fn "sysv_region_leaky",
}

-- The same segments attached and detached; 64 slots (256 KiB) fill in
-- warmup + 1,000 iterations, in the first half.
leak.workload "c-sysvshm-ring" {
  description = "sysv_region_ring detaches a slot's old segment: 64 at most",
  target = sysvshm,
  expect = "clean",
  inputs = shares,
  step = sysvshm:fn "sysv_region_ring",
  invariants = {
    leak.stable "mmap.live_bytes",
    leak.stable "heap.live_bytes",
    leak.bounded "target.sysv_attached" { max = 64 },
  },
}

---------------------------------------------------------------------------
-- 13. A scratch arena grown to the largest request (libtokenize)
---------------------------------------------------------------------------

local tokenize = leak.target "build/targets/c/libtokenize.so"

-- The arena rises at every new longest input and is reused: a high-water
-- mark, clean.  Fuzzed, the oracle judges its growth clean once per site
-- and size class, not at every new longest input.
leak.workload "c-tokenize-clean-on-seeds" {
  description = "tokenize_clean keeps its arena at the largest request",
  target = tokenize,
  expect = "clean",
  warmup = 100, iterations = 5000, samples = 20,
  inputs = leak.corpus "corpora/tokenize",
  step = function(input) tokenize:call("tokenize_clean", input) end,
  invariants = {
    leak.stable "heap.live_bytes",
    leak.stable "heap.live_allocs",
  },
}

-- The leaky twin on its seeds (no string left open): clean; fuzzed, an
-- unterminated string leaks an arena from the same realloc.
leak.workload "c-tokenize-leaky-on-seeds" {
  description = "tokenize_leaky is clean until a string is left open",
  target = tokenize,
  expect = "clean",
  warmup = 100, iterations = 5000, samples = 20,
  inputs = leak.corpus "corpora/tokenize",
  step = function(input) tokenize:call("tokenize_leaky", input) end,
  invariants = { leak.stable "heap.live_bytes" },
}
